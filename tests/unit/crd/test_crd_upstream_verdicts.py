"""Our JobSet schema gives upstream's CRD verdicts (spec §5.1 step 1 and 3, §6.1 S-*, §6.2).

Every JobSet of the upstream examples and every mutated manifest of
tests/corpus/schema-invalid goes through prune + apply_defaults + validate twice, once with
our generated schema and once with the upstream CRD's schema, both through `engine.crd`.
"""

from __future__ import annotations

import copy
import json
import pathlib

import pytest
import yaml

from engine.crd import structural

ROOT = pathlib.Path(__file__).resolve().parents[3]
SHARED = ROOT.parent / "shared"
CORPUS = ROOT / "tests" / "corpus" / "schema-invalid"
OURS = ROOT / "schemas" / "jobset.v1alpha2.schema.json"


def _examples() -> list[tuple[str, dict]]:
    found = []
    for path in sorted((SHARED / "upstream-examples").rglob("*.yaml")):
        for number, doc in enumerate(yaml.safe_load_all(path.read_text())):
            if isinstance(doc, dict) and doc.get("kind") == "JobSet":
                found.append((f"{path.relative_to(SHARED / 'upstream-examples')}#{number}", doc))
    return found


EXAMPLES = _examples()
CASES = sorted(CORPUS.glob("*.yaml"))


@pytest.fixture(scope="module")
def ours() -> structural.CompiledSchema:
    return structural.CompiledSchema(json.loads(OURS.read_text()))


@pytest.fixture(scope="module")
def upstream() -> structural.CompiledSchema:
    text = (SHARED / "upstream-crd" / "jobset.x-k8s.io_jobsets.yaml").read_text()
    crd = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return structural.CompiledSchema(crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"])


def verdict(schema: structural.CompiledSchema, obj: dict, old: dict | None = None) -> tuple[list[str], list[tuple[str, str]], dict]:
    """Unknown fields, sorted (field, cause type) errors and the defaulted object."""
    obj = copy.deepcopy(obj)
    unknown = schema.prune(obj)
    schema.apply_defaults(obj)
    if old is not None:
        old = copy.deepcopy(old)
        schema.prune(old)
        schema.apply_defaults(old)
    errors = sorted((error.field, error.type) for error in schema.validate(obj, old))
    return sorted(unknown), errors, obj


def default_rule_names(obj: dict) -> dict:
    """The one webhook default (spec §5.2 step 5) the schema depends on: unnamed rules get names."""
    obj = copy.deepcopy(obj)
    for position, rule in enumerate(obj.get("spec", {}).get("failurePolicy", {}).get("rules", [])):
        rule.setdefault("name", f"failurePolicyRule{position}")
    return obj


def test_the_upstream_examples_and_corpus_are_there() -> None:
    assert len(EXAMPLES) >= 25
    assert {yaml.safe_load(path.read_text())["rule"] for path in CASES} >= {f"S-{i}" for i in range(1, 10)} | {"§6.2"}


@pytest.mark.parametrize(("name", "doc"), EXAMPLES, ids=[name for name, _ in EXAMPLES])
def test_upstream_example_gets_the_same_verdict_before_webhook_defaulting(
        name: str, doc: dict, ours: structural.CompiledSchema, upstream: structural.CompiledSchema) -> None:
    """§5.1: without the webhook, unnamed failure-policy rules fail `required` in both schemas."""
    mine, theirs = verdict(ours, doc), verdict(upstream, doc)
    assert mine[:2] == theirs[:2]
    rules = doc["spec"].get("failurePolicy", {}).get("rules", [])
    unnamed = [f"spec.failurePolicy.rules[{i}].name" for i, rule in enumerate(rules) if "name" not in rule]
    assert mine[1] == [(field, "FieldValueRequired") for field in unnamed]


@pytest.mark.parametrize(("name", "doc"), EXAMPLES, ids=[name for name, _ in EXAMPLES])
def test_upstream_example_is_valid_and_defaulted_alike_after_webhook_defaulting(
        name: str, doc: dict, ours: structural.CompiledSchema, upstream: structural.CompiledSchema) -> None:
    """§5.1 steps 1-3: structural defaults then schema validation accept every example."""
    named = default_rule_names(doc)
    mine, theirs = verdict(ours, named), verdict(upstream, named)
    assert mine[:2] == theirs[:2] == ([], [])
    assert mine[2] == theirs[2]
    for job in mine[2]["spec"]["replicatedJobs"]:
        assert job["replicas"] >= 0 and "groupName" in job


@pytest.mark.parametrize("path", CASES, ids=[path.stem for path in CASES])
def test_invalid_manifest_is_rejected_at_the_right_field_by_both_schemas(
        path: pathlib.Path, ours: structural.CompiledSchema, upstream: structural.CompiledSchema) -> None:
    """§6.1 S-1..S-9 and §6.2 immutability: one mutated manifest per rule."""
    case = yaml.safe_load(path.read_text())
    expected = sorted((item["field"], item["type"]) for item in case["expect"])
    mine = verdict(ours, case["object"], case.get("old"))
    theirs = verdict(upstream, case["object"], case.get("old"))
    assert mine[1] == expected
    assert [field for field, _ in theirs[1]] == [field for field, _ in expected]
    if "old" in case:
        assert verdict(ours, case["object"])[1] == [], "the change alone is valid on create"


def test_a_jobset_with_16_replicated_jobs_validates_cleanly(ours: structural.CompiledSchema) -> None:
    """The size the speed goal is stated for (timings: see the report, not a test)."""
    name, doc = EXAMPLES[0]
    big = default_rule_names(doc)
    template = big["spec"]["replicatedJobs"][0]
    big["spec"]["replicatedJobs"] = [{**copy.deepcopy(template), "name": f"rj{i}"} for i in range(16)]
    big["spec"].pop("startupPolicy", None)
    for job in big["spec"]["replicatedJobs"]:
        job.pop("dependsOn", None)
    unknown, errors, defaulted = verdict(ours, big)
    assert (unknown, errors) == ([], [])
    assert [job["name"] for job in defaulted["spec"]["replicatedJobs"]] == [f"rj{i}" for i in range(16)]
