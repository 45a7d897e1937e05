"""Crash safety (docs/crash-safety.md): the controller is killed at random points during a restart
of a 200-Job JobSet, 20 times; each time a fresh process converges with exactly one Job per name,
every Job of the current attempt, and the restart counted once (spec §10.8, §10.9).

The API server runs in this process; the controller is a separate `jobset controller` process
killed with SIGKILL, started from a snapshot of the source tree taken when the test starts
(`crashharness`), so edits made to the working tree meanwhile cannot stop a fresh process. The
test plays the Job controller: it fails one Job to start each restart.
"""

from __future__ import annotations

import json
import pathlib
import random
import time
from collections.abc import Iterator

import pytest
import yaml

from crashharness import NAME, Controller, converged, fail, jobs, jobset, snapshot, wait
from engine.lint import pipeline
from engine.localcluster import server as localserver

ROOT = pathlib.Path(__file__).resolve().parents[3]
REPLICAS = 200
KILLS = 20


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[localserver.RunningServer, pathlib.Path]]:
    running = localserver.start_in_thread()
    workdir = tmp_path_factory.mktemp("crash")
    kubeconfig = running.write_kubeconfig(workdir / "kubeconfig")
    crd = yaml.safe_load((ROOT / "deploy" / "crd" / "jobset.x-k8s.io_jobsets.yaml").read_text())
    running.call(running.api.create("apiextensions.k8s.io/v1/customresourcedefinitions", crd))
    running.call(running.api.create("v1/namespaces", {"metadata": {"name": "jobset-system"}}))  # its own namespace
    try:
        yield running, kubeconfig
    finally:
        running.stop()


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """The controller's code and packs as they are when the module starts."""
    return snapshot(tmp_path_factory.mktemp("source"))


def create_jobset(server: localserver.RunningServer, replicas: int, max_restarts: int) -> None:
    """The JobSet under test, defaulted as the webhook would."""
    manifest = {"apiVersion": "jobset.x-k8s.io/v1alpha2", "kind": "JobSet",
                "metadata": {"name": NAME, "namespace": "default"},
                "spec": {"failurePolicy": {"maxRestarts": max_restarts}, "replicatedJobs": [
                    {"name": "w", "replicas": replicas, "template": {"spec": {"template": {"spec": {
                        "containers": [{"name": "c", "image": "busybox"}]}}}}}]}}
    defaulted = pipeline.Checker(feature_gates={}).check(manifest)
    assert defaulted.valid, defaulted.findings
    server.call(server.api.create("jobset.x-k8s.io/v1alpha2/jobsets", json.loads(json.dumps(defaulted.defaulted)),
                                  namespace="default"))


def test_killed_controller_converges_without_duplicates_or_double_counting(
        cluster: tuple[localserver.RunningServer, pathlib.Path], source: pathlib.Path, tmp_path: pathlib.Path) -> None:
    server, kubeconfig = cluster
    create_jobset(server, REPLICAS, KILLS + 5)
    rng = random.Random(20261129)
    interrupted = 0
    controller = Controller(source, kubeconfig, tmp_path)
    controller.start()
    try:
        wait(lambda: converged(server, 0, REPLICAS), 120, "the first 200 Jobs", server, controller)
        for restart in range(1, KILLS + 1):
            fail(server, rng.choice(jobs(server)))
            time.sleep(rng.uniform(0.0, 1.5))          # somewhere inside the restart: deciding, deleting, creating
            controller.kill()
            interrupted += not converged(server, restart, REPLICAS)
            controller.start()
            wait(lambda: converged(server, restart, REPLICAS), 120, f"convergence after kill {restart}", server,
                 controller)
            assert (jobset(server).get("status") or {}).get("restartsCountTowardsMax") == restart
        assert interrupted >= KILLS // 2, f"only {interrupted} of {KILLS} kills landed inside a restart"
    finally:
        controller.kill()


def test_a_controller_that_cannot_load_its_packs_fails_the_wait_at_once_with_its_log(
        cluster: tuple[localserver.RunningServer, pathlib.Path], tmp_path: pathlib.Path) -> None:
    """The stall of issue #4: a pack caught half-written when a process starts makes `jobset controller`
    exit 2; the harness reports that exit and the rejected file within seconds, not after 120 s."""
    server, kubeconfig = cluster
    broken = snapshot(tmp_path / "source")
    pack = broken / "rules" / "jobset-construct" / "pack.yaml"
    text = pack.read_text()
    pack.write_text(text[:text.index("\n", len(text) // 2)] + "\n    when: '")  # the writer stopped mid-string
    controller = Controller(broken, kubeconfig, tmp_path)
    controller.start()
    started = time.monotonic()
    try:
        with pytest.raises(AssertionError) as failure:
            wait(lambda: False, 120, "anything", server, controller)
    finally:
        controller.kill()
    assert time.monotonic() - started < 60
    assert "exited with code 2" in str(failure.value)
    assert "rule packs rejected" in str(failure.value) and "jobset-construct/pack.yaml" in str(failure.value)
