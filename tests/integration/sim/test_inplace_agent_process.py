"""`jobset in-place-restart-agent` as a process against the embedded API server (spec §11.2).

The test plays the JobSet controller: it writes the JobSet's in-place attempts to its status
and reads the Pod annotation the agent writes. No simulation runs, so nothing else touches
the Pod or the JobSet.
"""

from __future__ import annotations

import itertools
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import yaml

from engine.agent import settings
from engine.localcluster import server as localserver

ROOT = pathlib.Path(__file__).resolve().parents[3]
JOBSETS = "jobset.x-k8s.io/v1alpha2/jobsets"
ATTEMPT = "jobset.sigs.k8s.io/in-place-restart-attempt"
_names = itertools.count(1)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[localserver.RunningServer, pathlib.Path]]:
    running = localserver.start_in_thread()
    kubeconfig = running.write_kubeconfig(tmp_path_factory.mktemp("agent") / "kubeconfig")
    crd = yaml.safe_load((ROOT / "deploy" / "crd" / "jobset.x-k8s.io_jobsets.yaml").read_text())
    running.call(running.api.create("apiextensions.k8s.io/v1/customresourcedefinitions", crd))
    try:
        yield running, kubeconfig
    finally:
        running.stop()


class World:
    """One JobSet and one Pod of it, plus the agent processes started for them."""

    def __init__(self, server: localserver.RunningServer, kubeconfig: pathlib.Path, name: str) -> None:
        self.server, self.kubeconfig, self.name = server, kubeconfig, name
        self.processes: list[subprocess.Popen[str]] = []

    def create(self, *, strategy: str | None = "InPlaceRestart", annotations: dict[str, str] | None = None) -> None:
        spec: dict[str, Any] = {"replicatedJobs": [{"name": "rj", "template": {"spec": {"template": {"spec": {
            "restartPolicy": "Never", "containers": [{"name": "agent", "image": "agent"}]}}}}}]}
        if strategy:
            spec["failurePolicy"] = {"maxRestarts": 3, "restartStrategy": strategy}
        self.server.call(self.server.api.create(JOBSETS, {
            "apiVersion": "jobset.x-k8s.io/v1alpha2", "kind": "JobSet",
            "metadata": {"name": self.name, "namespace": "default", "annotations": annotations or {}}, "spec": spec}))
        self.server.call(self.server.api.create("v1/pods", {
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"{self.name}-pod", "namespace": "default"},
            "spec": {"containers": [{"name": "agent", "image": "agent"}]}}))

    def status(self, **attempts: int) -> None:
        """Write current/previous in-place attempts to the JobSet's status."""
        jobset = self.server.call(self.server.api.get(JOBSETS, "default", self.name))
        jobset["status"] = {f"{key}InPlaceRestartAttempt": value for key, value in attempts.items()}
        self.server.call(self.server.api.update(JOBSETS, jobset, subresource="status"))

    def pod(self) -> dict[str, Any]:
        return self.server.call(self.server.api.get("v1/pods", "default", f"{self.name}-pod"))

    def attempt(self) -> str | None:
        return (self.pod()["metadata"].get("annotations") or {}).get(ATTEMPT)

    def agent(self, namespace: str | None = "default", **env: str) -> subprocess.Popen[str]:
        """Start the agent for this world's Pod, with `env` on top of the test's environment."""
        environ = {key: value for key, value in os.environ.items() if key != "KUBECONFIG"}
        environ.update({"JOBSET_NAME": self.name, "POD_NAME": f"{self.name}-pod", **env})
        flags = ["--namespace", namespace] if namespace else []
        process = subprocess.Popen([sys.executable, "-m", "engine.cli.main", "in-place-restart-agent",
                                    "--kubeconfig", str(self.kubeconfig), *flags],
                                   cwd=ROOT, env=environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.processes.append(process)
        return process


@pytest.fixture
def world(cluster: tuple[localserver.RunningServer, pathlib.Path]) -> Iterator[World]:
    found = World(cluster[0], cluster[1], f"js-{next(_names)}")
    yield found
    for process in found.processes:
        if process.poll() is None:
            process.kill()
        process.wait()
        if process.stdout is not None and not process.stdout.closed:
            process.stdout.close()


def _until(check: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _exit_code(process: subprocess.Popen[str], timeout: float = 60.0) -> int:
    try:
        return process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        raise AssertionError(f"the agent did not exit: {process.communicate()[0][-2000:]}") from None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _probe(port: int, path: str) -> int | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def test_section_11_2_main_mode_annotates_waits_then_runs_the_worker(world: World) -> None:
    """§11.2 steps 2 and 4: attempt 0 written by server-side apply (forced, own field manager); the
    worker starts only once current == 0, and the agent exits with the worker's code."""
    world.create()
    process = world.agent(WORKER_COMMAND="echo worker-ran; exit 7")
    _until(lambda: world.attempt() == "0", "attempt 0 on the Pod")
    managers = {entry["manager"] for entry in world.pod()["metadata"].get("managedFields") or []}
    assert "in-place-restart-agent" in managers
    time.sleep(0.5)
    assert process.poll() is None  # held at the barrier
    world.status(current=0)
    assert _exit_code(process) == 7
    assert "worker-ran" in process.communicate()[0]


def test_section_11_2_outdated_attempt_exits_with_the_restart_code(world: World) -> None:
    """§11.2 step 3: mine (0) <= previous (0) exits with IN_PLACE_RESTART_EXIT_CODE."""
    world.create()
    process = world.agent(WORKER_COMMAND="sleep 60", IN_PLACE_RESTART_EXIT_CODE="42")
    _until(lambda: world.attempt() == "0", "attempt 0 on the Pod")
    world.status(current=0)
    time.sleep(0.3)
    world.status(current=0, previous=0)
    assert _exit_code(process) == 42


def test_section_11_2_restarted_agent_writes_current_plus_one(world: World) -> None:
    """§11.2 step 2 after a restart: current 0, previous 0 => attempt 1, no exit, no lift."""
    world.create()
    world.status(current=0, previous=0)
    process = world.agent(WORKER_COMMAND="exit 5")
    _until(lambda: world.attempt() == "1", "attempt 1 on the Pod")
    time.sleep(0.5)
    assert process.poll() is None
    world.status(current=1, previous=0)
    assert _exit_code(process) == 5


def test_section_11_2_sidecar_mode_serves_the_probe_once_lifted_and_exits_143_on_sigterm(world: World) -> None:
    """§11.2 sidecar mode: the probe path answers 200 only after the barrier is lifted; SIGTERM => 128 + 15."""
    world.create()
    port = _free_port()
    process = world.agent(STARTUP_PROBE_PORT=str(port), STARTUP_PROBE_PATH="/ready")
    _until(lambda: world.attempt() == "0", "attempt 0 on the Pod")
    assert _probe(port, "/ready") is None
    world.status(current=0)
    assert _until(lambda: _probe(port, "/ready") == 200, "the startup probe")
    assert _probe(port, "/elsewhere") == 404
    process.send_signal(signal.SIGTERM)
    assert _exit_code(process) == 128 + signal.SIGTERM


@pytest.mark.parametrize(("strategy", "annotations"), [
    ("InPlaceRestart", {"jobset.sigs.k8s.io/disable-in-place-restart": "true"}), ("Recreate", None)],
    ids=["disable annotation", "Recreate"])
def test_section_11_2_bypass_runs_the_worker_at_once_without_annotating(
        world: World, strategy: str, annotations: dict[str, str] | None) -> None:
    """§11.2 step 1: an opted-out JobSet lifts the barrier straight away; the Pod is not annotated."""
    world.create(strategy=strategy, annotations=annotations)
    process = world.agent(WORKER_COMMAND="exit 3")
    assert _exit_code(process) == 3
    assert world.attempt() is None


def test_section_11_2_startup_errors_exit_1(world: World) -> None:
    """§11.2: no JOBSET_NAME, WORKER_COMMAND with a probe variable, a non-integer exit code, and no
    namespace file (nor --namespace) are startup errors: exit 1 with a message (run side by side; the
    last case only where no service-account namespace file exists, that is outside a Pod)."""
    cases = [(world.agent(JOBSET_NAME=""), "JOBSET_NAME must be set"),
             (world.agent(WORKER_COMMAND="true", STARTUP_PROBE_PORT="9"), "cannot be set with"),
             (world.agent(IN_PLACE_RESTART_EXIT_CODE="x"), "is not an integer")]
    if not settings.NAMESPACE_FILE.exists():
        cases.append((world.agent(namespace=None), "namespace file"))
    for process, message in cases:
        assert _exit_code(process) == 1
        output = process.communicate()[0]
        assert "in-place-restart-agent: " in output and message in output, output
