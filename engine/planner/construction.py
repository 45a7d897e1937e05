"""Child objects the planner asks to create: Jobs (spec §9.2-§9.3), the headless Service
(§9.7) and PVCs (§9.8).

Owns: `jobs`, `service`, `pvc`: the skeletons of `engine.model.builders` patched by every
pack of phase `construct` (rules/jobset-construct, then operator packs). Nothing JobSet adds
is written here.
Jobs of one replicated job are built in one batch from one skeleton: the engine copies the
subject of every evaluation (`engine.rules.patching.Working`), so a skeleton per Job would
copy the template twice (5,000 Jobs: ~0.9x the CPU time with one skeleton). Python's cyclic
garbage collector is paused during that batch: a batch only allocates (thousands of small
dicts that stay alive in the result), so the collections it would trigger find no garbage
and only re-traverse the growing result (5,000 Jobs: ~0.85x the CPU time paused). Both
ratios side by side in `bench/lint_render.py`. The pause is skipped when collection is
already off, and collection is back on after the batch, even on error.
Called by: the children, service and pvcs steps, and `jobset render`.
Must not import: `engine.kube`, `engine.webhook`, `engine.localcluster`, the steps.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator, Mapping, Sequence
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
    shared = {"jobset": dict(jobset), "replicatedJobIndex": replicated_job_index, "featureGates": dict(gates),
              "object": builders.job_skeleton(rj)}  # one skeleton: each evaluation patches its own copy
    with _collection_paused():
        return decision_packs.apply_phase_many(PHASE, subject="object", shared=shared,
                                               each=({"jobIndex": index} for index in job_indexes))


@contextlib.contextmanager
def _collection_paused() -> Iterator[None]:
    """Cyclic garbage collection off for one batch (see the module docstring)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


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
