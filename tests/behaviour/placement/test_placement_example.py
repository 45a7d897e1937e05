"""examples/exclusive-placement.yaml on the simulated cluster: one rack per Job, then Completed."""

from __future__ import annotations

import pathlib

import yaml

import placementharness as harness
from engine.kube import resources
from placementharness import RACK

EXAMPLE = pathlib.Path(__file__).resolve().parents[3] / "examples" / "exclusive-placement.yaml"


def test_the_example_runs_each_job_in_a_rack_of_its_own(space: harness.Space) -> None:
    """§12: the four Jobs of the example take the four racks, one each, and the JobSet completes."""
    [document] = list(yaml.safe_load_all(EXAMPLE.read_text()))
    space.cluster.create(resources.JOBSETS, document, namespace=space.namespace)
    seen: dict[str, set[str]] = {}

    def completed() -> bool:
        for job, racks in space.placement("exclusive-placement", RACK).items():
            seen.setdefault(job, set()).update(racks)
        jobset = space.cluster.call(space.cluster.environment.api.get(
            resources.JOBSETS, "exclusive-placement", namespace=space.namespace))
        return jobset.get("status", {}).get("terminalState") == "Completed"

    harness.eventually(completed, timeout=60, what="the example JobSet Completed")
    assert len(seen) == 4 and all(len(racks) == 1 for racks in seen.values()), seen
    assert len(set().union(*seen.values())) == 4, seen
