"""Step 12 of spec §8: ensure the PVCs of `volumeClaimPolicies` exist (spec §9.8).

Called by: `engine.planner.reconcile`. Objects come from the construct packs through
`engine.planner.construction`. Existing PVCs are left untouched; PVCs are never deleted.
Must not import: `engine.kube`, other steps.
"""

from __future__ import annotations

from engine.planner import construction, context, observed, plan


def run(ctx: context.Context) -> context.StepOutcome:
    """One CreatePVC per policy template whose PVC is not observed, in policy then template order."""
    existing = {observed.name_of(pvc) for pvc in ctx.observed.pvcs}
    actions = []
    for policy_index, policy in enumerate(ctx.spec.get("volumeClaimPolicies") or []):
        for template_index in range(len(policy.get("templates") or [])):
            pvc = construction.pvc(ctx.packs, ctx.jobset, policy_index=policy_index, template_index=template_index)
            if observed.name_of(pvc) not in existing:
                actions.append(plan.CreatePVC(pvc=pvc, policy=policy_index))
    return context.StepOutcome(actions=tuple(actions))
