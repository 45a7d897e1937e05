"""Global restarts with the RestartJob feature gate off, on the real HTTP API (spec §10.8, §10.9, §6.1 V-16).

This module brings up its own installation, with no feature gate, instead of the shared one.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import controllerharness as harness
from controllerharness import condition, eventually, jobset_manifest, jobset_where

JOBSET = "jobset.sigs.k8s.io/"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[harness.Cluster]:
    with harness.installation(tmp_path_factory.mktemp("gates-off"), {}) as installed:
        yield installed


def start(cluster: harness.Cluster, namespace: str, rule: dict[str, object]) -> None:
    """`ng` (driver x1, workers x2), maxRestarts 1, `rule` for PodFailurePolicy then a catch-all FailJobSet."""
    cluster.create_jobset(namespace, jobset_manifest("ng", ("driver", 1), ("workers", 2), failurePolicy={
        "maxRestarts": 1, "rules": [{"name": "retry", "onJobFailureReasons": ["PodFailurePolicy"], **rule},
                                    {"name": "stop", "action": "FailJobSet"}]}))
    harness.wait_for_attempt(cluster, namespace, "ng", 0, 3)


def test_restart_jobset_without_the_gate_keeps_no_per_job_state_section_10_9(cluster: harness.Cluster,
                                                                             namespace: str) -> None:
    """§10.9, §9.3 (upstream "RestartJobSet failure policy action (without RestartJob feature gate)"):
    both global counters +1, no jobRestarts lists, no job-restart-attempt label on the new Jobs."""
    start(cluster, namespace, {"action": "RestartJobSet"})
    cluster.fail_job(namespace, "ng-workers-0", reason="PodFailurePolicy", message="pod failed")
    jobs = harness.wait_for_attempt(cluster, namespace, "ng", 1, 3)
    assert all(JOBSET + "job-restart-attempt" not in job["metadata"]["labels"] for job in jobs.values())
    status = cluster.jobset(namespace, "ng")["status"]
    assert status["restarts"] == 1 and status["restartsCountTowardsMax"] == 1
    assert all("jobRestarts" not in e and "jobRestartsCountTowardsMax" not in e for e in status["replicatedJobsStatus"])


def test_restart_ignoring_max_restarts_without_the_gate_section_10_8(cluster: harness.Cluster,
                                                                     namespace: str) -> None:
    """§10.8 (upstream "RestartJobSetAndIgnoreMaxRestarts ... (without RestartJob feature gate)"): past
    maxRestarts 1 with restartsCountTowardsMax never written; another reason hits the catch-all FailJobSet."""
    start(cluster, namespace, {"action": "RestartJobSetAndIgnoreMaxRestarts"})
    for attempt in (1, 2):
        cluster.fail_job(namespace, "ng-driver-0", reason="PodFailurePolicy", message="pod failed")
        harness.wait_for_attempt(cluster, namespace, "ng", attempt, 3)
    status = cluster.jobset(namespace, "ng")["status"]
    assert status["restarts"] == 2 and "restartsCountTowardsMax" not in status
    cluster.fail_job(namespace, "ng-workers-1")
    jobset = jobset_where(cluster, namespace, "ng", lambda js: condition(js, "Failed"), what="Failed")
    assert condition(jobset, "Failed")["reason"] == "FailJobSetFailurePolicyAction"
    assert jobset["status"]["restarts"] == 2


@pytest.mark.parametrize("action", ["RestartJob", "RestartJobAndIgnoreMaxRestarts"])
def test_per_job_restart_actions_are_rejected_without_the_gate_section_6_1(cluster: harness.Cluster, namespace: str,
                                                                           action: str) -> None:
    """§6.1 V-16, §2.6: the RestartJob actions need the gate; admission says so."""
    manifest = jobset_manifest("ng", ("workers", 1), failurePolicy={"rules": [{"name": "one", "action": action}]})
    error = harness.rejected(lambda: cluster.create_jobset(namespace, manifest))
    assert error.status == 422 and "RestartJob feature gate is disabled" in error.body, error.body
    assert eventually(lambda: cluster.jobs(namespace, "ng") == {}, what="no jobs")


def test_a_rule_never_applies_to_a_job_without_a_replicated_job_label_section_10_8(cluster: harness.Cluster,
                                                                                   namespace: str) -> None:
    """§10.8: a rule applies only to Jobs with a replicatedjob-name label. An owned Job without one
    fails; neither rule applies (not even the catch-all FailJobSet), so the default RestartJobSet runs."""
    start(cluster, namespace, {"action": "RestartJobSet"})
    owner = cluster.jobset(namespace, "ng")["metadata"]
    cluster.batch.create_namespaced_job(namespace, {
        "metadata": {"name": "ng-stray", "labels": {JOBSET + "jobset-name": "ng", JOBSET + "restart-attempt": "0"},
                     "ownerReferences": [{"apiVersion": f"{harness.GROUP}/{harness.VERSION}", "kind": "JobSet",
                                          "name": "ng", "uid": owner["uid"], "controller": True}]},
        "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "main", "image": "busybox"}]}}}})
    cluster.fail_job(namespace, "ng-stray")
    jobset = jobset_where(cluster, namespace, "ng", lambda js: js["status"]["restarts"] == 1, what="restart")
    restarting = condition(jobset, "RestartingJobSet")
    assert (restarting["reason"], restarting["message"]) == (
        "DefaultFailurePolicy", "applying RestartJobSet failure policy action (first failed job: ng-stray)")
    assert not condition(jobset, "Failed")
