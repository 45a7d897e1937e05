"""Step 15 of spec §8: suspend active Jobs, or resume them where allowed (spec §10.10).

Called by: `engine.planner.reconcile`. Consults rules/jobset-startup through
`engine.planner.gating` (resume honours dependsOn and InOrder) and rules/jobset-status
(situations `Suspended`, `Resumed`, `StartupInProgress`).
Must not import: `engine.kube`, other steps.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from engine.model import keys
from engine.planner import context, gating, observed, plan

ORIGIN = "step suspend (§10.10)"


def run(ctx: context.Context) -> context.StepOutcome:
    """Suspend when `spec.suspend` is true, else resume replicated job by replicated job."""
    return _suspend(ctx) if ctx.spec.get("suspend") else _resume(ctx)


def _suspend(ctx: context.Context) -> context.StepOutcome:
    updates = []
    for job in ctx.children.active:
        if not (job.get("spec") or {}).get("suspend"):
            suspended = copy.deepcopy(dict(job))
            suspended.setdefault("spec", {})["suspend"] = True
            updates.append(plan.UpdateJob(name=observed.name_of(job), job=suspended))
    status, events = context.enter(ctx, "Suspended", origin=ORIGIN)
    return context.StepOutcome(actions=tuple(updates) + events, status=status if events else None)


def _resume(ctx: context.Context) -> context.StepOutcome:
    gates, ordered = gating.gates(ctx), gating.in_order(ctx)
    updates: list[plan.Action] = []
    for rj in ctx.spec.get("replicatedJobs") or []:
        gate = gates[rj["name"]]
        if not gate.dependencies_met or (ordered and gate.all_replicas_started):
            continue
        updates.extend(_resumed(job, rj) for job in ctx.children.active
                       if observed.labels_of(job).get(keys.REPLICATED_JOB_NAME) == rj["name"]
                       and (job.get("spec") or {}).get("suspend"))
        if ordered:
            situation = "StartupInProgress"
            break
    else:
        situation = "Resumed"
    status, events = context.enter(ctx, situation, origin=ORIGIN)
    return context.StepOutcome(actions=tuple(updates) + events, status=status if events else None)


def _resumed(job: Mapping[str, Any], rj: Mapping[str, Any]) -> plan.UpdateJob:
    """The Job unsuspended, with the replicated job's current pod template merged in (§10.10 step 3)."""
    resumed = copy.deepcopy(dict(job))
    pod = resumed.setdefault("spec", {}).setdefault("template", {})
    wanted = ((rj.get("template") or {}).get("spec") or {}).get("template") or {}
    for field in ("labels", "annotations"):
        merged = {**(pod.get("metadata") or {}).get(field, {}), **(wanted.get("metadata") or {}).get(field, {})}
        if merged:
            pod.setdefault("metadata", {})[field] = merged
    pod_spec, wanted_spec = pod.setdefault("spec", {}), wanted.get("spec") or {}
    if pod_spec.get("nodeSelector") or wanted_spec.get("nodeSelector"):
        pod_spec["nodeSelector"] = {**(pod_spec.get("nodeSelector") or {}), **(wanted_spec.get("nodeSelector") or {})}
    for field in ("tolerations", "schedulingGates"):
        union: list[Any] = []
        for entry in list(pod_spec.get(field) or []) + list(wanted_spec.get(field) or []):
            if entry not in union:
                union.append(entry)
        if union:
            pod_spec[field] = union
    resumed["spec"]["suspend"] = False
    return plan.UpdateJob(name=observed.name_of(job), job=resumed,
                          reset_start_time=bool((job.get("status") or {}).get("startTime")))
