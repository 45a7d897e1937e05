"""JobSet status on the real HTTP API, step by step (spec §2.10, §10.3-§10.5, §13, §16.2, §16.3).

The test plays the Job controller and reads what the controller writes: counters, conditions
with their reasons, messages and transition times, restart counts, events and metrics.
"""

from __future__ import annotations

import datetime
import time
from typing import Any

import controllerharness as harness
from controllerharness import condition, eventually, jobset_manifest, jobset_where

JOBS = ["st-driver-0", "st-workers-0", "st-workers-1", "st-workers-2"]
ZERO = {"ready": 0, "succeeded": 0, "failed": 0, "active": 0, "suspended": 0}


def start(cluster: harness.Cluster, namespace: str, **spec: Any) -> None:
    """Create `st` (driver x1, workers x3) and wait for its 4 Jobs."""
    cluster.create_jobset(namespace, jobset_manifest("st", ("driver", 1), ("workers", 3), **spec))
    eventually(lambda: sorted(harness.restart_attempts(cluster, namespace, "st")) == JOBS, what="4 jobs")


def counted(cluster: harness.Cluster, namespace: str, wanted: dict[str, dict[str, int]]) -> dict[str, Any]:
    """The JobSet once its counters are exactly `wanted` (missing counters are 0)."""
    full = {rj: {**ZERO, **values} for rj, values in wanted.items()}
    return jobset_where(cluster, namespace, "st", lambda js: harness.counters(js) == full, what=f"counters {wanted}")


def next_second() -> None:
    """Sleep into the next wall-clock second: condition times have a one-second resolution."""
    time.sleep(1.05 - datetime.datetime.now().microsecond / 1e6)


def test_a_new_jobset_has_zero_counters_restarts_0_and_no_conditions_section_2_10(cluster: harness.Cluster,
                                                                                  namespace: str) -> None:
    """§2.10, §10.3, §16.2: restarts is written even when 0, restartsCountTowardsMax is omitted,
    one zeroed entry per replicated job, and no False condition is created from nothing."""
    start(cluster, namespace)
    status = counted(cluster, namespace, {"driver": {}, "workers": {}})["status"]
    assert status["restarts"] == 0 and "restartsCountTowardsMax" not in status
    assert not status.get("conditions") and not status.get("terminalState")


def test_counters_follow_succeeded_ready_and_active_jobs_section_10_3(cluster: harness.Cluster,
                                                                     namespace: str) -> None:
    """§10.3, §10.7 (upstream "jobset should not succeed if any job is not completed")."""
    start(cluster, namespace)
    for name in JOBS[:-1]:
        cluster.complete_job(namespace, name)
    cluster.make_ready(namespace, "st-workers-2")
    jobset = counted(cluster, namespace, {"driver": {"succeeded": 1},
                                          "workers": {"succeeded": 2, "ready": 1, "active": 1}})
    assert not condition(jobset, "Completed")


def test_ready_counts_against_the_smaller_of_parallelism_and_completions_section_16_15(
        cluster: harness.Cluster, namespace: str) -> None:
    """§10.3, §16.15: a Job is ready when succeeded + ready pods reach min(parallelism, completions)."""
    manifest = jobset_manifest("st", ("capped", 1), ("wide", 1))
    manifest["spec"]["replicatedJobs"][0]["template"]["spec"].update(parallelism=3, completions=2)
    manifest["spec"]["replicatedJobs"][1]["template"]["spec"].update(parallelism=4, completions=5)
    cluster.create_jobset(namespace, manifest)
    eventually(lambda: len(cluster.jobs(namespace, "st")) == 2, what="2 jobs")
    for name, ready in (("st-capped-0", 1), ("st-wide-0", 3)):
        cluster.set_job_status(namespace, name, {"startTime": harness.now(), "active": 1, "ready": ready,
                                                 "succeeded": 1})
    counted(cluster, namespace, {"capped": {"ready": 1, "active": 1}, "wide": {"ready": 1, "active": 1}})
    cluster.set_job_status(namespace, "st-wide-0", {"active": 1, "ready": 2, "succeeded": 1})
    counted(cluster, namespace, {"capped": {"ready": 1, "active": 1}, "wide": {"active": 1}})


