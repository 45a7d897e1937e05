"""The failure policy on the real HTTP API, step by step (spec §10.8, §10.9, §16.4-§16.8).

The test plays the Job controller: it fails Jobs with a reason and a message, holds old Jobs
with a finalizer of its own to watch re-creation, and reads the JobSet status the controller writes.
"""

from __future__ import annotations

from typing import Any

import pytest

import controllerharness as harness
from controllerharness import condition, eventually, jobset_manifest, jobset_where

POD_FAILURE = "PodFailurePolicy"
JOBS = ["fp-driver-0", "fp-workers-0", "fp-workers-1", "fp-workers-2"]


def start(cluster: harness.Cluster, namespace: str, policy: dict[str, Any] | None) -> None:
    """Create `fp` (driver x1, workers x3) with this failure policy and wait for its 4 Jobs."""
    spec = {} if policy is None else {"failurePolicy": policy}
    cluster.create_jobset(namespace, jobset_manifest("fp", ("driver", 1), ("workers", 3), **spec))
    eventually(lambda: sorted(cluster.jobs(namespace, "fp")) == JOBS, what="4 jobs")


def failed(cluster: harness.Cluster, namespace: str) -> dict[str, Any]:
    return jobset_where(cluster, namespace, "fp", lambda js: condition(js, "Failed"), what="Failed")


def restarted(cluster: harness.Cluster, namespace: str, restarts: int) -> dict[str, Any]:
    return jobset_where(cluster, namespace, "fp", lambda js: js["status"].get("restarts") == restarts,
                        what=f"restarts={restarts}")


def test_fail_jobset_rule_without_reasons_matches_any_reason_section_10_8(cluster: harness.Cluster,
                                                                          namespace: str) -> None:
    """§10.8: an empty onJobFailureReasons matches every reason; FailJobSet spends no restart."""
    start(cluster, namespace, {"maxRestarts": 1, "rules": [{"name": "stop", "action": "FailJobSet",
                                                           "onJobFailureReasons": []}]})
    cluster.fail_job(namespace, "fp-driver-0", reason=POD_FAILURE)
    jobset = failed(cluster, namespace)
    assert condition(jobset, "Failed")["reason"] == "FailJobSetFailurePolicyAction"
    assert jobset["status"]["restarts"] == 0 and "restartsCountTowardsMax" not in jobset["status"]
    assert jobset["status"]["terminalState"] == "Failed"


@pytest.mark.parametrize("rule, message", [
    ({"onJobFailureReasons": ["BackoffLimitExceeded"]}, "pod failed"),
    ({"onJobFailureMessagePatterns": ["some message"]}, "some critical error with a message"),
    ({"onJobFailureReasons": [POD_FAILURE], "onJobFailureMessagePatterns": ["some message"]},
     "some critical error with a message"),
], ids=["reason-differs", "message-differs", "reason-matches-message-differs"])
def test_unmatched_fail_rule_falls_back_to_restart_jobset_section_10_8(cluster: harness.Cluster, namespace: str,
                                                                       rule: dict[str, Any], message: str) -> None:
    """§10.8: a rule applies only if reason and message both match; no rule -> RestartJobSet,
    reason DefaultFailurePolicy, both global counters +1, no per-Job counters (§10.9 table)."""
    start(cluster, namespace, {"maxRestarts": 1, "rules": [{"name": "stop", "action": "FailJobSet", **rule}]})
    cluster.fail_job(namespace, "fp-driver-0", reason=POD_FAILURE, message=message)
    jobset = restarted(cluster, namespace, 1)
    assert jobset["status"]["restartsCountTowardsMax"] == 1
    assert not condition(jobset, "Failed")
    restarting = condition(jobset, "RestartingJobSet")
    assert restarting["status"] == "True" and restarting["reason"] == "DefaultFailurePolicy"
    assert restarting["message"] == "applying RestartJobSet failure policy action (first failed job: fp-driver-0)"
    assert all("jobRestarts" not in e and "jobRestartsCountTowardsMax" not in e
               for e in jobset["status"]["replicatedJobsStatus"])


