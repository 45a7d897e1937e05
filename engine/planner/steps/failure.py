"""Step 9 of spec §8: the failure policy (spec §10.8), decided by the `failure` packs.

Called by: `engine.planner.reconcile`. Consults: rules/jobset-failure (phase `failure`),
inputs `jobset` (with the draft status), `failedJobs`
(`[{name, replicatedJob, reason, message, failedAt}]`, `failedAt` in epoch microseconds of
the Job's `Failed` condition) and `featureGates`; conditions from rules/jobset-status
(situations `Failed`, `Restarting`). Python applies the chosen action to the
counters (§10.9 table) and conditions; any failed Job ends the pass.
Must not import: `engine.kube`, other steps.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.model import keys
from engine.planner import context, observed, packs, plan


def run(ctx: context.Context) -> context.StepOutcome:
    """Ask the failure packs for one action and apply it; always ends the pass."""
    if not ctx.children.failed:
        return context.StepOutcome()
    decisions = ctx.packs.decide("failure", {
        "jobset": {**ctx.jobset, "status": dict(ctx.status)},
        "failedJobs": [_facts(job) for job in ctx.children.failed],
        "featureGates": dict(ctx.observed.feature_gates),
    })
    if not decisions:
        return context.StepOutcome(stop=True, error="no failure pack decided what to do with the failed Jobs")
    decision = decisions[0]
    trace = (f"failure: {decision.origin} -> {decision.type} (§10.8)",)
    match decision.type:
        case "FailJobSet":
            status, events = context.enter(ctx, "Failed", origin=decision.origin,
                                           reason=decision.param("reason"), message=decision.param("message"))
            status["terminalState"] = keys.CONDITION_FAILED
            return context.StepOutcome(actions=events + (plan.Record("failed"),), status=status, stop=True,
                                       trace=trace)
        case "RestartJobSet":
            return _restart_jobset(ctx, decision, trace=trace)
        case "RestartJob":
            return _restart_job(ctx, decision, trace=trace)
        case "Refuse":
            return context.StepOutcome(stop=True, error=decision.param("message"), trace=trace)
    return context.StepOutcome(stop=True, error=f"{decision.origin}: unknown failure action {decision.type}")


def _facts(job: Mapping[str, Any]) -> dict[str, Any]:
    """What the failure packs may know of a failed Job."""
    condition = observed.finished_condition(job) or {}
    failed_at = observed.parse_time(condition.get("lastTransitionTime"))
    return {
        "name": observed.name_of(job),
        "replicatedJob": observed.labels_of(job).get(keys.REPLICATED_JOB_NAME, ""),
        "reason": condition.get("reason", ""),
        "message": condition.get("message", ""),
        "failedAt": int(failed_at.timestamp() * 1_000_000) if failed_at else 0,
    }


def _event(decision: packs.Decision) -> plan.Emit:
    return plan.Emit(type="Warning", reason=decision.param("eventReason"),
                     message=decision.param("message"), origin=decision.origin)


def _restart_jobset(ctx: context.Context, decision: packs.Decision, *,
                    trace: tuple[str, ...]) -> context.StepOutcome:
    """Global restart: bump `restarts` (and the counted one), RestartingJobSet=True (§10.9)."""
    status = dict(ctx.status)
    status["restarts"] = int(status.get("restarts", 0)) + 1
    if decision.param("countsTowardsMax"):
        status["restartsCountTowardsMax"] = int(status.get("restartsCountTowardsMax", 0)) + 1
    status, events = context.enter(ctx, "Restarting", origin=decision.origin, reason=decision.param("reason"),
                                   message=decision.param("message"), base=status)
    return context.StepOutcome(actions=(_event(decision),) + events + (plan.Record("restart", decision.origin),),
                               status=status, stop=True, trace=trace)


def _restart_job(ctx: context.Context, decision: packs.Decision, *,
                 trace: tuple[str, ...]) -> context.StepOutcome:
    """Per-job restart: bump `jobRestarts[k]` (and the counted list) of the Job's replicated job."""
    job = next((j for j in ctx.children.failed if observed.name_of(j) == decision.param("job")), None)
    if job is None:
        return context.StepOutcome(stop=True, trace=trace, error=(
            f'{decision.origin}: job "{decision.param("job")}" is not a failed Job of this attempt'))
    replicated_job = observed.labels_of(job).get(keys.REPLICATED_JOB_NAME, "")
    try:
        index = observed.int_label(job, keys.JOB_INDEX)
    except observed.ClassificationError as error:
        return context.StepOutcome(stop=True, error=str(error), trace=trace)
    entries = [dict(entry) for entry in ctx.status.get("replicatedJobsStatus") or []]
    entry = next((e for e in entries if e.get("name") == replicated_job), None)
    replicas = next((int(rj.get("replicas", 1)) for rj in ctx.spec.get("replicatedJobs") or []
                     if rj.get("name") == replicated_job), 0)
    fields = ["jobRestarts"] + (["jobRestartsCountTowardsMax"] if decision.param("countsTowardsMax") else [])
    for field in fields:
        counts = list((entry or {}).get(field) or [0] * replicas)
        if entry is None or not 0 <= index < len(counts):
            return context.StepOutcome(stop=True, trace=trace, error=(
                f'failed job "{decision.param("job")}": index {index} is out of bounds of {field} '
                f'of replicated job {replicated_job!r} (length {len(counts)})'))
        counts[index] += 1
        entry[field] = counts
    status = {**ctx.status, "replicatedJobsStatus": entries}
    return context.StepOutcome(actions=(_event(decision), plan.Record("restart", decision.origin)), status=status,
                               stop=True, trace=trace)
