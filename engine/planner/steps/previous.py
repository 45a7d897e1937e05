"""Step 7 of spec §8: delete every Job of an earlier attempt (foreground; §10.9).

Called by: `engine.planner.reconcile`. Consults no pack.
Must not import: `engine.kube`, other steps.
"""

from __future__ import annotations

from engine.planner import context, observed, plan


def run(ctx: context.Context) -> context.StepOutcome:
    """One DeleteJob per previous Job not already being deleted."""
    return context.StepOutcome(actions=tuple(
        plan.DeleteJob(name=observed.name_of(job), reason="previous attempt (§10.9)")
        for job in ctx.children.previous
        if not job.get("metadata", {}).get("deletionTimestamp")))