@pytest.mark.parametrize("message", ["some message", "this is some message with critical error"],
                         ids=["equal", "unanchored-search"])
def test_fail_rule_matching_reason_and_message_pattern_fails_the_jobset_section_10_8(
        cluster: harness.Cluster, namespace: str, message: str) -> None:
    """§10.8: message patterns are searched unanchored in the Failed condition's message."""
    start(cluster, namespace, {"maxRestarts": 1, "rules": [
        {"name": "stop", "action": "FailJobSet", "onJobFailureReasons": [POD_FAILURE],
         "onJobFailureMessagePatterns": ["some message"]}]})
    cluster.fail_job(namespace, "fp-workers-1", reason=POD_FAILURE, message=message)
    jobset = failed(cluster, namespace)
    assert condition(jobset, "Failed")["message"] == \
        "applying FailJobSet failure policy action (first failed job: fp-workers-1)"
    assert jobset["status"]["restarts"] == 0


@pytest.mark.parametrize("patterns, fails", [(["[", "(?=crit)"], False), (["[", "crit"], True)],
                         ids=["none-usable", "one-usable"])
def test_patterns_re2_cannot_compile_are_skipped_section_10_8(cluster: harness.Cluster, namespace: str,
                                                              patterns: list[str], fails: bool) -> None:
    """§10.8: patterns are not checked at admission; one RE2 cannot compile (a syntax error, a
    look-ahead) matches nothing, the others still count."""
    start(cluster, namespace, {"maxRestarts": 1, "rules": [
        {"name": "stop", "action": "FailJobSet", "onJobFailureMessagePatterns": patterns}]})
    cluster.fail_job(namespace, "fp-workers-0", message="critical error")
    if fails:
        assert condition(failed(cluster, namespace), "Failed")["reason"] == "FailJobSetFailurePolicyAction"
    else:
        assert condition(restarted(cluster, namespace, 1), "RestartingJobSet")["reason"] == "DefaultFailurePolicy"


@pytest.mark.parametrize("targets, fails", [(["workers"], True), (["driver"], False)],
                         ids=["target-contains-job", "target-omits-job"])
def test_fail_rule_applies_only_to_its_target_replicated_jobs_section_10_8(cluster: harness.Cluster, namespace: str,
                                                                           targets: list[str], fails: bool) -> None:
    """§10.8: targetReplicatedJobs limits a rule to Jobs of those replicated jobs."""
    start(cluster, namespace, {"maxRestarts": 1, "rules": [
        {"name": "stop", "action": "FailJobSet", "onJobFailureReasons": ["FailedIndexes"],
         "targetReplicatedJobs": targets}]})
    cluster.fail_job(namespace, "fp-workers-0", reason="FailedIndexes", message="Job has failed indexes")
    if fails:
        jobset = failed(cluster, namespace)
        assert jobset["status"]["restarts"] == 0
    else:
        jobset = restarted(cluster, namespace, 1)
        assert jobset["status"]["restartsCountTowardsMax"] == 1 and not condition(jobset, "Failed")


def test_first_matching_rule_wins_fail_before_restart_section_10_8(cluster: harness.Cluster, namespace: str) -> None:
    """§10.8 (upstream rules order 1): FailJobSet listed first wins over a RestartJobSet rule that also applies."""
    both = {"onJobFailureReasons": ["MaxFailedIndexesExceeded"], "targetReplicatedJobs": ["driver"]}
    start(cluster, namespace, {"maxRestarts": 1, "rules": [
        {"name": "stop", "action": "FailJobSet", **both}, {"name": "again", "action": "RestartJobSet", **both}]})
    cluster.fail_job(namespace, "fp-driver-0", reason="MaxFailedIndexesExceeded", message="too many failed indexes")
    jobset = failed(cluster, namespace)
    assert condition(jobset, "Failed")["reason"] == "FailJobSetFailurePolicyAction"
    assert jobset["status"]["restarts"] == 0 and "restartsCountTowardsMax" not in jobset["status"]


