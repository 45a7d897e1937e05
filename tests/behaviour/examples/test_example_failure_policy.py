"""The failure-policy examples without feature gates (spec §10.8, §10.9) on the simulated cluster."""

from __future__ import annotations

from collections.abc import Callable

import exampleharness as harness
from exampleharness import LABEL, condition


def test_fail_jobset_fails_at_once_when_the_leader_fails(submit: Callable[[str], harness.Run]) -> None:
    """§10.8 FailJobSet: leader pod 0 exits 1 -> Failed (FailJobSetFailurePolicyAction), no restart."""
    run = submit("failure-fail-jobset.yaml")
    jobset = run.finished()
    failed = condition(jobset, "Failed")
    assert jobset["status"]["terminalState"] == "Failed"
    assert failed and failed["status"] == "True" and failed["reason"] == "FailJobSetFailurePolicyAction"
    assert "(first failed job: fail-fast-leader-0)" in failed["message"]
    assert jobset["status"]["restarts"] == 0
    assert [name for name, _ in run.jobs_created()] == ["fail-fast-leader-0", "fail-fast-workers-0"]
    harness.eventually(lambda: "fail-fast-workers-0" not in run.jobs(), what="the running workers Job deleted")
    assert not any(harness.job_finished(e.obj, "Complete") for e in run.history("Job")), "failed only after 30 s"


def test_restart_jobset_recreates_every_job_until_max_restarts(submit: Callable[[str], harness.Run]) -> None:
    """§10.8, §10.9 RestartJobSet: two restarts, each deleting and recreating every Job (the leader too, unless
    the next worker failure comes before its old Job is gone), then ReachedMaxRestarts."""
    run = submit("failure-restart-jobset.yaml")
    jobset = run.finished()
    status = jobset["status"]
    assert status["terminalState"] == "Failed"
    assert condition(jobset, "Failed")["reason"] == "ReachedMaxRestarts"
    assert status["restarts"] == 2 and status["restartsCountTowardsMax"] == 2
    restarting = condition(jobset, "RestartingJobSet")
    assert restarting["status"] == "False" and restarting["reason"] == "JobSetFailed"
    created = run.jobs_created()
    assert len({uid for name, uid in created if name == "restart-all-workers-0"}) == 3, created
    assert len({uid for name, uid in created if name == "restart-all-leader-0"}) >= 2, created
    attempts = [e.obj["metadata"]["labels"][LABEL + "restart-attempt"]
                for e in run.history("Job") if e.type == "ADDED"]
    assert sorted(set(attempts)) == ["0", "1", "2"]
    reasons = {c["reason"] for e in run.history("JobSet")
               for c in (e.obj.get("status") or {}).get("conditions") or [] if c["type"] == "RestartingJobSet"}
    assert "FailurePolicy_restartAll" in reasons


def test_restarts_ignoring_max_restarts_go_past_the_budget(submit: Callable[[str], harness.Run]) -> None:
    """§10.8 RestartJobSetAndIgnoreMaxRestarts: exit 42 -> PodFailurePolicy -> restarts past maxRestarts 1,
    never Failed."""
    run = submit("failure-restart-jobset-ignore-max-restarts.yaml")
    jobset = run.wait_for(lambda js: (js.get("status") or {}).get("restarts", 0) >= 3, what="3 restarts")
    assert "restartsCountTowardsMax" not in jobset["status"]
    assert condition(jobset, "Failed") is None
    assert condition(jobset, "RestartingJobSet")["reason"] == "FailurePolicy_preempted"
    failed_jobs = [e.obj for e in run.history("Job") if harness.job_finished(e.obj, "Failed")]
    assert failed_jobs and all(c["reason"] == "PodFailurePolicy" for job in failed_jobs
                               for c in job["status"]["conditions"] if c["type"] == "Failed")
