"""Step 11 of spec §8: ensure the headless Service exists (spec §9.7).

Called by: `engine.planner.reconcile`. The object comes from the construct packs through
`engine.planner.construction`. An existing Service of that name is never updated.
Must not import: `engine.kube`, other steps.
"""

from __future__ import annotations

from engine.planner import construction, context, plan


def run(ctx: context.Context) -> context.StepOutcome:
    """CreateService when `network.enableDNSHostnames` is true and no Service of that name exists."""
    network = ctx.spec.get("network")
    if not network or not network.get("enableDNSHostnames") or ctx.observed.service is not None:
        return context.StepOutcome()
    return context.StepOutcome(actions=(plan.CreateService(service=construction.service(ctx.packs, ctx.jobset)),))
