"""The simulated batch/v1 Job controller's decision for one Job.

Owns: `decide(job, pods, now=..., settings=...) -> Plan`: counting finished pods, failure
and success criteria (backoffLimit, activeDeadlineSeconds, podFailurePolicy,
backoffLimitPerIndex/maxFailedIndexes, successPolicy, completions), suspension, and the
interim-then-terminal conditions (FailureTarget -> Failed, SuccessCriteriaMet -> Complete)
with Kubernetes' types, reasons and messages. Which pods to create or delete comes from
`sim.jobmanage`. Pure: no I/O, time passed in.
Called by: `sim.jobdriver`.
Must not import: anything in `engine` outside `localcluster`.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
from typing import Any, Mapping

from engine.localcluster.sim import jobmanage, jobpods, jobpolicy, podstate

MAX_INT32 = 2**31 - 1
INTERIM = {"SuccessCriteriaMet": "Complete", "FailureTarget": "Failed"}  # checked in this order
COMPLETIONS_REACHED = ("CompletionsReached", "Reached expected number of succeeded pods")
BACKOFF_EXCEEDED = ("BackoffLimitExceeded", "Job has reached the specified backoff limit")
DEADLINE_EXCEEDED = ("DeadlineExceeded", "Job was active longer than specified deadline")
MAX_FAILED_INDEXES = ("MaxFailedIndexesExceeded",
                      "Job has exceeded the specified maximal number of failed indexes")
FAILED_INDEXES = ("FailedIndexes", "Job has failed indexes")


@dataclasses.dataclass
class Plan:
    """What to do for one Job, in order: create; delete (releasing the tracking finalizer
    first, so the pod is never counted); terminate (delete keeping the finalizer: the Job is
    finishing and counts them); write status; release the finalizer of counted pods; record
    events; come back after `requeue_after` seconds."""

    create: list[podstate.Obj] = dataclasses.field(default_factory=list)
    delete: list[podstate.Obj] = dataclasses.field(default_factory=list)
    terminate: list[podstate.Obj] = dataclasses.field(default_factory=list)
    status: podstate.Obj | None = None
    release: list[podstate.Obj] = dataclasses.field(default_factory=list)
    events: list[tuple[str, str, str]] = dataclasses.field(default_factory=list)
    requeue_after: float | None = None


@dataclasses.dataclass
class Tally:
    """Finished pods counted in this pass, on top of what status already holds."""

    succeeded: int
    failed: int
    succeeded_indexes: set[int]
    failed_indexes: set[int]
    release: list[podstate.Obj]


def is_finished(job: Mapping[str, Any]) -> bool:
    """Whether the Job carries a terminal Complete or Failed condition."""
    return podstate.condition_true(job, "Complete") or podstate.condition_true(job, "Failed")


def decide(job: Mapping[str, Any], pods: list[Mapping[str, Any]], *, now: datetime.datetime,
           settings: jobpolicy.Settings = jobpolicy.Settings()) -> Plan:
    """The next step for `job`, whose pods (controlled by it) are `pods`."""
    if is_finished(job):
        return Plan(release=[dict(p) for p in pods if jobpods.has_finalizer(p)])
    spec = job.get("spec", {})
    status = copy.deepcopy(job.get("status") or {})
    conditions: list[podstate.Obj] = status.get("conditions") or []
    suspended = bool(spec.get("suspend"))
    tally = _tally(job, pods, status)
    if not status.get("startTime") and not suspended:
        status["startTime"] = podstate.stamp(now)
    plan = Plan(release=tally.release)
    finish = _interim(job) or _failure(job, pods, status, tally, now, plan)
    if finish is None and spec.get("completionMode") == "Indexed":
        message = jobpolicy.match_success_policy(job, tally.succeeded_indexes)
        finish = ("SuccessCriteriaMet", "SuccessPolicy", message) if message else None
    active = [p for p in pods if podstate.is_active(p)]
    if finish is not None:
        plan.terminate = [dict(p) for p in active]
        _count_leftovers(job, pods, tally, finish)
    elif podstate.is_deleting(job):
        _count_leftovers(job, pods, tally, ("Deleting", "", ""))
    else:
        manage = jobmanage.manage(job, pods, tally.succeeded_indexes, tally.failed_indexes,
                                  succeeded=tally.succeeded, now=now, settings=settings)
        plan.create, plan.delete = manage.create, manage.delete
        plan.requeue_after = _soonest(plan.requeue_after, manage.requeue_after)
        remaining = len(active) - len(plan.delete) + len(plan.create)
        if _complete(spec, tally, remaining):
            finish = ("SuccessCriteriaMet",) + COMPLETIONS_REACHED
        else:
            _suspension(suspended, conditions, status, now, plan)
    _finish(finish, conditions, status, pods, now, plan)
    _counters(job, status, conditions, pods, tally, plan)
    if status != (job.get("status") or {}):
        plan.status = status
    return plan


def _tally(job: Mapping[str, Any], pods: list[Mapping[str, Any]], status: podstate.Obj) -> Tally:
    spec = job.get("spec", {})
    indexed = spec.get("completionMode") == "Indexed"
    completions = int(spec.get("completions") or 0)
    done = jobpolicy.parse_indexes(status.get("completedIndexes"), limit=completions)
    failed_ix = jobpolicy.parse_indexes(status.get("failedIndexes"), limit=completions)
    per_index = spec.get("backoffLimitPerIndex")
    tally = Tally(int(status.get("succeeded", 0)), int(status.get("failed", 0)), done,
                  failed_ix, [])
    for pod in pods:
        if not jobpods.has_finalizer(pod):
            continue
        index = podstate.completion_index(pod)
        if podstate.phase(pod) == "Succeeded":
            tally.release.append(dict(pod))
            if not indexed:
                tally.succeeded += 1
            elif index is not None and index < completions:
                done.add(index)
        elif jobpolicy.is_failed(job, pod):
            verdict = _count_failure(job, pod, tally)
            if per_index is not None and index is not None and index < completions and \
                    verdict.counts and (verdict.action == "FailIndex"
                                        or jobpods.index_counts(pod)[0] >= int(per_index)):
                failed_ix.add(index)
    if indexed:
        tally.succeeded = len(done)
    return tally


def _count_failure(job: Mapping[str, Any], pod: Mapping[str, Any],
                   tally: Tally) -> jobpolicy.FailureVerdict:
    """Release a failed pod and count it unless ignored or outside the Job's indexes."""
    tally.release.append(dict(pod))
    verdict = jobpolicy.judge_failure(job, pod)
    index = podstate.completion_index(pod)
    spec = job.get("spec", {})
    if spec.get("completionMode") == "Indexed" and (
            index is None or index >= int(spec.get("completions") or 0)):
        return verdict
    tally.failed += 1 if verdict.counts else 0
    return verdict


