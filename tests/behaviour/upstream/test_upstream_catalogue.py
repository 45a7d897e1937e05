"""Which upstream example manifests run here, and why the others do not.

Every manifest of `../shared/upstream-examples` that holds a JobSet (or, for Argo, embeds
one) is either run by a test module of this directory, which names its path, or listed in
SKIPPED with what it needs that the simulation does not provide.
"""

from __future__ import annotations

import upstreamharness as harness

# path: (the real component it needs, what running it here would take)
SKIPPED: dict[str, tuple[str, str]] = {
    "tpu-multislice/v6e-jax-workload.yaml": (
        "Kueue admission (queue-name label, ResourceFlavor and ClusterQueue) and real TPU v6e node pools",
        "Kueue's JobSet integration (suspend until admitted, inject the flavor's node labels), nodes offering "
        "google.com/tpu with the GKE TPU labels, and a scenario for the JAX program"),
    "workload-aware-scheduling/jobset.yaml": (
        "the scheduling.k8s.io/v1alpha2 Workload and PodGroup APIs and gang scheduling (pod schedulingGroup)",
        "those APIs in the embedded API server and a scheduler that binds a PodGroup's pods all or none"),
    "workload-aware-scheduling/tas/jobset.yaml": (
        "Workload/PodGroup gang scheduling with topology constraints",
        "the Workload and PodGroup APIs and a topology-aware gang scheduler"),
    "workload-aware-scheduling/preemption/high-priority-jobset.yaml": (
        "Workload/PodGroup gang scheduling with workload-aware preemption",
        "the Workload and PodGroup APIs, PriorityClasses and a scheduler that preempts whole PodGroups"),
    "workload-aware-scheduling/preemption/low-priority-jobset.yaml": (
        "Workload/PodGroup gang scheduling with workload-aware preemption",
        "the Workload and PodGroup APIs, PriorityClasses and a scheduler that preempts whole PodGroups"),
    "workload-aware-scheduling/dra/jobset.yaml": (
        "DRA (ResourceClaimTemplate, device class gpu.example.com) with PodGroup-level claims",
        "the resource.k8s.io API, a DRA driver publishing devices, and the Workload and PodGroup APIs"),
}


def _holds_a_jobset(path: str) -> bool:
    try:
        harness.jobset_document(path)
    except ValueError:  # no JobSet in the file
        return False
    return True


def _manifests() -> set[str]:
    found = {str(p.relative_to(harness.UPSTREAM)) for p in harness.UPSTREAM.rglob("*.yaml")}
    return {path for path in found if _holds_a_jobset(path)}


def _named_by_tests() -> set[str]:
    sources = "".join(p.read_text() for p in harness.HERE.glob("test_upstream_*.py")
                      if p.name != "test_upstream_catalogue.py")
    return {path for path in _manifests() if f'"{path}"' in sources}


def test_every_upstream_jobset_manifest_is_run_or_skipped_with_a_reason() -> None:
    manifests = _manifests()
    assert len(manifests) >= 20, sorted(manifests)
    run = _named_by_tests()
    assert not run & set(SKIPPED), sorted(run & set(SKIPPED))
    assert manifests == run | set(SKIPPED), sorted(manifests ^ (run | set(SKIPPED)))


def test_every_scenario_file_belongs_to_a_test() -> None:
    sources = "".join(p.read_text() for p in harness.HERE.glob("test_upstream_*.py"))
    unused = [p.stem for p in harness.SCENARIOS.glob("*.yaml") if f'"{p.stem}"' not in sources]
    assert not unused, unused