def test_restarting_condition_lifecycle_and_transition_times_section_16_3(cluster: harness.Cluster,
                                                                          namespace: str) -> None:
    """§10.9, §10.4, §16.3 (upstream "jobset restarting condition transitions"): True with reason
    FailurePolicy_<rule>; a second restart by another rule changes reason and message but keeps
    lastTransitionTime; all Jobs ready again flips it to False (JobsReady) with a new lastTransitionTime."""
    start(cluster, namespace, failurePolicy={"maxRestarts": 2, "rules": [
        {"name": "Rule1", "action": "RestartJobSet", "onJobFailureReasons": ["PodFailurePolicy"]},
        {"name": "Rule2", "action": "RestartJobSet"}]})
    cluster.fail_job(namespace, "st-driver-0", reason="PodFailurePolicy", message="pod failed")
    first = condition(jobset_where(cluster, namespace, "st", lambda js: js["status"]["restarts"] == 1,
                                   what="restart 1"), "RestartingJobSet")
    assert (first["status"], first["reason"]) == ("True", "FailurePolicy_Rule1")
    harness.wait_for_attempt(cluster, namespace, "st", 1, 4)
    next_second()
    cluster.fail_job(namespace, "st-workers-1")
    second = condition(jobset_where(cluster, namespace, "st", lambda js: js["status"]["restarts"] == 2,
                                    what="restart 2"), "RestartingJobSet")
    assert (second["status"], second["reason"]) == ("True", "FailurePolicy_Rule2")
    assert second["message"] == "applying RestartJobSet failure policy action (first failed job: st-workers-1)"
    assert second["lastTransitionTime"] == first["lastTransitionTime"]
    harness.wait_for_attempt(cluster, namespace, "st", 2, 4)
    next_second()
    for name in JOBS:
        cluster.make_ready(namespace, name)
    ready = eventually(lambda: (c := condition(cluster.jobset(namespace, "st"), "RestartingJobSet"))
                       and c["status"] == "False" and c, what="RestartingJobSet=False")
    assert (ready["reason"], ready["message"]) == ("JobsReady", "all jobs are ready")
    assert ready["lastTransitionTime"] > first["lastTransitionTime"]
    events = harness.recorded(cluster, namespace, "st", "JobsReady")
    assert ("Normal", "JobsReady", "all jobs are ready") in events
    assert sum(reason == "FailurePolicy_Rule1" and kind == "Warning" for kind, reason, _ in events) >= 1


def test_ready_jobs_without_a_restart_create_no_false_conditions_section_16_2(cluster: harness.Cluster,
                                                                             namespace: str) -> None:
    """§16.2, §10.4: never restarted or suspended -> no RestartingJobSet/Suspended conditions, even
    when every Job is ready; completing adds Completed alone."""
    start(cluster, namespace)
    for name in JOBS:
        cluster.make_ready(namespace, name)
    jobset = counted(cluster, namespace, {"driver": {"ready": 1, "active": 1}, "workers": {"ready": 3, "active": 3}})
    assert not jobset["status"].get("conditions")
    for name in JOBS:
        cluster.complete_job(namespace, name)
    jobset = jobset_where(cluster, namespace, "st", lambda js: condition(js, "Completed"), what="Completed")
    assert [c["type"] for c in jobset["status"]["conditions"]] == ["Completed"]


def test_completing_after_a_restart_turns_restarting_false_section_10_5(cluster: harness.Cluster,
                                                                        namespace: str) -> None:
    """§10.5, §10.7 (upstream "job succeeds after one failure"): a success next to a failure restarts;
    completing attempt 1 sets Completed and RestartingJobSet=False (JobSetCompleted), with events."""
    start(cluster, namespace, failurePolicy={"maxRestarts": 1})
    cluster.complete_job(namespace, "st-driver-0")
    cluster.fail_job(namespace, "st-workers-0")
    harness.wait_for_attempt(cluster, namespace, "st", 1, 4)
    for name in JOBS:
        cluster.complete_job(namespace, name)
    jobset = jobset_where(cluster, namespace, "st", lambda js: condition(js, "Completed"), what="Completed")
    assert jobset["status"]["terminalState"] == "Completed" and jobset["status"]["restarts"] == 1
    restarting = condition(jobset, "RestartingJobSet")
    assert (restarting["status"], restarting["reason"], restarting["message"]) == (
        "False", "JobSetCompleted", "jobset completed successfully")
    events = harness.recorded(cluster, namespace, "st", "AllJobsCompleted", "JobSetCompleted")
    assert ("Normal", "AllJobsCompleted", "jobset completed successfully") in events
    assert ("Normal", "JobSetCompleted", "jobset completed successfully") in events