def _count_leftovers(job: Mapping[str, Any], pods: list[Mapping[str, Any]], tally: Tally,
                     finish: tuple[str, str, str]) -> None:
    """A finishing or deleted Job releases every tracked pod; when it fails, the unfinished
    ones count as failed too."""
    released = {p["metadata"].get("uid") for p in tally.release}
    for pod in pods:
        if not jobpods.has_finalizer(pod) or pod["metadata"].get("uid") in released:
            continue
        if finish[0] == "FailureTarget":
            _count_failure(job, pod, tally)
        else:
            tally.release.append(dict(pod))


def _interim(job: Mapping[str, Any]) -> tuple[str, str, str] | None:
    for kind in INTERIM:
        cond = podstate.condition(job, kind)
        if cond is not None and cond.get("status") == "True":
            return kind, str(cond.get("reason", "")), str(cond.get("message", ""))
    return None


def _failure(job: Mapping[str, Any], pods: list[Mapping[str, Any]], status: podstate.Obj,
             tally: Tally, now: datetime.datetime, plan: Plan) -> tuple[str, str, str] | None:
    spec = job.get("spec", {})
    for pod in pods:
        if podstate.phase(pod) == "Failed":
            verdict = jobpolicy.judge_failure(job, pod)
            if verdict.action == "FailJob" and verdict.message:
                return "FailureTarget", "PodFailurePolicy", verdict.message
    limit = spec.get("backoffLimit")
    if limit is None:
        limit = MAX_INT32 if spec.get("backoffLimitPerIndex") is not None else 6
    if tally.failed > int(limit) or _past_backoff_on_failure(spec, pods, int(limit)):
        return ("FailureTarget",) + BACKOFF_EXCEEDED
    deadline = spec.get("activeDeadlineSeconds")
    started = podstate.parse_time(status.get("startTime"))
    if deadline is not None and started is not None and not spec.get("suspend"):
        left = float(deadline) - (now - started).total_seconds()
        if left <= 0:
            return ("FailureTarget",) + DEADLINE_EXCEEDED
        plan.requeue_after = left
    if spec.get("backoffLimitPerIndex") is not None and spec.get("completionMode") == "Indexed":
        most = spec.get("maxFailedIndexes")
        if most is not None and len(tally.failed_indexes) > int(most):
            return ("FailureTarget",) + MAX_FAILED_INDEXES
        total = len(tally.failed_indexes) + len(tally.succeeded_indexes)
        if tally.failed_indexes and total >= int(spec.get("completions") or 0):
            return ("FailureTarget",) + FAILED_INDEXES
    return None


