"""`jobset lint`'s schema stages (spec §5.1 steps 1-3) give the API server's separate steps.

`Checker.check` prunes and defaults a copy in one walk and, after the mutating webhook,
defaults and validates in one walk; these tests replay the separate steps (prune,
apply_defaults, the `default` packs, apply_defaults, validate) with the same schema and
compare the verdicts: findings in order, and the object as it would be stored.
"""

from __future__ import annotations

import copy
import json
import pathlib
import random

import pytest
import yaml

from engine.lint import pipeline

ROOT = pathlib.Path(__file__).resolve().parents[3]
EXAMPLES = [doc for path in sorted((ROOT.parent / "shared" / "upstream-examples").rglob("*.yaml"))
            for doc in yaml.safe_load_all(path.read_text()) if isinstance(doc, dict) and doc.get("kind") == "JobSet"]
_ODD = [None, True, -1, 2.5, "", "Bad_Name", "a" * 70, [], {}, {"name": "x"}, ["a", "a"]]


@pytest.fixture(scope="module")
def checker() -> pipeline.Checker:
    return pipeline.Checker(feature_gates={"InPlaceRestart": True, "RestartJob": True})


def steps(checker: pipeline.Checker, document: dict) -> tuple[list[tuple[str, str]], dict]:
    """The CREATE path as separate steps up to the validating webhook, stopping where `check`
    stops (unknown fields, a webhook denial, schema errors): its findings and stored object."""
    obj = copy.deepcopy(document)
    unknown = checker.schema.prune(obj)
    if unknown:
        return [(path, f'unknown field "{path}"') for path in unknown], obj
    checker.schema.apply_defaults(obj)
    defaulting = checker.admission.default(obj)
    if not defaulting.allowed:
        return [(error.field, error.message) for error in defaulting.errors], obj
    obj = defaulting.subject
    checker.schema.apply_defaults(obj)
    return [(error.field, error.body) for error in checker.schema.validate(obj)], obj


def before_validation(found: pipeline.Verdict) -> list[tuple[str, str]]:
    """The findings of `check` made before the validating webhook (whose findings are left out)."""
    if any(finding.rule.startswith("jobset-validation/") for finding in found.findings):
        return []
    return [(finding.field, finding.message) for finding in found.findings]


def _mutated(rng: random.Random, document: dict) -> dict:
    mutated = copy.deepcopy(document)
    for _ in range(rng.randint(1, 3)):
        parents = [node for node in _containers(mutated) if node]
        parent = rng.choice(parents)
        key = rng.choice(list(parent) if isinstance(parent, dict) else range(len(parent)))
        if rng.random() < 0.2 and isinstance(parent, dict) and parent is not mutated.get("metadata"):
            parent["unknownField"] = 1
        else:
            parent[key] = copy.deepcopy(rng.choice(_ODD))
    return mutated


def _containers(node: object) -> list:
    found = []
    if isinstance(node, (dict, list)):
        found.append(node)
        for item in node.values() if isinstance(node, dict) else node:
            found += _containers(item)
    return found


def test_lint_verdicts_equal_the_separate_steps_on_mutated_upstream_examples(checker: pipeline.Checker) -> None:
    """§5.1: strict unknown fields, then defaults, webhook defaults, defaults, schema and CEL."""
    rng = random.Random(11)
    compared = 0
    for document in [*EXAMPLES, *(_mutated(rng, rng.choice(EXAMPLES)) for _ in range(120))]:
        before = json.dumps(document)
        found = checker.check(document)
        if found.findings and found.findings[0].rule == "apiserver/metadata":
            continue  # ObjectMeta checks come before the schema stages
        expected, stored = steps(checker, document)
        assert json.dumps(document) == before, "check leaves its input alone"
        assert before_validation(found) == expected
        assert found.defaulted == stored
        compared += bool(expected)
    assert compared > 40, "most mutations are caught before the validating webhook"


def test_unknown_fields_stop_lint_before_any_defaulting(checker: pipeline.Checker) -> None:
    """§5.1 step 1: strict field validation rejects the pruned object, before structural defaults."""
    document = copy.deepcopy(EXAMPLES[0])
    document["spec"]["replicatedJobs"][0]["replica"] = 3
    found = checker.check(document)
    assert [f.field for f in found.findings] == ["spec.replicatedJobs[0].replica"]
    assert "replica" not in found.defaulted["spec"]["replicatedJobs"][0]
    assert found.defaulted == steps(checker, document)[1]
    assert "replica" in document["spec"]["replicatedJobs"][0]