def test_first_matching_rule_wins_restart_before_fail_section_10_8(cluster: harness.Cluster, namespace: str) -> None:
    """§10.8, §10.5 (upstream rules order 2): RestartJobSet listed first restarts with reason FailurePolicy_<rule>."""
    both = {"onJobFailureReasons": ["MaxFailedIndexesExceeded"], "targetReplicatedJobs": ["driver"]}
    start(cluster, namespace, {"maxRestarts": 1, "rules": [
        {"name": "again", "action": "RestartJobSet", **both}, {"name": "stop", "action": "FailJobSet", **both}]})
    cluster.fail_job(namespace, "fp-driver-0", reason="MaxFailedIndexesExceeded", message="too many failed indexes")
    jobset = restarted(cluster, namespace, 1)
    assert jobset["status"]["restartsCountTowardsMax"] == 1
    assert condition(jobset, "RestartingJobSet")["reason"] == "FailurePolicy_again"
    assert all("jobRestarts" not in e for e in jobset["status"]["replicatedJobsStatus"])
    reasons = harness.recorded(cluster, namespace, "fp", "RestartJobSetFailurePolicyAction", "FailurePolicy_again")
    assert ("Warning", "RestartJobSetFailurePolicyAction",
            "applying RestartJobSet failure policy action (first failed job: fp-driver-0)") in reasons
    assert ("Warning", "FailurePolicy_again",
            "applying RestartJobSet failure policy action (first failed job: fp-driver-0)") in reasons


def test_restart_ignoring_max_restarts_goes_past_the_budget_then_a_later_rule_fails_section_10_8(
        cluster: harness.Cluster, namespace: str) -> None:
    """§10.8, §10.9, §16.7 (upstream rules order 3): three RestartJobSetAndIgnoreMaxRestarts past
    maxRestarts 1, restartsCountTowardsMax never written; then a catch-all FailJobSet fails the JobSet
    and RestartingJobSet turns False with JobSetFailed (§10.5)."""
    start(cluster, namespace, {"maxRestarts": 1, "rules": [
        {"name": "retry", "action": "RestartJobSetAndIgnoreMaxRestarts",
         "onJobFailureReasons": ["MaxFailedIndexesExceeded"], "targetReplicatedJobs": ["driver"]},
        {"name": "stop", "action": "FailJobSet"}]})
    for attempt in (1, 2, 3):
        cluster.fail_job(namespace, "fp-driver-0", reason="MaxFailedIndexesExceeded", message="too many")
        jobset = restarted(cluster, namespace, attempt)
        assert "restartsCountTowardsMax" not in jobset["status"]
        assert condition(jobset, "RestartingJobSet")["reason"] == "FailurePolicy_retry"
        harness.wait_for_attempt(cluster, namespace, "fp", attempt, 4)
    cluster.fail_job(namespace, "fp-workers-2")
    jobset = failed(cluster, namespace)
    assert condition(jobset, "Failed")["reason"] == "FailJobSetFailurePolicyAction"
    assert jobset["status"]["restarts"] == 3
    restarting = condition(jobset, "RestartingJobSet")
    assert (restarting["status"], restarting["reason"], restarting["message"]) == ("False", "JobSetFailed",
                                                                                   "jobset failed")
    assert ("Normal", "JobSetFailed", "jobset failed") in harness.recorded(cluster, namespace, "fp", "JobSetFailed")
    assert ("Warning", "RestartJobSetAndIgnoreMaxRestartsFailurePolicyAction",
            "applying RestartJobSetAndIgnoreMaxRestarts failure policy action (first failed job: fp-driver-0)") \
        in harness.recorded(cluster, namespace, "fp", "RestartJobSetAndIgnoreMaxRestartsFailurePolicyAction")


def test_empty_failure_policy_is_defaulted_and_fails_at_the_first_failure_section_16_5(
        cluster: harness.Cluster, namespace: str) -> None:
    """§16.5, §2.6: `failurePolicy: {}` is stored with restartStrategy Recreate; maxRestarts 0
    fails the first Job failure with ReachedMaxRestarts (not FailedJobs)."""
    start(cluster, namespace, {})
    stored = cluster.jobset(namespace, "fp")["spec"]["failurePolicy"]
    assert stored.get("restartStrategy") == "Recreate" and stored.get("maxRestarts", 0) == 0
    cluster.fail_job(namespace, "fp-workers-2")
    failure = condition(failed(cluster, namespace), "Failed")
    assert failure["reason"] == "ReachedMaxRestarts"
    assert failure["message"] == \
        "jobset failed due to reaching max number of restarts (first failed job: fp-workers-2)"


