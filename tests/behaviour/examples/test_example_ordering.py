"""The examples about when Jobs start: startup order, dependsOn, suspend and resume
(spec §10.10-§10.12). The watch history gives the order in which Jobs appeared."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import exampleharness as harness
from engine.kube import resources
from exampleharness import condition


def _ready(job: dict[str, Any]) -> bool:
    status = job.get("status") or {}
    return status.get("ready", 0) + status.get("succeeded", 0) >= (job["spec"].get("parallelism") or 1)


def _named(name: str) -> Callable[[dict[str, Any]], bool]:
    return lambda obj: obj["metadata"]["name"] == name


def test_in_order_startup_creates_the_workers_once_the_driver_is_ready(submit: Callable[[str], harness.Run]) -> None:
    """§10.12: driver Job first; workers' Jobs only after the driver Job reported ready."""
    run = submit("startup-in-order.yaml")
    jobset = run.finished()
    assert jobset["status"]["terminalState"] == "Completed"
    created = [name for name, _ in run.jobs_created()]
    assert created[0] == "in-order-driver-0" and sorted(created[1:]) == ["in-order-workers-0", "in-order-workers-1"]
    driver_ready = run.first("Job", lambda job: job["metadata"]["name"] == "in-order-driver-0" and _ready(job))
    first_worker = run.first("Job", lambda job: job["metadata"]["name"].startswith("in-order-workers-"))
    assert driver_ready < first_worker
    in_progress = run.first("JobSet",
                            lambda js: (condition(js, "StartupPolicyInProgress") or {}).get("status") == "True")
    assert in_progress < first_worker
    assert condition(jobset, "StartupPolicyCompleted")["status"] == "True"
    assert condition(jobset, "StartupPolicyCompleted")["reason"] == "InOrderStartupPolicyCompleted"
    assert condition(jobset, "StartupPolicyInProgress")["status"] == "False"


def test_depends_on_waits_for_complete_then_for_ready(submit: Callable[[str], harness.Run]) -> None:
    """§10.11: train after prepare is Complete; monitor after train is Ready, while train still runs."""
    run = submit("depends-on.yaml")
    jobset = run.finished()
    assert jobset["status"]["terminalState"] == "Completed"
    created = [name for name, _ in run.jobs_created()]
    assert created[0] == "pipeline-prepare-0" and created[-1] == "pipeline-monitor-0"
    assert sorted(created[1:3]) == ["pipeline-train-0", "pipeline-train-1"]
    prepare_done = run.first("Job", lambda job: _named("pipeline-prepare-0")(job)
                             and harness.job_finished(job, "Complete"))
    assert prepare_done < run.first("Job", lambda job: job["metadata"]["name"].startswith("pipeline-train-"))
    trains_ready = max(run.first("Job", lambda job, n=n: _named(n)(job) and _ready(job))
                       for n in ("pipeline-train-0", "pipeline-train-1"))
    monitor = run.first("Job", _named("pipeline-monitor-0"))
    first_train_done = min(run.first("Job", lambda job, n=n: _named(n)(job) and harness.job_finished(job, "Complete"))
                           for n in ("pipeline-train-0", "pipeline-train-1"))
    assert trains_ready < monitor < first_train_done


def test_suspended_jobset_runs_nothing_until_resumed(submit: Callable[[str], harness.Run]) -> None:
    """§10.10: Jobs created suspended, no pod, Suspended=True; resume -> ResumeJobs and Completed."""
    run = submit("suspend.yaml")
    run.wait_for(lambda js: (condition(js, "Suspended") or {}).get("status") == "True", what="Suspended=True")
    jobs = harness.eventually(lambda: len(found := run.jobs()) == 2 and found, what="two suspended Jobs")
    assert all(job["spec"]["suspend"] is True for job in jobs.values())
    assert condition(run.jobset(), "Suspended")["reason"] == "SuspendedJobs"
    assert run.pods() == []
    run.cluster.call(run.api.patch(resources.JOBSETS, "queued", {"spec": {"suspend": False}}, namespace=run.namespace))
    jobset = run.finished()
    assert jobset["status"]["terminalState"] == "Completed"
    resumed = condition(jobset, "Suspended")
    assert resumed["status"] == "False" and resumed["reason"] == "ResumeJobs"
    assert len(run.jobs_created()) == 2
