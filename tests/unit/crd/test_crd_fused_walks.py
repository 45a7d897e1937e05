"""The create path in fewer walks gives what the separate steps give (spec §5.1 steps 1-3).

`pruned_copy` is prune (then apply_defaults) on a copy; `apply_defaults_and_validate` is
apply_defaults then validate; CEL rules bind only what they read of `self`. Each is compared
with the separate steps on the upstream examples, their mutations and hand-made schemas.
"""

from __future__ import annotations

import copy
import json
import pathlib
import random

import pytest
import yaml

from engine.crd import structural, views

ROOT = pathlib.Path(__file__).resolve().parents[3]
OURS = json.loads((ROOT / "schemas" / "jobset.v1alpha2.schema.json").read_text())
EXAMPLES = [doc for path in sorted((ROOT.parent / "shared" / "upstream-examples").rglob("*.yaml"))
            for doc in yaml.safe_load_all(path.read_text()) if isinstance(doc, dict) and doc.get("kind") == "JobSet"]
_ODD = [None, True, 0, -1, 2.5, "", "x", "a" * 70, [], {}, {"name": "x"}, [None], ["a", "a"]]


def obj(**properties: dict) -> dict:
    return {"type": "object", "properties": properties}


SCHEMA = obj(
    apiVersion={"type": "string"}, kind={"type": "string"}, metadata={"type": "object"},
    spec={"type": "object", "required": ["name"], "properties": {
        "name": {"type": "string", "maxLength": 5},
        "size": {"type": "integer", "default": 1, "minimum": 0},
        "gone": {"type": "string"},
        "kept": {"type": "string", "nullable": True},
        "ports": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["port", "protocol"],
                  "items": obj(port={"type": "integer"}, protocol={"type": "string", "default": "TCP"})},
        "made": {"type": "object", "default": {}, "properties": {"inner": {"type": "string", "default": "in"}}},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
    }},
)


def _steps(schema: structural.CompiledSchema, document: dict) -> tuple[list[str], dict, list[str], dict]:
    """The separate steps: prune, defaults; then defaults and validate again."""
    pruned = copy.deepcopy(document)
    unknown = schema.prune(pruned)
    schema.apply_defaults(pruned)
    checked = copy.deepcopy(pruned)
    schema.apply_defaults(checked)
    return unknown, pruned, [error.message for error in schema.validate(checked)], checked


def _fused(schema: structural.CompiledSchema, document: dict) -> tuple[list[str], dict, list[str], dict]:
    pruned, unknown = schema.pruned_copy(document, default=True)
    checked = copy.deepcopy(pruned)
    return unknown, pruned, [error.message for error in schema.apply_defaults_and_validate(checked)], checked


def _mutated(rng: random.Random, document: dict) -> dict:
    mutated = copy.deepcopy(document)
    for _ in range(rng.randint(1, 3)):
        parents = [node for node in _containers(mutated) if node]
        parent = rng.choice(parents)
        key = rng.choice(list(parent) if isinstance(parent, dict) else range(len(parent)))
        choice = rng.random()
        if choice < 0.2 and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[key]))  # a duplicate for list-map keys
        elif choice < 0.35 and isinstance(parent, dict):
            parent["unknownField"] = copy.deepcopy(rng.choice(_ODD))
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


def test_one_walk_gives_what_the_separate_steps_give_on_mutated_upstream_examples() -> None:
    """§5.1 steps 1-3 on the JobSet schema: unknown fields, stored object, errors and their order."""
    schema = structural.CompiledSchema(OURS)
    rng = random.Random(7)
    cases = [*EXAMPLES, *(_mutated(rng, rng.choice(EXAMPLES)) for _ in range(150))]
    for document in cases:
        before = json.dumps(document)
        assert _fused(schema, document) == _steps(schema, document)
        assert json.dumps(document) == before, "the document itself is never changed"


def test_one_walk_defaults_prunes_and_reports_like_the_steps_on_a_hand_made_schema() -> None:
    schema = structural.CompiledSchema(SCHEMA)
    document = {"apiVersion": "v1", "kind": "K", "metadata": {"name": "n", "junk": 1},
                "spec": {"name": "toolong", "gone": None, "kept": None, "extra": 1, "made": None,
                         "ports": [{"port": 80}, {"port": 80, "protocol": "TCP"}, {"port": 80, "protocol": "UDP"}],
                         "labels": {"a": 1}, "free": {"any": {"thing": [1]}}}}
    unknown, pruned, errors, checked = _fused(schema, document)
    assert (unknown, pruned, errors, checked) == _steps(schema, document)
    assert unknown == ["metadata.junk", "spec.extra"]
    assert pruned["spec"]["made"] == {"inner": "in"} and "gone" not in pruned["spec"] and pruned["spec"]["kept"] is None
    assert errors == ["spec.name: Too long: may not be more than 5 bytes",
                      'spec.ports[1]: Duplicate value: {"port":80,"protocol":"TCP"}',
                      'spec.labels[a]: Invalid value: 1: spec.labels[a] in body must be of type string: "integer"']


