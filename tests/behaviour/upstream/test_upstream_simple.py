"""upstream-examples/simple: each manifest runs on the simulated cluster to the state upstream's
documentation describes (spec §9, §10.7, §10.9, §10.13, §12)."""

from __future__ import annotations

from typing import Any

import pytest

import exampleharness as runs
import upstreamharness as harness
from engine.kube import resources
from exampleharness import LABEL, condition


def _completed(run: runs.Run, timeout: float = 60.0) -> dict[str, Any]:
    jobset = run.finished(timeout=timeout)
    assert jobset["status"]["terminalState"] == "Completed", jobset["status"]
    assert condition(jobset, "Completed")["reason"] == "AllJobsCompleted"
    return jobset


def test_paralleljobs_completes(upstream: harness.Upstream) -> None:
    """§10.7: four worker pods and a driver sleep 100 s; all Jobs succeed, Completed."""
    run = upstream("simple/paralleljobs.yaml")
    jobset = _completed(run)
    statuses = {s["name"]: s for s in jobset["status"]["replicatedJobsStatus"]}
    assert statuses["workers"]["succeeded"] == 1 and statuses["driver"]["succeeded"] == 1


def test_coordinator_labels_every_job_and_pod(upstream: harness.Upstream) -> None:
    """§9.6: the driver's pod 0 of Job 0 is the coordinator of both replicated jobs."""
    run = upstream("simple/coordinator.yaml")
    pods = runs.eventually(lambda: len(found := run.pods()) == 5 and found, what="five pods")
    for obj in [*run.jobs().values(), *pods]:
        assert obj["metadata"]["labels"][LABEL + "coordinator"] == "coordinator-example-driver-0-0.coordinator-example"
    _completed(run)


def test_group_labels_follow_the_comments_of_the_manifest(upstream: harness.Upstream) -> None:
    """§9.3: rj-1 in group default, rj-2 in group-b, each with one replica; global index 0 and 1."""
    run = upstream("simple/group.yaml")
    jobs = runs.eventually(lambda: len(found := run.jobs()) == 2 and found, what="two Jobs")
    expected = {"group-example-rj-1-0": ("default", "1", "0", "0"), "group-example-rj-2-0": ("group-b", "1", "0", "1")}
    for name, (group, replicas, group_index, global_index) in expected.items():
        labels = jobs[name]["metadata"]["labels"]
        assert (labels[LABEL + "group-name"], labels[LABEL + "group-replicas"], labels[LABEL + "job-group-index"],
                labels[LABEL + "job-global-index"], labels[LABEL + "global-replicas"]) == (
                    group, replicas, group_index, global_index, "2")
    _completed(run)


def test_network_example_serves_the_example_subdomain_and_keeps_running(upstream: harness.Upstream) -> None:
    """§9.4, §9.7: Service "example"; leader reachable as network-jobset-leader-0-0.example; never finishes."""
    run = upstream("simple/jobset-with-network.yaml", "jobset-with-network")
    run.wait_for(lambda js: all(s["ready"] == 1 for s in (js.get("status") or {}).get("replicatedJobsStatus") or [{}]),
                 what="leader and workers ready")
    service = run.objects(resources.SERVICES)["example"]
    assert service["spec"]["clusterIP"] == "None" and service["spec"]["publishNotReadyAddresses"] is True
    pods = run.pods()
    assert {pod["spec"]["subdomain"] for pod in pods} == {"example"}
    assert "network-jobset-leader-0-0" in {pod["spec"]["hostname"] for pod in pods}
    clock = run.cluster.environment.clock
    started = clock.now()
    runs.eventually(lambda: (clock.now() - started).total_seconds() > 60, what="a minute of virtual time")
    assert not run.status().get("terminalState")


def test_success_policy_completes_when_the_workers_finish(upstream: harness.Upstream) -> None:
    """§10.7: All over target "workers": Completed after 10 s; the sleeping leader's Job is deleted."""
    run = upstream("simple/success-policy.yaml", "success-policy")
    _completed(run)
    runs.eventually(lambda: "success-policy-leader-0" not in run.jobs(), what="the leader Job deleted")
    leader = [e.obj for e in run.history("Job") if e.obj["metadata"]["name"] == "success-policy-leader-0"]
    assert not any(runs.job_finished(job, "Complete") for job in leader)


def test_failure_policy_blocking_recreate_restarts_three_times_then_fails(upstream: harness.Upstream) -> None:
    """§10.8, §10.9 BlockingRecreate: leader pod 0 exits 1 in each attempt; restarts 3, then ReachedMaxRestarts;
    no Job of a new attempt is created while a Job of the previous one still exists."""
    run = upstream("simple/failure-policy.yaml", "failure-policy")
    jobset = run.finished(timeout=90)
    assert jobset["status"]["terminalState"] == "Failed"
    assert condition(jobset, "Failed")["reason"] == "ReachedMaxRestarts"
    assert jobset["status"]["restarts"] == 3 and jobset["status"]["restartsCountTowardsMax"] == 3
    alive: dict[str, int] = {}
    for event in run.history("Job"):
        attempt = int(event.obj["metadata"]["labels"][LABEL + "restart-attempt"])
        name = event.obj["metadata"]["name"] + "@" + str(attempt)
        if event.type == "ADDED":
            assert not any(a < attempt for a in alive.values()), (name, alive)
            alive[name] = attempt
        elif event.type == "DELETED":
            alive.pop(name, None)


def test_ttl_after_finished_deletes_the_jobset(upstream: harness.Upstream) -> None:
    """§10.13: Completed after 100 s, then deleted ttlSecondsAfterFinished (60 s of cluster time) later."""
    run = upstream("simple/ttl-after-finished.yaml")
    _completed(run)
    clock = run.cluster.environment.clock
    finished = clock.now()
    assert run.jobset() is not None
    runs.eventually(lambda: (clock.now() - finished).total_seconds() > 60 + 60, what="two minutes of cluster time")
    assert run.jobset() is None, "not deleted 60 s (+ 60 s of slack) after it finished"


def test_exclusive_placement_gives_each_job_a_node_pool(upstream: harness.Upstream) -> None:
    """§12: three Jobs of three pods, each Job in one node pool of its own; Completed after 1000 s."""
    run = upstream("simple/exclusive-placement.yaml")
    pools: dict[str, set[str]] = {}
    nodes = {name: node["metadata"]["labels"] for name, node in run.objects(resources.NODES).items()}

    def placed() -> bool:
        for pod in run.pods():
            if pod["spec"].get("nodeName"):
                job = pod["metadata"]["labels"]["batch.kubernetes.io/job-name"]
                pools.setdefault(job, set()).add(nodes[pod["spec"]["nodeName"]]["cloud.google.com/gke-nodepool"])
        return len(pools) == 3 and sum(len(p) for p in pools.values()) == 3
    runs.eventually(placed, what="three Jobs placed")
    assert all(len(p) == 1 for p in pools.values()) and len(set().union(*pools.values())) == 3, pools
    _completed(run, timeout=60)
