"""The success policy on the real HTTP API, step by step (spec §10.7, §16.13, §2.5).

The test plays the Job controller; "still running" is asserted once the status counters show
the pass that saw the completions, since counters and the success decision share one status write.
"""

from __future__ import annotations

from typing import Any

import controllerharness as harness
from controllerharness import condition, eventually, jobset_manifest, jobset_where

JOBS = ["sp-driver-0", "sp-workers-0", "sp-workers-1", "sp-workers-2"]


def start(cluster: harness.Cluster, namespace: str, policy: dict[str, Any]) -> None:
    """Create `sp` (driver x1, workers x3) with this success policy and wait for its 4 Jobs."""
    cluster.create_jobset(namespace, jobset_manifest("sp", ("driver", 1), ("workers", 3), successPolicy=policy))
    eventually(lambda: sorted(cluster.jobs(namespace, "sp")) == JOBS, what="4 jobs")


def complete(cluster: harness.Cluster, namespace: str, *names: str) -> None:
    for name in names:
        cluster.complete_job(namespace, name)


def still_running_with(cluster: harness.Cluster, namespace: str, driver: int, workers: int) -> None:
    """Once the counters show these successes, the JobSet is neither Completed nor terminal."""
    jobset = jobset_where(cluster, namespace, "sp", lambda js: {
        rj: c["succeeded"] for rj, c in harness.counters(js).items()} == {"driver": driver, "workers": workers},
        what=f"succeeded driver={driver} workers={workers}")
    assert not condition(jobset, "Completed") and not jobset["status"].get("terminalState")


def completed(cluster: harness.Cluster, namespace: str) -> dict[str, Any]:
    return jobset_where(cluster, namespace, "sp", lambda js: condition(js, "Completed"), what="Completed")


def test_all_without_targets_waits_for_every_replicated_job_section_10_7(cluster: harness.Cluster,
                                                                         namespace: str) -> None:
    """§10.7 (upstream "success policy 'all' with empty replicated jobs list")."""
    start(cluster, namespace, {"operator": "All", "targetReplicatedJobs": []})
    complete(cluster, namespace, "sp-driver-0")
    still_running_with(cluster, namespace, 1, 0)
    complete(cluster, namespace, *JOBS[1:])
    jobset = completed(cluster, namespace)
    assert jobset["status"]["terminalState"] == "Completed"
    assert harness.counters(jobset)["workers"] == {"ready": 0, "succeeded": 3, "failed": 0, "active": 0,
                                                   "suspended": 0}


def test_all_with_targets_ignores_other_replicated_jobs_section_10_7(cluster: harness.Cluster,
                                                                     namespace: str) -> None:
    """§10.7 (upstream "success policy 'all' with replicated jobs specified"): every target Job, no other."""
    start(cluster, namespace, {"operator": "All", "targetReplicatedJobs": ["workers"]})
    complete(cluster, namespace, "sp-driver-0")
    still_running_with(cluster, namespace, 1, 0)
    complete(cluster, namespace, "sp-workers-0")
    still_running_with(cluster, namespace, 1, 1)
    complete(cluster, namespace, "sp-workers-1", "sp-workers-2")
    completed(cluster, namespace)


def test_any_with_targets_needs_one_target_job_section_10_7(cluster: harness.Cluster, namespace: str) -> None:
    """§10.7 (upstream "success policy 'any' with replicated job specified"): a non-target success is not enough."""
    start(cluster, namespace, {"operator": "Any", "targetReplicatedJobs": ["workers"]})
    complete(cluster, namespace, "sp-driver-0")
    still_running_with(cluster, namespace, 1, 0)
    complete(cluster, namespace, "sp-workers-1")
    completed(cluster, namespace)


