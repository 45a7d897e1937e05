"""Step 6 of spec §8: a finished JobSet deletes its active Jobs, then applies its TTL (§10.13).

Called by: `engine.planner.reconcile`. Consults no pack. Ends the pass when finished.
Must not import: `engine.kube`, other steps.
"""

from __future__ import annotations

import datetime

from engine.model import keys
from engine.planner import conditions, context, observed, plan

FINISHED = (keys.CONDITION_COMPLETED, keys.CONDITION_FAILED)


def run(ctx: context.Context) -> context.StepOutcome:
    """Nothing unless Completed=True or Failed=True (spec §10.2)."""
    if not any(conditions.is_true(ctx.status, kind) for kind in FINISHED):
        return context.StepOutcome()
    deletions = tuple(plan.DeleteJob(name=observed.name_of(job), reason="JobSet finished (§8 step 6)")
                      for job in ctx.children.active
                      if not job.get("metadata", {}).get("deletionTimestamp"))
    ttl = ctx.spec.get("ttlSecondsAfterFinished")
    if ttl is None:
        return context.StepOutcome(actions=deletions, stop=True)
    finished_at = _finish_time(ctx)
    if finished_at is None:
        return context.StepOutcome(actions=deletions, stop=True, error=(
            f'unable to find the time when the JobSet {ctx.name} finished'))
    remaining = (finished_at - ctx.observed.now).total_seconds() + int(ttl)
    if remaining <= 0:
        return context.StepOutcome(actions=deletions + (plan.DeleteJobSet(name=ctx.name),), stop=True,
                                   trace=(f"finished: TTL {ttl}s expired (§10.13)",))
    return context.StepOutcome(actions=deletions, stop=True, requeue_after=remaining,
                               trace=(f"finished: TTL expires in {remaining:g}s (§10.13)",))


def _finish_time(ctx: context.Context) -> datetime.datetime | None:
    """lastTransitionTime of the first Completed=True or Failed=True condition."""
    for condition in ctx.status.get("conditions") or []:
        if condition.get("type") in FINISHED and condition.get("status") == "True":
            return observed.parse_time(condition.get("lastTransitionTime"))
    return None
