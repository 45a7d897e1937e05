"""One program for a whole read-only pack (`wholepack`, docs/rule-packs.md §4.1): the result of
every evaluation is the one the rules give evaluated one by one."""

from __future__ import annotations

import dataclasses
import pathlib
from collections.abc import Callable
from typing import Any

import pytest

from engine.cel import backends as cel_backends
from engine.rules import compiling, decisions, documents, evaluating, loading
from engine.sources import yaml as sources_yaml
from rules_fixtures import backend, compiled, write_pack  # noqa: F401  (pytest fixtures)

Compiled = Callable[..., compiling.CompiledPack]
ROOT = pathlib.Path(__file__).resolve().parents[3]
READ_ONLY = ("jobset-validation", "jobset-failure", "jobset-success", "jobset-placement")
VALIDATE = """\
phase: validate
inputs: [{name: object, required: true}, {name: flag}]
variables:
  - {name: items, expression: "object.spec.items"}
  - {name: names, expression: "items.map(i, i.name)"}
  - {name: enabled, expression: "flag == true"}
rules:
  - name: names-are-short
    forEach: "$.spec.items[*]"
    when: "enabled && size(item.name) > 0"
    assert: "size(item.name) <= 3"
    messageExpression: "'too long: ' + item.name"
  - name: first-is-a
    assert: "names[0] == 'a'"
    field: spec.items
    message: the first item must be a
  - name: weights
    forEach: "$.spec.items[*].weight"
    assert: "100 / item > 1"
    fieldExpression: "path"
    message: too heavy
"""


def items(*pairs: tuple[str, int]) -> dict[str, Any]:
    return {"apiVersion": "x/v1", "kind": "Set", "spec": {"items": [{"name": n, "weight": w} for n, w in pairs]}}


def both(pack: compiling.CompiledPack, inputs: dict[str, Any]) -> decisions.Result:
    """The result with the whole program, checked equal to the one rule by rule."""
    whole = evaluating.evaluate(pack, inputs, enforce_budget=False)
    by_rule = evaluating.evaluate(dataclasses.replace(pack, whole=None), inputs, enforce_budget=False)
    assert whole == by_rule
    return whole


def test_a_validate_pack_has_a_whole_program_where_the_backend_has_local_bindings_4_1(compiled: Compiled) -> None:
    pack = compiled("p", VALIDATE)
    assert (pack.whole is not None) == (pack.backend == "celexpr")


@pytest.mark.parametrize("inputs", [
    {"object": items(("a", 1), ("b", 2)), "flag": True},  # valid
    {"object": items(("a", 1), ("long", 2), ("bbbb", 3)), "flag": True},  # two elements fire
    {"object": items(("long", 1)), "flag": False},  # when false before the elements
    {"object": items(("b", 1)), "flag": True},  # a rule without forEach fires
    {"object": items(("a", 0), ("b", 5)), "flag": True},  # a runtime error in one element
    {"object": {"apiVersion": "x/v1", "kind": "Set", "spec": {"items": []}}, "flag": True},  # a variable fails
    {"object": {"apiVersion": "x/v1", "kind": "Set", "spec": {}}},  # forEach matches nothing
])
def test_the_whole_program_gives_the_result_of_the_rules_one_by_one_2_9(
        compiled: Compiled, inputs: dict[str, Any]) -> None:
    both(compiled("p", VALIDATE), inputs)


def test_errors_stay_on_their_element_when_the_program_falls_back_2_9(compiled: Compiled) -> None:
    result = both(compiled("p", VALIDATE), {"object": items(("a", 0), ("b", 5)), "flag": True})
    assert [(e.field, e.reason) for e in result.errors] == [("spec.items[0].weight", "Internal")]
    assert [t.outcome for t in result.trace if t.rule == "weights"] == ["error", "skipped"]


