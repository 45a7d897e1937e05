"""Crash safety (docs/crash-safety.md): the controller is killed at random points during a restart
of a 200-Job JobSet, 20 times; each time a fresh process converges with exactly one Job per name,
every Job of the current attempt, and the restart counted once (spec §10.8, §10.9).

The API server runs in this process; the controller is a separate `jobset controller` process
killed with SIGKILL. The test plays the Job controller: it fails one Job to start each restart.
"""

from __future__ import annotations

import json
import pathlib
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from engine.lint import pipeline
from engine.localcluster import server as localserver

ROOT = pathlib.Path(__file__).resolve().parents[3]
REPLICAS = 200
KILLS = 20
NAME = "crashy"


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


def start_controller(kubeconfig: pathlib.Path, workdir: pathlib.Path) -> subprocess.Popen[bytes]:
    config = workdir / "config.yaml"
    config.write_text(yaml.safe_dump({
        "apiVersion": "config.jobset.x-k8s.io/v1alpha1", "kind": "Configuration",
        "leaderElection": {"leaderElect": False}, "health": {"healthProbeBindAddress": "0"},
        "metrics": {"bindAddress": "0"}, "webhook": {"port": 0, "certDir": str(workdir / "certs")}}))
    return subprocess.Popen([sys.executable, "-m", "engine.cli.main", "controller", "--kubeconfig", str(kubeconfig),
                             "--config", str(config), "--zap-log-level", "info"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=(workdir / "controller.log").open("ab"))


def jobs(server: localserver.RunningServer) -> list[dict[str, Any]]:
    return server.call(server.api.list("batch/v1/jobs", "default"))


def jobset(server: localserver.RunningServer) -> dict[str, Any]:
    return server.call(server.api.get("jobset.x-k8s.io/v1alpha2/jobsets", "default", NAME))


def fail(server: localserver.RunningServer, job: dict[str, Any]) -> None:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    status = {"startTime": stamp, "failed": 1, "conditions": [
        {"type": "FailureTarget", "status": "True", "reason": "BackoffLimitExceeded", "message": "m",
         "lastTransitionTime": stamp},
        {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded", "message": "m",
         "lastTransitionTime": stamp}]}
    server.call(server.api.patch("batch/v1/jobs", "default", job["metadata"]["name"], {"status": status},
                                 patch_type="application/merge-patch+json", subresource="status"))


def converged(server: localserver.RunningServer, restarts: int) -> bool:
    """One live Job per index, all of attempt `restarts`, and status.restarts == `restarts`."""
    if (jobset(server).get("status") or {}).get("restarts") != restarts:
        return False
    found = jobs(server)
    names = [job["metadata"]["name"] for job in found]
    attempts = {job["metadata"]["labels"]["jobset.sigs.k8s.io/restart-attempt"] for job in found}
    return (sorted(names) == sorted(f"{NAME}-w-{i}" for i in range(REPLICAS)) and attempts == {str(restarts)}
            and not any(job["metadata"].get("deletionTimestamp") for job in found))


def describe(server: localserver.RunningServer) -> str:
    """What the cluster looks like, for a failure message."""
    found = jobs(server)
    attempts: dict[str, int] = {}
    for job in found:
        attempt = job["metadata"]["labels"]["jobset.sigs.k8s.io/restart-attempt"]
        attempts[attempt] = attempts.get(attempt, 0) + 1
    deleting = sum(bool(job["metadata"].get("deletionTimestamp")) for job in found)
    failed = sum(any(c["type"] == "Failed" for c in (job.get("status") or {}).get("conditions") or []) for job in found)
    status = jobset(server).get("status") or {}
    return (f"{len(found)} jobs by attempt {attempts}, {deleting} deleting, {failed} failed; "
            f"restarts {status.get('restarts')}, conditions {[(c['type'], c['status']) for c in status.get('conditions', [])]}")


def wait(predicate: Any, timeout: float, what: str, server: localserver.RunningServer) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}: {describe(server)}")


def test_killed_controller_converges_without_duplicates_or_double_counting(
        cluster: tuple[localserver.RunningServer, pathlib.Path], tmp_path: pathlib.Path) -> None:
    server, kubeconfig = cluster
    manifest = {"apiVersion": "jobset.x-k8s.io/v1alpha2", "kind": "JobSet",
                "metadata": {"name": NAME, "namespace": "default"},
                "spec": {"failurePolicy": {"maxRestarts": KILLS + 5}, "replicatedJobs": [
                    {"name": "w", "replicas": REPLICAS, "template": {"spec": {"template": {"spec": {
                        "containers": [{"name": "c", "image": "busybox"}]}}}}}]}}
    defaulted = pipeline.Checker(feature_gates={}).check(manifest)
    assert defaulted.valid, defaulted.findings
    server.call(server.api.create("jobset.x-k8s.io/v1alpha2/jobsets", json.loads(json.dumps(defaulted.defaulted)),
                                  namespace="default"))
    rng = random.Random(20261129)
    interrupted = 0
    controller = start_controller(kubeconfig, tmp_path)
    try:
        wait(lambda: converged(server, 0), 120, "the first 200 Jobs", server)
        for restart in range(1, KILLS + 1):
            fail(server, rng.choice(jobs(server)))
            time.sleep(rng.uniform(0.0, 1.5))          # somewhere inside the restart: deciding, deleting, creating
            controller.kill()
            controller.wait()
            interrupted += not converged(server, restart)
            controller = start_controller(kubeconfig, tmp_path)
            wait(lambda: converged(server, restart), 120, f"convergence after kill {restart}", server)
            assert (jobset(server).get("status") or {}).get("restartsCountTowardsMax") == restart
        assert interrupted >= KILLS // 2, f"only {interrupted} of {KILLS} kills landed inside a restart"
    finally:
        controller.kill()
        controller.wait()
