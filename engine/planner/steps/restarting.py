"""Step 8 of spec §8: `RestartingJobSet=False` (`JobsReady`) once every expected Job is ready (§10.9).

Called by: `engine.planner.reconcile`. Consults rules/jobset-status (situation `JobsReady`);
the condition engine (§10.4) makes
this a no-op unless a restart already created the condition.
Must not import: `engine.kube`, other steps.
"""

from __future__ import annotations

from engine.planner import context


def run(ctx: context.Context) -> context.StepOutcome:
    """Flip RestartingJobSet to False when not suspended and Σ(ready+succeeded) == Σ replicas."""
    if ctx.spec.get("suspend"):
        return context.StepOutcome()
    expected = sum(int(rj.get("replicas", 1)) for rj in ctx.spec.get("replicatedJobs") or [])
    started = sum(entry.get("ready", 0) + entry.get("succeeded", 0)
                  for entry in ctx.status.get("replicatedJobsStatus") or [])
    if started != expected:
        return context.StepOutcome()
    status, events = context.enter(ctx, "JobsReady", origin="step restarting (§8 step 8)")
    return context.StepOutcome(actions=events, status=status if events else None)