def test_the_element_independent_part_of_when_is_tested_once_and_traced_per_element_2_4(
        compiled: Compiled) -> None:
    result = both(compiled("p", VALIDATE), {"object": items(("a", 1), ("longer", 2)), "flag": False})
    assert [(t.path, t.detail) for t in result.trace if t.rule == "names-are-short"] == [
        ("spec.items[0]", "when was false"), ("spec.items[1]", "when was false")]
    assert result.allowed


def test_a_variable_that_fails_fails_the_rules_that_read_it_2_2(compiled: Compiled) -> None:
    result = both(compiled("p", VALIDATE), {"object": {"apiVersion": "x/v1", "kind": "Set", "spec": {}}})
    assert [(t.rule, t.outcome) for t in result.trace if t.outcome == "error"] == [("first-is-a", "error")]
    assert [e.reason for e in result.errors] == ["Internal"]


def test_first_match_stops_at_the_first_action_2_1(compiled: Compiled) -> None:
    pack = compiled("d", """\
phase: failure
subject: jobset
inputs: [{name: jobset, required: true}]
actions: [{type: Fail, params: [why]}]
rules:
  - name: never
    when: "jobset.spec.n > 10"
    action: {type: Fail, params: {why: "'never'"}}
  - name: per-item
    forEach: "$.spec.items[*]"
    when: "item.bad"
    action: {type: Fail, params: {why: "item.name"}}
  - name: later
    action: {type: Fail, params: {why: "'later'"}}
""")
    jobset = {"spec": {"n": 1, "items": [{"name": "x", "bad": False}, {"name": "y", "bad": True},
                                         {"name": "z", "bad": True}]}}
    result = both(pack, {"jobset": jobset})
    assert [a.params for a in result.actions] == [{"why": "y"}]


def test_field_names_that_are_not_identifiers_are_read_through_the_subject_2_3(compiled: Compiled) -> None:
    pack = compiled("q", """\
phase: validate
inputs: [{name: object, required: true}]
rules:
  - name: odd-keys
    forEach: "$['odd.key'][\\"it's\\"][*]"
    assert: "item > 0"
    message: not positive
""")
    result = both(pack, {"object": {"odd.key": {"it's": [1, 0, 2]}}})
    assert [e.field for e in result.errors] == ["odd.key.it's[1]"]


def _cases(name: str) -> list[dict[str, Any]]:
    found = []
    for path in sorted((ROOT / "rules" / name / "tests").glob("*.yaml")):
        for document in sources_yaml.load_file(path):
            test_file, problems = documents.read_test(document)
            assert test_file is not None, problems
            found += [case.inputs for case in test_file.cases]
    return found


def _built_in(name: str) -> compiling.CompiledPack:
    pack, problems = loading.read_pack_dir(ROOT / "rules" / name)
    assert pack is not None, problems
    built, problems = compiling.compile_pack(pack, cel_backends.get_backend("celexpr"))
    assert built is not None, problems
    return built


@pytest.mark.parametrize("name", READ_ONLY)
def test_every_case_of_the_built_in_read_only_packs_gives_the_same_result_both_ways_2_9(name: str) -> None:
    built = _built_in(name)
    assert built.whole is not None
    cases = _cases(name)
    assert cases
    for inputs in cases:
        both(built, inputs)
    said = [evaluating.Evaluation(built, inputs, False)._whole() for inputs in cases]
    assert sum(found is not None for found in said) > len(cases) // 2, "the program rarely falls back"


def test_a_failing_variable_is_reported_even_when_no_rule_reaches_it_2_2(compiled: Compiled) -> None:
    pack = compiled("v", """\
phase: validate
inputs: [{name: object, required: true}, {name: flag}]
variables:
  - {name: ratios, expression: "object.spec.items.map(i, 100 / i)"}
rules:
  - name: uses-ratios
    forEach: "$.spec.items[*]"
    when: "flag == true && ratios[index] > 1"
    assert: "item > 0"
    message: not positive
""")
    result = both(pack, {"object": {"spec": {"items": [1, 0]}}, "flag": False})
    assert [t.origin.rsplit("/", 2)[-2:] for t in result.trace if t.outcome == "error"] == [["variables", "ratios"]]