def test_a_failed_jobset_raises_a_warning_and_counts_in_jobset_failed_total_section_13(
        cluster: harness.Cluster, namespace: str) -> None:
    """§13, §10.15, §10.5: Failed=True (FailedJobs) is a Warning event; jobset_failed_total +1 once,
    although the first status write of the failing pass fails (an injected 500) and is retried."""
    from engine.localcluster import faults
    from engine.metrics import metrics

    start(cluster, namespace)
    counted(cluster, namespace, {"driver": {}, "workers": {}})
    harness.quiet()
    assert cluster.environment.cluster is not None
    cluster.environment.cluster.faults.add(faults.Rule(
        verb="update", resource="jobsets", namespace=namespace, name="st", code=500, times=1))
    cluster.fail_job(namespace, "st-workers-2")
    jobset = jobset_where(cluster, namespace, "st", lambda js: condition(js, "Failed"), what="Failed")
    message = "jobset failed due to one or more job failures (first failed job: st-workers-2)"
    assert ("Warning", "FailedJobs", message) in harness.recorded(cluster, namespace, "st", "FailedJobs")
    assert not condition(jobset, "RestartingJobSet")
    eventually(lambda: metrics.value("jobset_failed_total", {"jobset_name": "st", "namespace": namespace}) == 1,
               what="jobset_failed_total")
    cluster.patch_jobset(namespace, "st", {"metadata": {"annotations": {"example.com/touched": "yes"}}})
    harness.quiet()
    assert metrics.value("jobset_failed_total", {"jobset_name": "st", "namespace": namespace}) == 1
    assert [e.get("count") or 1 for e in cluster.events(namespace, "st") if e["reason"] == "FailedJobs"] == [1]


def test_counters_stored_in_another_order_are_not_rewritten_section_10_3(cluster: harness.Cluster,
                                                                         namespace: str) -> None:
    """§10.3: the list is a map keyed by name; entries stored in another order (upstream stores them
    by name, descending) are equal, so a pass that counts the same writes no status."""
    start(cluster, namespace)
    jobset = counted(cluster, namespace, {"driver": {}, "workers": {}})
    reordered = list(reversed(jobset["status"]["replicatedJobsStatus"]))
    written = cluster.custom.patch_namespaced_custom_object_status(
        harness.GROUP, harness.VERSION, namespace, harness.PLURAL, "st", {"status": {"replicatedJobsStatus": reordered}})
    cluster.batch.patch_namespaced_job("st-workers-0", namespace, {"metadata": {"annotations": {"example.com/poke": "1"}}})
    harness.quiet()
    after = cluster.jobset(namespace, "st")
    assert after["metadata"]["resourceVersion"] == written["metadata"]["resourceVersion"]
    assert [e["name"] for e in after["status"]["replicatedJobsStatus"]] == ["workers", "driver"]


def test_events_wait_for_a_successful_status_write_section_10_6(cluster: harness.Cluster, namespace: str) -> None:
    """§10.6, §8 step 17: the restart pass's status write fails once (an injected 500); its events are
    not sent; the retried pass writes the status and sends each event once."""
    from engine.localcluster import faults

    start(cluster, namespace, failurePolicy={"maxRestarts": 3})
    counted(cluster, namespace, {"driver": {}, "workers": {}})
    harness.quiet()
    assert cluster.environment.cluster is not None
    fault = cluster.environment.cluster.faults.add(faults.Rule(
        verb="update", resource="jobsets", namespace=namespace, name="st", code=500, times=1))
    cluster.fail_job(namespace, "st-workers-0")
    jobset_where(cluster, namespace, "st", lambda js: js["status"]["restarts"] == 1, what="restart 1")
    assert fault.times == 0
    harness.quiet()
    sent = [(e["reason"], e.get("count") or 1) for e in cluster.events(namespace, "st")]
    assert sorted(sent) == [("DefaultFailurePolicy", 1), ("RestartJobSetFailurePolicyAction", 1)]
