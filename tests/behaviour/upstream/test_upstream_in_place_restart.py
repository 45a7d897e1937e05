"""upstream-examples/in-place-restart/*.yaml, with feature gate InPlaceRestart on: the agent of
spec §11.2 runs in every Pod (the real agent code, as the simulated kubelet's container runtime),
one worker fails once, and every Pod is restarted in place (spec §11): same Pods, same Jobs,
restartCount 1, in-place attempt 1, and the JobSet completes with `restarts` 0 as upstream's."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import exampleharness as runs
import upstreamharness as harness
from engine.kube import resources
from engine.localcluster import sim

FEATURE_GATES = {"InPlaceRestart": True}
ATTEMPT = "jobset.sigs.k8s.io/in-place-restart-attempt"
_namespaces = itertools.count(1)


@pytest.fixture
def in_place(cluster: runs.Cluster) -> Iterator[Callable[[str, str], runs.Run]]:
    """Run an upstream manifest on a simulation whose kubelet runs agent containers with the agent."""
    namespace = f"in-place-{next(_namespaces)}"
    cluster.create_namespace(namespace)
    environment = cluster.environment
    server = environment.cluster
    assert server is not None and environment.agents is not None
    started: list[sim.Simulation] = []
    submitted: list[runs.Run] = []

    def run(path: str, scenario: str) -> runs.Run:
        story = sim.load_scenario(harness.SCENARIOS / f"{scenario}.yaml")
        started.append(server.call(sim.start_simulation(server.api, environment.clock, nodes=environment.nodes,
                                                        scenario=story, container_runtime=environment.agents)))
        submitted.append(cluster.submit_document(harness.jobset_document(path), namespace))
        return submitted[-1]
    yield run
    for watched in submitted:
        watched.stop_watching()

    async def stopped() -> None:
        for simulation in started:
            simulation.stop()
        await asyncio.sleep(0)
    server.call(stopped())
    cluster.delete_namespace(namespace)


def _restarted_in_place(run: runs.Run, containers: str) -> dict[str, Any]:
    """§11: the JobSet completes after one in-place restart; Jobs and Pods are the first ones."""
    jobset = run.finished(timeout=90)
    status = jobset["status"]
    assert status["terminalState"] == "Completed", status
    assert status.get("restarts", 0) == 0
    assert (status["currentInPlaceRestartAttempt"], status["previousInPlaceRestartAttempt"]) == (1, 0)
    assert sorted(name for name, _ in run.jobs_created()) == ["js-rj-0", "js-rj-1"]
    pods = run.objects(resources.PODS)
    assert len(pods) == 4, sorted(pods)
    for name, pod in pods.items():
        assert pod["status"]["phase"] == "Succeeded", name
        assert pod["metadata"]["annotations"][ATTEMPT] == "1", name
        counts = {e["name"]: e["restartCount"] for e in pod["status"].get(containers) or []}
        assert counts.get("in-place-restart-agent") == 1, (name, counts)
    return pods


def test_main_container_mode_restarts_every_pod_in_place(in_place: Callable[[str, str], runs.Run]) -> None:
    """§11, §11.2 main-container mode: the failed worker's agent exits with its code (Restart rule),
    the other agents exit with the restart code once previous = 0, all four meet at attempt 1."""
    run = in_place("in-place-restart/jobset-main-container-mode.yaml", "in-place-restart-one-failure")
    _restarted_in_place(run, "containerStatuses")


def test_sidecar_container_mode_restarts_every_pod_in_place(in_place: Callable[[str, str], runs.Run]) -> None:
    """§11, §11.2 sidecar mode: the worker waits for the agent's startup probe; a failure restarts all
    containers of its Pod (RestartAllContainers), then the agents restart the other Pods the same way."""
    run = in_place("in-place-restart/jobset-sidecar-container-mode.yaml", "in-place-restart-one-failure")
    pods = _restarted_in_place(run, "initContainerStatuses")
    for name, pod in pods.items():
        [worker] = pod["status"]["containerStatuses"]
        assert worker["restartCount"] == 1 and worker["state"]["terminated"]["exitCode"] == 0, name
