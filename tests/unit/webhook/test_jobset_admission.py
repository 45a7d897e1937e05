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


def test_an_object_handed_over_is_patched_in_place_with_the_same_result() -> None:
    """`owned=True` (lint and the mutating webhook own their decoded object): no copy is made, the
    object itself becomes the defaulted JobSet, and operations and trace are those of a copy."""
    packs = registry.Registry()
    assert not packs.load([loading.builtin_directory()])
    admission = jobsets.JobSetAdmission(packs, feature_gates={})
    jobset = yaml.safe_load((ROOT / "examples" / "simple.yaml").read_text())
    copied = admission.default(copy.deepcopy(jobset))
    handed = admission.default(jobset, owned=True)
    assert handed.subject is jobset
    assert jobset == copied.subject
    assert handed.operations == copied.operations and handed.trace == copied.trace


def test_decisions_only_trace_keeps_every_decision_and_drops_the_rules_that_did_nothing() -> None:
    """`skipped_trace=False` (lint): the same patches and errors; the trace is the full trace
    without its SKIPPED entries, in the same order."""
    packs = registry.Registry()
    assert not packs.load([loading.builtin_directory()])
    full = jobsets.JobSetAdmission(packs, feature_gates={})
    decisions_only = jobsets.JobSetAdmission(packs, feature_gates={}, skipped_trace=False)
    jobset = yaml.safe_load((ROOT / "examples" / "simple.yaml").read_text())
    jobset["spec"]["replicatedJobs"][0]["name"] = "Not_A_Label"
    for admit in (lambda a, js: a.default(copy.deepcopy(js)), lambda a, js: a.validate(copy.deepcopy(js))):
        everything, decided = admit(full, jobset), admit(decisions_only, jobset)
        assert decided.operations == everything.operations and decided.errors == everything.errors
        assert decided.trace == tuple(e for e in everything.trace if e.outcome != "skipped")
        assert any(e.outcome == "skipped" for e in everything.trace) and decided.trace
