"""The simulation behind the real HTTP API: the python client and kubectl see Jobs run to
completion on the server started by `server.start_in_thread` (embedded-apiserver.md §5.5)."""

from __future__ import annotations

import pathlib
import subprocess
import time
from typing import Iterator

import pytest
from kubernetes import client as k8s_client, config as k8s_config

from engine.localcluster import clock as clocks, server
from engine.localcluster import sim

ROOT = pathlib.Path(__file__).resolve().parents[3]
KUBECTL = ROOT / ".venv" / "bin" / "kubectl"


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[server.RunningServer]:
    clock = clocks.VirtualClock(speed=50)
    cluster = server.start_in_thread(clock=clock)
    cluster.kubeconfig = cluster.write_kubeconfig(  # type: ignore[attr-defined]
        tmp_path_factory.mktemp("kube") / "config")
    simulation = cluster.call(sim.start_simulation(cluster.api, clock, nodes=sim.default_nodes()))
    yield cluster
    cluster.loop.call_soon_threadsafe(simulation.stop)
    cluster.stop()


@pytest.fixture(scope="module")
def batch(running: server.RunningServer) -> Iterator[k8s_client.BatchV1Api]:
    configuration = k8s_client.Configuration()
    k8s_config.load_kube_config(config_file=str(running.kubeconfig),  # type: ignore[attr-defined]
                                client_configuration=configuration)
    with k8s_client.ApiClient(configuration) as api_client:
        yield k8s_client.BatchV1Api(api_client)


def job_body(name: str) -> dict[str, object]:
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
            "spec": {"completionMode": "Indexed", "completions": 2, "parallelism": 2,
                     "template": {"spec": {"restartPolicy": "Never", "containers": [
                         {"name": "main", "image": "busybox", "command": ["sleep", "10"]}]}}}}


def test_python_client_sees_an_indexed_job_complete(batch: k8s_client.BatchV1Api) -> None:
    batch.create_namespaced_job("default", job_body("via-client"))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status = batch.read_namespaced_job_status("via-client", "default").status
        if status and status.conditions and any(c.type == "Complete" for c in status.conditions):
            break
        time.sleep(0.05)
    assert status is not None and status.succeeded == 2 and status.completed_indexes == "0,1"
    assert [(c.type, c.status, c.reason) for c in status.conditions] == [
        ("SuccessCriteriaMet", "True", "CompletionsReached"),
        ("Complete", "True", "CompletionsReached")]


def test_kubectl_waits_for_the_simulated_job(running: server.RunningServer,
                                             tmp_path: pathlib.Path,
                                             batch: k8s_client.BatchV1Api) -> None:
    batch.create_namespaced_job("default", job_body("via-kubectl"))
    done = subprocess.run(
        [str(KUBECTL), "--kubeconfig", str(running.kubeconfig),  # type: ignore[attr-defined]
         "--cache-dir", str(tmp_path / "cache"), "wait", "--for=condition=complete",
         "--timeout=30s", "job/via-kubectl"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "job.batch/via-kubectl condition met"
