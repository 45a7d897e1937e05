"""The per-Job restart examples (spec §10.8, §10.9), with feature gate RestartJob on, as their
headers say (`--feature-gates RestartJob=true`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import exampleharness as harness
from exampleharness import LABEL, condition

FEATURE_GATES = {"RestartJob": True}


def _loader_restarts(run: harness.Run) -> list[str]:
    """The job-restart-attempt label of every loader Job, in creation order."""
    return [e.obj["metadata"]["labels"][LABEL + "job-restart-attempt"] for e in run.history("Job")
            if e.type == "ADDED" and e.obj["metadata"]["name"].endswith("-loader-0")]


def _common_outcome(run: harness.Run) -> dict[str, Any]:
    jobset = run.finished()
    assert jobset["status"]["terminalState"] == "Completed"
    assert condition(jobset, "Completed")["reason"] == "AllJobsCompleted"
    assert jobset["status"]["restarts"] == 0
    assert condition(jobset, "RestartingJobSet") is None
    created = run.jobs_created()
    trainers = [name for name, _ in created if "-trainer-" in name]
    assert sorted(trainers) == [f"{run.name}-trainer-0", f"{run.name}-trainer-1"], created
    attempts = _loader_restarts(run)
    assert len(attempts) >= 2 and attempts == [str(i) for i in range(len(attempts))], attempts
    assert condition(jobset, "Failed") is None
    return jobset


def test_restart_job_recreates_only_the_failed_job_and_counts_it(submit: Callable[[str], harness.Run]) -> None:
    """§10.8 RestartJob: the loader alone comes back (job-restart-attempt 0, 1, ...), counted towards max."""
    run = submit("failure-restart-job.yaml")
    jobset = _common_outcome(run)
    loader = run.replicated_job_status("loader")
    restarts = loader["jobRestarts"][0]
    assert 1 <= restarts < 5
    assert loader["jobRestartsCountTowardsMax"] == [restarts]
    assert "restartsCountTowardsMax" not in jobset["status"]


def test_restart_job_ignoring_max_restarts_goes_past_the_budget(submit: Callable[[str], harness.Run]) -> None:
    """§10.8 RestartJobAndIgnoreMaxRestarts: loader restarts although maxRestarts is 0, none counted."""
    run = submit("failure-restart-job-ignore-max-restarts.yaml")
    _common_outcome(run)
    loader = run.replicated_job_status("loader")
    assert loader["jobRestarts"][0] >= 1
    assert not loader.get("jobRestartsCountTowardsMax")
