"""Step 10 of spec §8: the success policy (spec §10.7), decided by the `success` packs.

Called by: `engine.planner.reconcile`. Consults: rules/jobset-success (phase `success`),
inputs `jobset` and `successfulJobs` (`[{name, replicatedJob}]`); conditions from
rules/jobset-status (situation `Completed`).
Must not import: `engine.kube`, other steps.
"""

from __future__ import annotations

from engine.model import keys
from engine.planner import context, observed, plan


def run(ctx: context.Context) -> context.StepOutcome:
    """Mark Completed and end the pass when a pack yields CompleteJobSet."""
    if ctx.children.failed or not ctx.children.successful:
        return context.StepOutcome()
    successful = [{"name": observed.name_of(job),
                   "replicatedJob": observed.labels_of(job).get(keys.REPLICATED_JOB_NAME, "")}
                  for job in ctx.children.successful]
    decisions = ctx.packs.decide("success", {"jobset": dict(ctx.jobset), "successfulJobs": successful})
    chosen = next((d for d in decisions if d.type == "CompleteJobSet"), None)
    if chosen is None:
        return context.StepOutcome()
    status, events = context.enter(ctx, "Completed", origin=chosen.origin, reason=chosen.param("reason"),
                                   message=chosen.param("message"))
    status["terminalState"] = keys.CONDITION_COMPLETED
    return context.StepOutcome(actions=events + (plan.Record("completed"),), status=status, stop=True,
                               trace=(f"success: {chosen.origin} completed the JobSet (§10.7)",))
