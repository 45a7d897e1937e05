"""Child objects the planner asks to create: Jobs (spec §9.2-§9.3), the headless Service
(§9.7) and PVCs (§9.8).

Owns: `job`, `service`, `pvc`: the skeletons of `engine.model.builders` patched by every
pack of phase `construct` (rules/jobset-construct, then operator packs). Nothing JobSet adds
is written here.
Called by: the children, service and pvcs steps.
Must not import: `engine.kube`, `engine.webhook`, `engine.localcluster`, the steps.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.model import builders
from engine.planner import packs

RawObject = Mapping[str, Any]
PHASE = "construct"


def job(decision_packs: packs.Packs, jobset: RawObject, *, replicated_job_index: int, job_index: int,
        gates: Mapping[str, bool]) -> dict[str, Any]:
    """Job `job_index` of the replicated job at `replicated_job_index`, ready to create (spec §9.2)."""
    rj = jobset["spec"]["replicatedJobs"][replicated_job_index]
    return decision_packs.apply_phase(PHASE, subject="object", inputs={
        "object": builders.job_skeleton(rj), "jobset": dict(jobset), "replicatedJobIndex": replicated_job_index,
        "jobIndex": job_index, "featureGates": dict(gates)})


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
