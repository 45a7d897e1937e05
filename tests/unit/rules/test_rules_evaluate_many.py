"""`evaluate_many` and `Registry.evaluate_phase_many`: many requests sharing inputs give the
results of one evaluation each, with parent-level variables evaluated once (docs/rule-packs.md §4.1)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from engine.cel import evaluator
from engine.rules import batches, compiling, evaluating, loading, registry
from rules_fixtures import backend, compiled, write_pack  # noqa: F401  (pytest fixtures)

Compiled = Callable[..., compiling.CompiledPack]
# longer than compiling.MAX_INLINED_VARIABLE, so the variable stays bound (evaluated on its own)
PADDING = "'" + "x" * 1_100 + "'"
PACK = f"""\
phase: construct
inputs: [{{name: object, required: true}}, {{name: parent, required: true}}, {{name: position}}]
variables:
  - name: family
    expression: "size({PADDING}) > 0 ? parent.name + '-' + parent.kind : ''"
  - name: own
    expression: "size({PADDING}) > 0 ? family + '-' + string(position) : ''"
rules:
  - name: label
    patch: [{{op: add, path: /metadata/name, valueExpression: own}}]
"""


class _Counting:
    """A program that counts its evaluations."""

    def __init__(self, program: evaluator.Program) -> None:
        self.program = program
        self.calls = 0
        self.source = program.source
        self.return_type = program.return_type

    def evaluate(self, activation: evaluator.Activation) -> Any:
        self.calls += 1
        return self.program.evaluate(activation)


def children(count: int) -> list[dict[str, Any]]:
    return [{"object": {"apiVersion": "v1", "kind": "Thing", "metadata": {}}, "position": k} for k in range(count)]


def test_many_requests_give_the_results_of_one_evaluation_each_4_1(compiled: Compiled) -> None:
    pack = compiled("p", PACK)
    shared = {"parent": {"name": "set", "kind": "JobSet"}}
    many = batches.evaluate_many(pack, shared, children(3))
    one_each = [evaluating.evaluate(pack, {**shared, **inputs}) for inputs in children(3)]
    assert many == one_each
    assert [r.subject["metadata"]["name"] for r in many] == ["set-JobSet-0", "set-JobSet-1", "set-JobSet-2"]


def test_a_variable_of_shared_inputs_is_evaluated_once_4_1(compiled: Compiled) -> None:
    pack = compiled("p", PACK)
    counted = {name: _Counting(program) for name, program, _ in pack.variables}
    pack = dataclasses.replace(pack, variables=tuple(
        (name, counted[name], reads) for name, _, reads in pack.variables))
    batches.evaluate_many(pack, {"parent": {"name": "set", "kind": "JobSet"}}, children(4))
    assert (counted["family"].calls, counted["own"].calls) == (1, 4)


def test_a_shared_variable_that_fails_is_reported_in_every_result_2_2(compiled: Compiled) -> None:
    pack = compiled("p", PACK)
    shared = {"parent": {"name": "set"}}  # no kind: `family` fails, `own` fails with it
    many = batches.evaluate_many(pack, shared, children(2))
    assert many == [evaluating.evaluate(pack, {**shared, **inputs}) for inputs in children(2)]
    assert all(any(e.origin == "p@1.0.0/variables/family" for e in r.errors) for r in many)


def test_an_input_given_per_request_is_never_shared_4_1(compiled: Compiled) -> None:
    pack = compiled("p", PACK)
    each = [{**inputs, "parent": {"name": f"set{k}", "kind": "JobSet"}} for k, inputs in enumerate(children(2))]
    names = [r.subject["metadata"]["name"] for r in batches.evaluate_many(pack, {}, each)]
    assert names == ["set0-JobSet-0", "set1-JobSet-1"]


def test_the_construct_phase_builds_the_same_jobs_at_once_9_2(backend: evaluator.Backend) -> None:
    rules = registry.Registry(backend)
    assert rules.load([loading.builtin_directory()]) == []
    jobset = {"apiVersion": "jobset.x-k8s.io/v1alpha2", "kind": "JobSet",
              "metadata": {"name": "js", "namespace": "ns", "uid": "u-1"},
              "spec": {"replicatedJobs": [{"name": "w", "replicas": 3, "template": {"spec": {"template": {
                  "spec": {"containers": [{"name": "c", "image": "i"}]}}}}}]}}
    shared = {"jobset": jobset, "replicatedJobIndex": 0, "featureGates": {"RestartJob": True}}
    each = [{"object": {"apiVersion": "batch/v1", "kind": "Job", "metadata": {},
                        "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "i"}]}}}},
             "jobIndex": k} for k in range(3)]
    many = list(rules.evaluate_phase_many("construct", shared, each))
    assert many == [rules.evaluate_phase("construct", {**shared, **inputs}) for inputs in each]
    assert [r.subject["metadata"]["name"] for r in many] == ["js-w-0", "js-w-1", "js-w-2"]
    assert not any(r.errors for r in many)


def test_an_input_both_shared_and_per_request_is_refused(compiled: Compiled) -> None:
    pack = compiled("p", PACK)
    batch = batches.Batch(pack, {"parent": {"name": "set", "kind": "JobSet"}, "position": 0})
    with pytest.raises(ValueError, match="position"):
        batch.evaluate(children(1)[0])