def _past_backoff_on_failure(spec: Mapping[str, Any], pods: list[Mapping[str, Any]],
                             limit: int) -> bool:
    if (spec.get("template") or {}).get("spec", {}).get("restartPolicy") != "OnFailure":
        return False
    restarts = sum(jobpolicy.restart_count(p) for p in pods
                   if podstate.phase(p) in ("Pending", "Running"))
    return restarts > 0 if limit == 0 else restarts >= limit


def _complete(spec: Mapping[str, Any], tally: Tally, remaining: int) -> bool:
    if remaining:
        return False
    completions = spec.get("completions")
    if completions is None:
        return tally.succeeded > 0
    return tally.succeeded >= int(completions)


def _suspension(suspended: bool, conditions: list[podstate.Obj], status: podstate.Obj,
                now: datetime.datetime, plan: Plan) -> None:
    if suspended:
        if podstate.set_condition(conditions, "Suspended", "True", now=now, probe=True,
                                  reason="JobSuspended", message="Job suspended"):
            plan.events.append(("Normal", "Suspended", "Job suspended"))
        return
    if any(c.get("type") == "Suspended" and c.get("status") == "True" for c in conditions):
        podstate.set_condition(conditions, "Suspended", "False", now=now, probe=True,
                               reason="JobResumed", message="Job resumed")
        plan.events.append(("Normal", "Resumed", "Job resumed"))
        status["startTime"] = podstate.stamp(now)


def _finish(finish: tuple[str, str, str] | None, conditions: list[podstate.Obj],
            status: podstate.Obj, pods: list[Mapping[str, Any]], now: datetime.datetime,
            plan: Plan) -> None:
    if finish is None:
        return
    kind, reason, message = finish
    podstate.set_condition(conditions, kind, "True", now=now, probe=True, reason=reason,
                           message=message)
    terminating = [p for p in pods if podstate.is_deleting(p) and not podstate.is_terminal(p)]
    if terminating or plan.delete or plan.terminate:
        return
    terminal = INTERIM[kind]
    podstate.set_condition(conditions, terminal, "True", now=now, probe=True, reason=reason,
                           message=message)
    if terminal == "Complete":
        status["completionTime"] = podstate.stamp(now)
        plan.events.append(("Normal", "Completed", "Job completed"))
    else:
        plan.events.append(("Warning", reason, message))
    plan.requeue_after = None


def _counters(job: Mapping[str, Any], status: podstate.Obj, conditions: list[podstate.Obj],
              pods: list[Mapping[str, Any]], tally: Tally, plan: Plan) -> None:
    spec = job.get("spec", {})
    doomed = {p["metadata"].get("uid") for p in plan.delete + plan.terminate}
    active = [p for p in pods if podstate.is_active(p) and p["metadata"].get("uid") not in doomed]
    terminating = sum(1 for p in pods if podstate.is_deleting(p) and not podstate.is_terminal(p))
    status.update(active=len(active) + len(plan.create),
                  ready=sum(1 for p in active if podstate.is_ready(p)),
                  succeeded=tally.succeeded, failed=tally.failed,
                  terminating=terminating + len(doomed), uncountedTerminatedPods={})
    if spec.get("completionMode") == "Indexed":
        text = jobpolicy.format_indexes(tally.succeeded_indexes)
        if text:
            status["completedIndexes"] = text
        if spec.get("backoffLimitPerIndex") is not None:
            status["failedIndexes"] = jobpolicy.format_indexes(tally.failed_indexes)
    if conditions:
        status["conditions"] = conditions


def _soonest(a: float | None, b: float | None) -> float | None:
    values = [v for v in (a, b) if v is not None]
    return min(values) if values else None
