"""Step 13 of spec §8: elastic scaling of active Jobs (gate `ElasticJobSet`, spec §10.14).

Called by: `engine.planner.reconcile`. Consults no pack.
Must not import: `engine.kube`, other steps.
"""

from __future__ import annotations

from engine.model import keys
from engine.planner import context, observed, plan


def run(ctx: context.Context) -> context.StepOutcome:
    """Patch parallelism/completions of active Jobs when the template's two values agree."""
    if not ctx.observed.gate(keys.GATE_ELASTIC_JOBSET):
        return context.StepOutcome()
    templates = {rj["name"]: (rj.get("template") or {}).get("spec") or {}
                 for rj in ctx.spec.get("replicatedJobs") or []}
    actions = []
    for job in ctx.children.active:
        template = templates.get(observed.labels_of(job).get(keys.REPLICATED_JOB_NAME, ""))
        if template is None:
            continue
        wanted = (template.get("parallelism"), template.get("completions"))
        current = ((job.get("spec") or {}).get("parallelism"), (job.get("spec") or {}).get("completions"))
        if wanted[0] == wanted[1] and current != wanted:
            actions.append(plan.PatchJobScaling(name=observed.name_of(job), parallelism=wanted[0],
                                                completions=wanted[1]))
    return context.StepOutcome(actions=tuple(actions))
