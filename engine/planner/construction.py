"""Child objects the planner asks to create: Jobs (spec §9.2-§9.3), the headless Service
(§9.7) and PVCs (§9.8).

Owns: `jobs`, `service`, `pvc`: the skeletons of `engine.model.builders` patched by every
pack of phase `construct` (rules/jobset-construct, then operator packs). Nothing JobSet adds
is written here.
Called by: the children, service and pvcs steps.
Must not import: `engine.kube`, `engine.webhook`, `engine.localcluster`, the steps.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from engine.model import builders
from engine.planner import packs

RawObject = Mapping[str, Any]
PHASE = "construct"


def jobs(decision_packs: packs.Packs, jobset: RawObject, *, replicated_job_index: int,
         job_indexes: Sequence[int], gates: Mapping[str, bool]) -> list[dict[str, Any]]:
    """Jobs `job_indexes` of the replicated job at `replicated_job_index`, ready to create (spec §9.2);
    one batch, so what the construct packs compute per replicated job is computed once."""
    rj = jobset["spec"]["replicatedJobs"][replicated_job_index]
    shared = {"jobset": dict(jobset), "replicatedJobIndex": replicated_job_index, "featureGates": dict(gates)}
    return decision_packs.apply_phase_many(PHASE, subject="object", shared=shared, each=(
        {"object": builders.job_skeleton(rj), "jobIndex": index} for index in job_indexes))


def service(decision_packs: packs.Packs, jobset: RawObject) -> dict[str, Any]:
    """The headless Service of spec §9.7."""
    return decision_packs.apply_phase(PHASE, subject="object",
                                      inputs={"object": builders.service_skeleton(), "jobset": dict(jobset)})


def pvc(decision_packs: packs.Packs, jobset: RawObject, *, policy_index: int, template_index: int) -> dict[str, Any]:
    """The PVC of one volume claim policy template (spec §9.8)."""
    template = jobset["spec"]["volumeClaimPolicies"][policy_index]["templates"][template_index]
    return decision_packs.apply_phase(PHASE, subject="object", inputs={
        "object": builders.pvc_skeleton(template), "jobset": dict(jobset),
        "volumeClaimPolicyIndex": policy_index, "templateIndex": template_index})
