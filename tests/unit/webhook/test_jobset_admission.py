"""JobSet admission through the packs (spec §5.2): the caller's object is never modified."""

from __future__ import annotations

import copy
import pathlib

import yaml

from engine.rules import loading, registry
from engine.webhook import jobsets

ROOT = pathlib.Path(__file__).resolve().parents[3]


def test_defaulting_returns_a_patched_copy_and_leaves_the_input_alone() -> None:
    packs = registry.Registry()
    assert not packs.load([loading.builtin_directory()])
    admission = jobsets.JobSetAdmission(packs, feature_gates={})
    jobset = yaml.safe_load((ROOT / "examples" / "simple.yaml").read_text())
    before = copy.deepcopy(jobset)
    result = admission.default(jobset)
    assert jobset == before
    assert result.subject["spec"]["successPolicy"] == {"operator": "All"}
    assert "successPolicy" not in jobset["spec"]