def test_defaults_complete_before_the_checks_that_read_them() -> None:
    """A map-list key filled by a default makes a duplicate, a defaulted field meets `required`."""
    schema = structural.CompiledSchema(SCHEMA)
    document = {"spec": {"ports": [{"port": 1}, {"port": 1, "protocol": "TCP"}]}}
    errors = schema.apply_defaults_and_validate(document)
    assert [error.message for error in errors] == [
        "spec.name: Required value", 'spec.ports[1]: Duplicate value: {"port":1,"protocol":"TCP"}']
    assert document["spec"]["ports"][0] == {"port": 1, "protocol": "TCP"}


def test_list_map_keys_of_different_json_types_are_different_keys() -> None:
    schema = structural.CompiledSchema(obj(items={
        "type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["k"],
        "items": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}))
    distinct = {"items": [{"k": 1}, {"k": "1"}, {"k": 1.5}, {"k": True}, {"k": {"a": 1}}, {}]}
    assert schema.validate(distinct) == []
    repeated = {"items": [{"k": {"a": 1, "b": 2}}, {"k": {"b": 2, "a": 1}}, {}, {"k": None}]}
    assert [error.field for error in schema.validate(repeated)] == ["items[1]", "items[3]"]


@pytest.mark.parametrize(("rule", "expected"), [
    ("!(has(self.startupPolicy) && self.startupPolicy.startupPolicyOrder == 'InOrder'"
     " && self.replicatedJobs.exists(rj, has(rj.dependsOn)))",
     {"startupPolicy": {"startupPolicyOrder": views.FULL}, "replicatedJobs": {views.EACH: {"dependsOn": views.PRESENT}}}),
    ("self.templates.all(t, !has(t.metadata.namespace) || t.metadata.namespace == '')",
     {"templates": {views.EACH: {"metadata": {"namespace": views.FULL}}}}),
    ("self.a.all(x, x.name != 'self.q' && self.limit > 1)", {"a": {views.EACH: {"name": views.FULL}}, "limit": views.FULL}),
    ("self.a.filter(x, x.ok).all(y, y.secret)", {"a": views.FULL}),
    ("self.m.all(k, self.m[k] > 0)", {"m": views.FULL}),
    ("self.a.all(x, x.b.exists(x, x.c))", {"a": {views.EACH: views.FULL}}),
    ("self.x.?y.orValue(1) == 1", {"x": views.FULL}),
    ("self == oldSelf", None),
    ("self.a.all(i, v, v.x)", None),
])
def test_a_rule_reads_only_the_fields_it_names(rule: str, expected: dict | None) -> None:
    assert views.reads([rule], "self") == expected


def test_a_rule_on_a_projected_value_decides_as_on_the_whole_value() -> None:
    """§6.1: the spec rule of the JobSet CRD (startupPolicy InOrder excludes dependsOn)."""
    schema = structural.CompiledSchema(OURS)
    base = copy.deepcopy(EXAMPLES[0])
    base["spec"]["startupPolicy"] = {"startupPolicyOrder": "InOrder"}
    base["spec"]["replicatedJobs"][-1]["dependsOn"] = [{"name": base["spec"]["replicatedJobs"][0]["name"],
                                                        "status": "Ready"}]
    messages = [error.message for error in schema.apply_defaults_and_validate(base)]
    assert "spec: Invalid value: \"object\": StartupPolicy and DependsOn APIs are mutually exclusive" in messages
    spec = base["spec"]
    projected = views.project(spec, views.reads([
        "!(has(self.startupPolicy) && self.startupPolicy.startupPolicyOrder == 'InOrder'"
        " && self.replicatedJobs.exists(rj, has(rj.dependsOn)))"], "self"))
    assert projected["replicatedJobs"][-1] == {"dependsOn": True}
    assert len(projected["replicatedJobs"]) == len(spec["replicatedJobs"])
