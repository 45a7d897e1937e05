"""upstream-examples/failure-policy/restartjob*.yaml, with feature gate RestartJob on as they need:
a worker pod fails (its Job alone is recreated), later a leader pod fails (the whole JobSet
restarts), then everything succeeds (spec §10.8, §10.9)."""

from __future__ import annotations

from typing import Any

import exampleharness as runs
import upstreamharness as harness
from exampleharness import LABEL, condition

FEATURE_GATES = {"RestartJob": True}


def _incarnations(run: runs.Run, job: str) -> list[tuple[str, str]]:
    """(restart-attempt, job-restart-attempt) of each Job `job` created, in order."""
    labels = [e.obj["metadata"]["labels"] for e in run.history("Job")
              if e.type == "ADDED" and e.obj["metadata"]["name"] == job]
    return [(found[LABEL + "restart-attempt"], found[LABEL + "job-restart-attempt"]) for found in labels]


def _story(run: runs.Run) -> dict[str, Any]:
    jobset = run.finished(timeout=60)
    assert jobset["status"]["terminalState"] == "Completed", jobset["status"]
    assert jobset["status"]["restarts"] == 1
    assert _incarnations(run, "js-rj-worker-0") == [("0", "0"), ("0", "1"), ("1", "1")]
    assert _incarnations(run, "js-rj-leader-0") == [("0", "0"), ("1", "0")]
    assert run.replicated_job_status("rj-worker")["jobRestarts"] == [1]
    assert not run.replicated_job_status("rj-leader").get("jobRestarts") or \
        run.replicated_job_status("rj-leader")["jobRestarts"] == [0]
    return jobset


def test_restartjob_action_restarts_the_worker_job_then_the_jobset(upstream: harness.Upstream) -> None:
    """§10.8: r_worker RestartJob counts 1, r_leader RestartJobSet counts 1 (total 2 = maxRestarts, not exceeded)."""
    run = upstream("failure-policy/restartjob-action.yaml", "restartjob-action")
    jobset = _story(run)
    assert jobset["status"]["restartsCountTowardsMax"] == 1
    assert run.replicated_job_status("rj-worker")["jobRestartsCountTowardsMax"] == [1]
    restarting = [c["reason"] for e in run.history("JobSet") if (c := condition(e.obj, "RestartingJobSet"))]
    assert "FailurePolicy_r_leader" in restarting


def test_restartjobandignoremaxrestarts_action_counts_nothing(upstream: harness.Upstream) -> None:
    """§10.8: the same story with the ...AndIgnoreMaxRestarts actions leaves both counters towards max unwritten."""
    run = upstream("failure-policy/restartjobandignoremaxrestarts-action.yaml", "restartjobandignoremaxrestarts-action")
    jobset = _story(run)
    assert "restartsCountTowardsMax" not in jobset["status"]
    assert not run.replicated_job_status("rj-worker").get("jobRestartsCountTowardsMax")