def test_first_failed_job_is_the_earliest_failure_section_16_6(cluster: harness.Cluster, namespace: str) -> None:
    """§16.6: with several failed Jobs in one pass, the message names the earliest Failed transition."""
    start(cluster, namespace, None)
    with harness.Paused(cluster, namespace, "fp"):
        cluster.fail_job(namespace, "fp-workers-0", at="2026-01-01T10:00:05Z")
        cluster.fail_job(namespace, "fp-workers-2", at="2026-01-01T10:00:01Z")
        cluster.fail_job(namespace, "fp-driver-0", at="2026-01-01T10:00:03Z")
    assert condition(failed(cluster, namespace), "Failed")["message"] == \
        "jobset failed due to one or more job failures (first failed job: fp-workers-2)"


def test_a_rule_names_its_own_earliest_applicable_job_section_16_6(cluster: harness.Cluster, namespace: str) -> None:
    """§16.6, §10.8: per rule, the earliest failed Job the rule applies to, not the earliest overall."""
    start(cluster, namespace, {"maxRestarts": 2, "rules": [
        {"name": "driverDown", "action": "RestartJobSet", "targetReplicatedJobs": ["driver"]}]})
    with harness.Paused(cluster, namespace, "fp"):
        cluster.fail_job(namespace, "fp-workers-1", at="2026-01-01T10:00:01Z")
        cluster.fail_job(namespace, "fp-driver-0", at="2026-01-01T10:00:09Z")
    restarting = condition(restarted(cluster, namespace, 1), "RestartingJobSet")
    assert restarting["reason"] == "FailurePolicy_driverDown"
    assert restarting["message"] == "applying RestartJobSet failure policy action (first failed job: fp-driver-0)"


def test_failure_beats_success_in_the_same_pass_section_16_4(cluster: harness.Cluster, namespace: str) -> None:
    """§16.4, §8 step 9: a pass that sees a success (enough for operator Any) and a failure fails."""
    cluster.create_jobset(namespace, jobset_manifest("fp", ("driver", 1), ("workers", 3),
                                                     successPolicy={"operator": "Any"}))
    eventually(lambda: sorted(cluster.jobs(namespace, "fp")) == JOBS, what="4 jobs")
    with harness.Paused(cluster, namespace, "fp"):
        cluster.complete_job(namespace, "fp-driver-0")
        cluster.fail_job(namespace, "fp-workers-0")
    jobset = failed(cluster, namespace)
    assert condition(jobset, "Failed")["reason"] == "FailedJobs" and not condition(jobset, "Completed")
    assert harness.counters(jobset)["driver"]["succeeded"] == 1


def test_failed_jobset_deletes_its_active_jobs_and_keeps_finished_ones_section_8(cluster: harness.Cluster,
                                                                                namespace: str) -> None:
    """§8 step 6 (upstream "active jobs are deleted after jobset fails"): only the failed Job stays."""
    start(cluster, namespace, None)
    for name in JOBS:
        harness.hold(cluster, namespace, name)
    cluster.fail_job(namespace, "fp-driver-0")
    failed(cluster, namespace)
    deleting = eventually(lambda: (jobs := cluster.jobs(namespace, "fp")) and sorted(
        n for n, j in jobs.items() if j["metadata"].get("deletionTimestamp")) == JOBS[1:] and jobs,
        what="the three active jobs deleting")
    assert not deleting["fp-driver-0"]["metadata"].get("deletionTimestamp")
    for name in JOBS[1:]:
        harness.release(cluster, namespace, name)
    eventually(lambda: sorted(cluster.jobs(namespace, "fp")) == ["fp-driver-0"], what="only the failed job")
