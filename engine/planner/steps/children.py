"""Step 14 of spec §8: create missing child Jobs (spec §9.1), gated by dependsOn (§10.11),
InOrder startup (§10.12) and BlockingRecreate (§10.9).

Called by: `engine.planner.reconcile`. Consults rules/jobset-startup through
`engine.planner.gating` and rules/jobset-status (situations `StartupInProgress`,
`StartupCompleted`); objects come from `engine.planner.construction`.
Must not import: `engine.kube`, other steps.
"""

from __future__ import annotations

from engine.model import names
from engine.planner import construction, context, gating, observed, plan

ORIGIN = "step children (§10.12)"


def run(ctx: context.Context) -> context.StepOutcome:
    """CreateJob for every expected Job whose name is free, replicated job by replicated job."""
    if (ctx.spec.get("failurePolicy") or {}).get("restartStrategy") == "BlockingRecreate" and ctx.children.previous:
        return context.StepOutcome(trace=("children: BlockingRecreate waits for previous Jobs (§10.9)",))
    gates = gating.gates(ctx)
    ordered = gating.in_order(ctx) and not ctx.spec.get("suspend")
    actions: list[plan.Action] = []
    existing = {observed.name_of(job) for job in ctx.children.all()}
    for position, rj in enumerate(ctx.spec.get("replicatedJobs") or []):
        gate = gates[rj["name"]]
        if not gate.dependencies_met or (ordered and gate.all_replicas_started):
            continue
        actions.extend(_missing_jobs(ctx, position, existing))
        if ordered:
            return _with_startup(ctx, actions, situation="StartupInProgress")
    if ordered:
        return _with_startup(ctx, actions, situation="StartupCompleted")
    return context.StepOutcome(actions=tuple(actions))


def _missing_jobs(ctx: context.Context, position: int, existing: set[str]) -> list[plan.CreateJob]:
    """Jobs of the replicated job at `position` with no child of the same name in any bucket (§9.1)."""
    rj = ctx.spec["replicatedJobs"][position]
    jobset_name = ctx.name
    missing = [index for index in range(int(rj.get("replicas", 1)))
               if names.job_name(jobset_name, rj["name"], index) not in existing]
    if not missing:
        return []
    source = {**ctx.jobset, "status": dict(ctx.status)}
    built = construction.jobs(ctx.packs, source, replicated_job_index=position, job_indexes=missing,
                              gates=ctx.observed.feature_gates)
    return [plan.CreateJob(job=job, origin="step children (§9.1)", group=rj["name"]) for job in built]


def _with_startup(ctx: context.Context, actions: list[plan.Action], *, situation: str) -> context.StepOutcome:
    status, events = context.enter(ctx, situation, origin=ORIGIN)
    return context.StepOutcome(actions=tuple(actions) + events, status=status if events else None)