def test_any_without_targets_completes_and_deletes_the_active_jobs_section_10_7(cluster: harness.Cluster,
                                                                                namespace: str) -> None:
    """§10.7, §8 step 6 (upstream "success policy 'any' without replicated job specified" and "active
    jobs are deleted after jobset succeeds"): one success completes; the active Jobs are deleted, it stays."""
    start(cluster, namespace, {"operator": "Any", "targetReplicatedJobs": []})
    for name in JOBS:
        harness.hold(cluster, namespace, name)
    complete(cluster, namespace, "sp-workers-0")
    jobset = completed(cluster, namespace)
    assert condition(jobset, "Completed")["reason"] == "AllJobsCompleted"
    deleting = eventually(lambda: (jobs := cluster.jobs(namespace, "sp")) and sorted(
        n for n, j in jobs.items() if j["metadata"].get("deletionTimestamp")) == [
        "sp-driver-0", "sp-workers-1", "sp-workers-2"] and jobs, what="the three active jobs deleting")
    assert not deleting["sp-workers-0"]["metadata"].get("deletionTimestamp")
    for name in ("sp-driver-0", "sp-workers-1", "sp-workers-2"):
        harness.release(cluster, namespace, name)
    eventually(lambda: sorted(cluster.jobs(namespace, "sp")) == ["sp-workers-0"], what="only the completed job")


def test_zero_replicas_never_complete_section_16_13(cluster: harness.Cluster, namespace: str) -> None:
    """§16.13 (upstream webhook "zero replicated job replicas are accepted"): admitted, no Jobs,
    zero counters, and nothing ever succeeds, so no Completed."""
    cluster.create_jobset(namespace, jobset_manifest("empty", ("workers", 0)))
    jobset = jobset_where(cluster, namespace, "empty", lambda js: (js.get("status") or {}).get("replicatedJobsStatus"),
                          what="status written")
    harness.quiet()
    jobset = cluster.jobset(namespace, "empty")
    assert harness.counters(jobset) == {"workers": {"ready": 0, "succeeded": 0, "failed": 0, "active": 0,
                                                    "suspended": 0}}
    assert cluster.jobs(namespace, "empty") == {}
    assert not jobset["status"].get("conditions") and not jobset["status"].get("terminalState")


def test_all_over_a_zero_replica_target_completes_at_the_first_success_section_10_7(cluster: harness.Cluster,
                                                                                     namespace: str) -> None:
    """§10.7: with operator All, `expected` sums only the targets' replicas (0 here), and the policy is
    asked once any Job succeeded, so the first success of a non-target Job completes the JobSet."""
    cluster.create_jobset(namespace, jobset_manifest("sp", ("driver", 1), ("spare", 0), successPolicy={
        "operator": "All", "targetReplicatedJobs": ["spare"]}))
    eventually(lambda: sorted(cluster.jobs(namespace, "sp")) == ["sp-driver-0"], what="1 job")
    complete(cluster, namespace, "sp-driver-0")
    assert condition(completed(cluster, namespace), "Completed")["reason"] == "AllJobsCompleted"


def test_success_policy_defaults_to_all_section_5_2(cluster: harness.Cluster, namespace: str) -> None:
    """§5.2, §2.5 (upstream webhook "success policy defaults to all")."""
    cluster.create_jobset(namespace, jobset_manifest("plain", ("workers", 1)))
    policy = cluster.jobset(namespace, "plain")["spec"]["successPolicy"]
    assert policy["operator"] == "All" and not policy.get("targetReplicatedJobs")


def test_success_policy_naming_an_unknown_replicated_job_is_rejected_section_6_1(cluster: harness.Cluster,
                                                                                 namespace: str) -> None:
    """§6.1 (upstream webhook "success policy with invalid replicatedJob name is rejected")."""
    manifest = jobset_manifest("typo", ("workers", 1),
                               successPolicy={"operator": "All", "targetReplicatedJobs": ["does-not-exist"]})
    error = harness.rejected(lambda: cluster.create_jobset(namespace, manifest))
    assert error.status == 422
    assert "invalid replicatedJob name 'does-not-exist' does not appear in .spec.ReplicatedJobs" in error.body


def test_success_and_failure_policies_are_immutable_section_6_2(cluster: harness.Cluster, namespace: str) -> None:
    """§6.2 (upstream webhook "SuccessPolicy should be immutable", "FailurePolicy should be immutable")."""
    cluster.create_jobset(namespace, jobset_manifest("fixed", ("workers", 1), failurePolicy={"maxRestarts": 3}))
    changes = {"successPolicy": {"operator": "Any"}, "failurePolicy": {"maxRestarts": 21}}
    for field, value in changes.items():
        def change(jobset: dict[str, Any], field: str = field, value: Any = value) -> None:
            jobset["spec"][field] = value
        error = harness.rejected(lambda: harness.update_jobset(cluster, namespace, "fixed", change))
        assert error.status in (400, 422) and f"spec.{field}" in error.body, error.body
