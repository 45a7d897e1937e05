"""Restart mechanics on the real HTTP API, step by step (spec §10.9, §16.7, §16.8).

Old Jobs get a finalizer of the test before a restart, so their deletion stays visible and
the test decides, Job by Job, when each old object is gone.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

import controllerharness as harness
from controllerharness import condition, eventually, jobset_manifest, jobset_where

JOBSET = "jobset.sigs.k8s.io/"
JOBS = ["rs-driver-0", "rs-workers-0", "rs-workers-1", "rs-workers-2"]


def start_held(cluster: harness.Cluster, namespace: str, strategy: str) -> None:
    """`rs` (driver x1, workers x3), maxRestarts 1 with `strategy`; every Job held by our finalizer."""
    cluster.create_jobset(namespace, jobset_manifest("rs", ("driver", 1), ("workers", 3), failurePolicy={
        "maxRestarts": 1, "restartStrategy": strategy}))
    eventually(lambda: sorted(cluster.jobs(namespace, "rs")) == JOBS, what="4 jobs")
    for name in JOBS:
        harness.hold(cluster, namespace, name)


def restart_and_wait_for_deletions(cluster: harness.Cluster, namespace: str) -> None:
    """Fail one Job; wait for restarts=1 and for all four old Jobs to carry a deletionTimestamp."""
    cluster.fail_job(namespace, "rs-driver-0", reason="PodFailurePolicy", message="pod failed")
    jobset_where(cluster, namespace, "rs", lambda js: js["status"]["restarts"] == 1, what="restarts=1")
    eventually(lambda: all(j["metadata"].get("deletionTimestamp") for j in cluster.jobs(namespace, "rs").values()),
               what="every old job deleting")


def test_recreate_creates_each_job_again_as_soon_as_its_old_object_is_gone_section_16_8(
        cluster: harness.Cluster, namespace: str) -> None:
    """§10.9, §16.8 (upstream "jobs are restarted individually with Recreate strategy")."""
    start_held(cluster, namespace, "Recreate")
    restart_and_wait_for_deletions(cluster, namespace)
    for name in JOBS[1:]:
        harness.release(cluster, namespace, name)
    eventually(lambda: harness.jobs_by_attempt(cluster, namespace, "rs") == {0: 1, 1: 3}, what="3 of 4 recreated")
    assert cluster.jobs(namespace, "rs")["rs-driver-0"]["metadata"]["labels"][JOBSET + "restart-attempt"] == "0"
    harness.release(cluster, namespace, "rs-driver-0")
    jobs = harness.wait_for_attempt(cluster, namespace, "rs", 1, 4)
    template_labels = jobs["rs-driver-0"]["spec"]["template"]["metadata"]["labels"]
    assert template_labels[JOBSET + "restart-attempt"] == "1"


def test_blocking_recreate_creates_nothing_until_every_old_job_is_gone_section_16_8(
        cluster: harness.Cluster, namespace: str) -> None:
    """§10.9, §16.8 (upstream "jobs are recreated after all Jobs are deleted with BlockingRecreate");
    §10.3, §10.9: Jobs of the old attempt count nowhere while they are being deleted, and their
    failures start no second restart."""
    start_held(cluster, namespace, "BlockingRecreate")
    restart_and_wait_for_deletions(cluster, namespace)
    cluster.fail_job(namespace, "rs-workers-1")
    for name in JOBS[1:]:
        harness.release(cluster, namespace, name)
    eventually(lambda: sorted(cluster.jobs(namespace, "rs")) == ["rs-driver-0"], what="3 old jobs gone")
    harness.quiet()
    assert harness.jobs_by_attempt(cluster, namespace, "rs") == {0: 1}
    jobset = cluster.jobset(namespace, "rs")
    zero = {"ready": 0, "succeeded": 0, "failed": 0, "active": 0, "suspended": 0}
    assert harness.counters(jobset) == {"driver": zero, "workers": zero}
    assert jobset["status"]["restarts"] == 1 and not condition(jobset, "Failed")
    harness.release(cluster, namespace, "rs-driver-0")
    harness.wait_for_attempt(cluster, namespace, "rs", 1, 4)


def per_job(cluster: harness.Cluster, namespace: str, rule: dict[str, Any], max_restarts: int) -> None:
    """`rs` with one replicated job `workers` x2 and a single failure policy rule."""
    cluster.create_jobset(namespace, jobset_manifest("rs", ("workers", 2), failurePolicy={
        "maxRestarts": max_restarts, "rules": [rule]}))
    eventually(lambda: len(harness.restart_attempts(cluster, namespace, "rs")) == 2, what="2 jobs")


def job_attempt(cluster: harness.Cluster, namespace: str, name: str, attempt: int) -> dict[str, Any]:
    """The live Job `name` once its job-restart-attempt label is `attempt`."""
    return eventually(lambda: (job := cluster.jobs(namespace, "rs").get(name))
                      and not job["metadata"].get("deletionTimestamp")
                      and job["metadata"]["labels"].get(JOBSET + "job-restart-attempt") == str(attempt) and job,
                      what=f"{name} at job-restart-attempt {attempt}")


def test_restart_job_spends_the_budget_then_reaches_max_restarts_section_10_8(cluster: harness.Cluster,
                                                                              namespace: str) -> None:
    """§10.8, §10.9, §10.5: RestartJob counts in jobRestartsCountTowardsMax, raises its event, never
    touches restarts nor RestartingJobSet; at the budget the next failure is ReachedMaxRestarts."""
    per_job(cluster, namespace, {"name": "one", "action": "RestartJob"}, 1)
    cluster.fail_job(namespace, "rs-workers-1")
    job_attempt(cluster, namespace, "rs-workers-1", 1)
    jobset = cluster.jobset(namespace, "rs")
    workers = harness.replicated_status(jobset, "workers")
    assert workers["jobRestarts"] == [0, 1] and workers["jobRestartsCountTowardsMax"] == [0, 1]
    assert jobset["status"]["restarts"] == 0 and not condition(jobset, "RestartingJobSet")
    assert ("Warning", "RestartJobFailurePolicyAction",
            "applying RestartJob failure policy action (first failed job: rs-workers-1)") in \
        harness.recorded(cluster, namespace, "rs", "RestartJobFailurePolicyAction")
    cluster.fail_job(namespace, "rs-workers-1")
    jobset = jobset_where(cluster, namespace, "rs", lambda js: condition(js, "Failed"), what="Failed")
    assert condition(jobset, "Failed")["reason"] == "ReachedMaxRestarts"
    assert condition(jobset, "Failed")["message"] == \
        "jobset failed due to reaching max number of restarts (first failed job: rs-workers-1)"


def test_restart_job_ignoring_max_restarts_counts_only_job_restarts_section_16_7(cluster: harness.Cluster,
                                                                                namespace: str) -> None:
    """§16.7, §10.9 table: RestartJobAndIgnoreMaxRestarts past maxRestarts 1; the counted list stays absent."""
    per_job(cluster, namespace, {"name": "free", "action": "RestartJobAndIgnoreMaxRestarts"}, 1)
    for attempt in (1, 2):
        cluster.fail_job(namespace, "rs-workers-0")
        job_attempt(cluster, namespace, "rs-workers-0", attempt)
    jobset = cluster.jobset(namespace, "rs")
    workers = harness.replicated_status(jobset, "workers")
    assert workers["jobRestarts"] == [2, 0] and "jobRestartsCountTowardsMax" not in workers
    assert jobset["status"]["restarts"] == 0 and "restartsCountTowardsMax" not in jobset["status"]
    assert not condition(jobset, "RestartingJobSet") and not condition(jobset, "Failed")
    assert ("Warning", "RestartJobAndIgnoreMaxRestartsFailurePolicyAction",
            "applying RestartJobAndIgnoreMaxRestarts failure policy action (first failed job: rs-workers-0)") in \
        harness.recorded(cluster, namespace, "rs", "RestartJobAndIgnoreMaxRestartsFailurePolicyAction")


def test_restart_jobset_budget_includes_counted_job_restarts_section_10_8(cluster: harness.Cluster,
                                                                          namespace: str) -> None:
    """§10.8 restart budget (gate RestartJob on): one counted RestartJob exhausts maxRestarts 1 for
    the default RestartJobSet too."""
    per_job(cluster, namespace, {"name": "one", "action": "RestartJob", "onJobFailureReasons": ["PodFailurePolicy"]}, 1)
    cluster.fail_job(namespace, "rs-workers-0", reason="PodFailurePolicy", message="pod failed")
    job_attempt(cluster, namespace, "rs-workers-0", 1)
    cluster.fail_job(namespace, "rs-workers-1")
    jobset = jobset_where(cluster, namespace, "rs", lambda js: condition(js, "Failed"), what="Failed")
    assert condition(jobset, "Failed")["reason"] == "ReachedMaxRestarts"
    assert jobset["status"]["restarts"] == 0


def test_a_global_restart_keeps_the_per_job_restart_counts_section_10_9(cluster: harness.Cluster,
                                                                        namespace: str) -> None:
    """§10.9: jobRestarts survive a RestartJobSet; Jobs of the new attempt carry both labels."""
    per_job(cluster, namespace, {"name": "one", "action": "RestartJob", "onJobFailureReasons": ["PodFailurePolicy"]}, 3)
    cluster.fail_job(namespace, "rs-workers-0", reason="PodFailurePolicy", message="pod failed")
    job_attempt(cluster, namespace, "rs-workers-0", 1)
    cluster.fail_job(namespace, "rs-workers-1")
    jobs = harness.wait_for_attempt(cluster, namespace, "rs", 1, 2)
    assert jobs["rs-workers-0"]["metadata"]["labels"][JOBSET + "job-restart-attempt"] == "1"
    assert jobs["rs-workers-1"]["metadata"]["labels"][JOBSET + "job-restart-attempt"] == "0"
    jobset = cluster.jobset(namespace, "rs")
    assert jobset["status"]["restarts"] == 1 and jobset["status"]["restartsCountTowardsMax"] == 1
    workers = harness.replicated_status(jobset, "workers")
    assert workers["jobRestarts"] == [1, 0] and workers["jobRestartsCountTowardsMax"] == [1, 0]


def test_restart_job_beyond_a_stored_list_fails_the_pass_with_a_clear_error_section_10_8(
        cluster: harness.Cluster, namespace: str, caplog: pytest.LogCaptureFixture) -> None:
    """§10.8 RestartJob: an index outside the stored jobRestartsCountTowardsMax (written short by
    someone else) fails the pass with an error naming the Job, index and list; nothing changes;
    §13: the failed passes count in controller_runtime_reconcile_errors_total{controller="jobset"}."""
    from engine.metrics import metrics

    per_job(cluster, namespace, {"name": "one", "action": "RestartJob"}, 3)
    errors_before = metrics.value("controller_runtime_reconcile_errors_total", {"controller": "jobset"})
    zero = {"ready": 0, "succeeded": 0, "failed": 0, "active": 0, "suspended": 0}
    cluster.custom.patch_namespaced_custom_object_status(harness.GROUP, harness.VERSION, namespace, harness.PLURAL, "rs", {
        "status": {"replicatedJobsStatus": [{"name": "workers", **zero, "jobRestarts": [0, 0],
                                             "jobRestartsCountTowardsMax": [0]}]}})
    with caplog.at_level(logging.ERROR):
        cluster.fail_job(namespace, "rs-workers-1")
        eventually(lambda: any('failed job "rs-workers-1": index 1 is out of bounds of jobRestartsCountTowardsMax'
                               in record.getMessage() for record in caplog.records), what="the pass error")
    workers = harness.replicated_status(cluster.jobset(namespace, "rs"), "workers")
    assert workers["jobRestarts"] == [0, 0] and workers["jobRestartsCountTowardsMax"] == [0]
    assert metrics.value("controller_runtime_reconcile_errors_total", {"controller": "jobset"}) > errors_before
    assert cluster.jobs(namespace, "rs")["rs-workers-1"]["metadata"]["labels"][JOBSET + "job-restart-attempt"] == "0"


def test_restart_job_handles_one_failed_job_per_pass_section_10_8(cluster: harness.Cluster, namespace: str) -> None:
    """§10.8, §8 step 9: two Jobs failed in one pass: the earlier one is restarted (spending the
    budget of 1); the next pass finds the other still failed and fails the JobSet, naming it."""
    per_job(cluster, namespace, {"name": "one", "action": "RestartJob"}, 1)
    with harness.Paused(cluster, namespace, "rs"):
        cluster.fail_job(namespace, "rs-workers-1", at="2026-01-01T10:00:01Z")
        cluster.fail_job(namespace, "rs-workers-0", at="2026-01-01T10:00:02Z")
    jobset = jobset_where(cluster, namespace, "rs", lambda js: condition(js, "Failed"), what="Failed")
    assert condition(jobset, "Failed")["message"] == \
        "jobset failed due to reaching max number of restarts (first failed job: rs-workers-0)"
    assert harness.replicated_status(jobset, "workers")["jobRestartsCountTowardsMax"] == [0, 1]
