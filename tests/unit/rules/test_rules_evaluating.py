"""Evaluating one pack: forEach, when, patch, assert, action, variables, failurePolicy, budget (§2)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from engine.rules import compiling, decisions, evaluating
from rules_fixtures import backend, compiled, write_pack  # noqa: F401  (pytest fixtures)

Compiled = Callable[..., compiling.CompiledPack]
INPUTS = "inputs: [{name: object, required: true}, {name: gates}]\n"


def jobset(*names: str) -> dict[str, Any]:
    return {"apiVersion": "x/v1", "kind": "Set", "metadata": {"name": "s"},
            "spec": {"items": [{"name": n, "deps": [{"name": d} for d in names[:i]]} for i, n in enumerate(names)]}}


def test_patch_rules_chain_and_emit_absolute_operations_2_5(compiled: Compiled) -> None:
    pack = compiled("p", "phase: default\n" + INPUTS + """\
rules:
  - name: network
    ref: "§5.2"
    when: "!has(object.spec.network)"
    patch: [{op: add, path: /spec/network/subdomain, valueExpression: "object.metadata.name"}]
  - name: sees-the-network
    when: "has(object.spec.network)"
    patch: [{op: add, path: /spec/seen, value: true}]
""")
    original = jobset("a")
    result = evaluating.evaluate(pack, {"object": original})
    assert result.subject["spec"]["network"] == {"subdomain": "s"} and result.subject["spec"]["seen"] is True
    assert "network" not in original["spec"], "the caller's object is never modified"
    assert result.patch() == [
        {"op": "add", "path": "/spec/network", "value": {}},
        {"op": "add", "path": "/spec/network/subdomain", "value": "s"},
        {"op": "add", "path": "/spec/seen", "value": True},
    ]
    assert {o.origin for o in result.operations} == {"p@1.0.0/network", "p@1.0.0/sees-the-network"}
    assert [str(t) for t in result.trace] == [
        "p@1.0.0/network (§5.2): applied: 2 operation(s)", "p@1.0.0/sees-the-network: applied: 1 operation(s)"]


def test_forEach_binds_item_index_indexes_and_path_2_3(compiled: Compiled) -> None:
    pack = compiled("p", "phase: default\n" + INPUTS + """\
rules:
  - name: mark
    forEach: "$.spec.items[*].deps[*]"
    patch:
      - op: add
        path: /where
        valueExpression: "{'item': item.name, 'index': index, 'indexes': indexes, 'path': path}"
""")
    result = evaluating.evaluate(pack, {"object": jobset("a", "b", "c")})
    assert result.subject["spec"]["items"][2]["deps"][1]["where"] == {
        "item": "b", "index": 1, "indexes": [2, 1], "path": "spec.items[2].deps[1]"}
    assert [o.path for o in result.operations] == [
        "/spec/items/1/deps/0/where", "/spec/items/2/deps/0/where", "/spec/items/2/deps/1/where"]
    assert [t.path for t in result.trace] == ["spec.items[1].deps[0]", "spec.items[2].deps[0]", "spec.items[2].deps[1]"]


def test_forEach_matching_nothing_and_false_when_are_traced_as_skipped_2_4(compiled: Compiled) -> None:
    pack = compiled("p", "phase: default\n" + INPUTS + """\
rules:
  - {name: none, forEach: "$.spec.nothing[*]", patch: [{op: remove, path: /x}]}
  - {name: never, when: "object.kind == 'Other'", patch: [{op: remove, path: /x}]}
""")
    result = evaluating.evaluate(pack, {"object": jobset("a")})
    assert [(t.rule, t.outcome, t.detail) for t in result.trace] == [
        ("none", "skipped", "forEach matched nothing"), ("never", "skipped", "when was false")]
    assert result.fired == () and result.operations == ()


def test_valueExpression_sees_the_state_before_the_rule_2_5(compiled: Compiled) -> None:
    pack = compiled("p", "phase: default\n" + INPUTS + """\
rules:
  - name: swap
    patch:
      - {op: replace, path: /metadata/name, value: changed}
      - {op: add, path: /metadata/old, valueExpression: "object.metadata.name"}
""")
    assert evaluating.evaluate(pack, {"object": jobset()}).subject["metadata"] == {"name": "changed", "old": "s"}


def test_replace_remove_merge_and_pathExpression_2_5(compiled: Compiled) -> None:
    pack = compiled("p", "phase: default\n" + INPUTS + """\
rules:
  - name: ops
    patch:
      - {op: remove, path: /spec/absent}
      - {op: remove, path: /spec/items/0}
      - {op: merge, path: /metadata, value: {labels: {a: "1"}, name: null}}
      - {op: add, pathExpression: "'/metadata/labels/' + 'b'", value: "2"}
      - {op: add, path: /spec/items/-, value: {name: z}}
""")
    result = evaluating.evaluate(pack, {"object": jobset("a", "b")})
    assert result.subject["metadata"] == {"labels": {"a": "1", "b": "2"}}
    assert [i["name"] for i in result.subject["spec"]["items"]] == ["b", "z"]
    assert result.patch() == [
        {"op": "remove", "path": "/spec/items/0"},
        {"op": "add", "path": "/metadata/labels", "value": {"a": "1"}},
        {"op": "remove", "path": "/metadata/name"},
        {"op": "add", "path": "/metadata/labels/b", "value": "2"},
        {"op": "add", "path": "/spec/items/-", "value": {"name": "z"}},
    ]


def test_replace_of_a_missing_target_is_a_rule_error_under_Fail(compiled: Compiled) -> None:
    pack = compiled("p", "phase: default\n" + INPUTS + "rules:\n  - {name: r, patch: [{op: replace, path: /spec/x, value: 1}]}\n")
    result = evaluating.evaluate(pack, {"object": jobset()})
    assert [(e.field, e.reason) for e in result.errors] == [("", "Internal")]
    assert "cannot replace /spec/x: it does not exist" in result.errors[0].message
    assert result.trace[0].outcome == decisions.Outcome.ERROR


def test_assert_errors_join_the_element_path_and_field_2_6(compiled: Compiled) -> None:
    pack = compiled("p", "phase: validate\n" + INPUTS + """\
rules:
  - name: first-has-no-deps
    forEach: "$.spec.items[*]"
    assert: "index > 0 || size(item.deps) == 0"
    field: deps
    message: "first item can't depend"
  - name: names-short
    forEach: "$.spec.items[*]"
    assert: "item.name.size() < 2"
    reason: TooLong
    messageExpression: "'name ' + item.name + ' is too long'"
  - name: no-message
    assert: "object.kind == 'Other'"
    fieldExpression: "'kind'"
  - name: blank-message-expression
    assert: "false"
    message: fallback
    messageExpression: "''"
""")
    result = evaluating.evaluate(pack, {"object": jobset("a", "bb")})
    assert [e.to_json() for e in result.errors] == [
        {"field": "spec.items[1]", "message": "name bb is too long", "reason": "TooLong"},
        {"field": "kind", "message": "failed rule p/no-message", "reason": "Invalid"},
        {"field": "", "message": "fallback", "reason": "Invalid"},
    ]
    assert [t.outcome for t in result.trace[:2]] == ["skipped", "skipped"]
    assert result.trace[0].detail == "assertion held"
    assert result.fired == ("p@1.0.0/names-short", "p@1.0.0/no-message", "p@1.0.0/blank-message-expression")
    assert not result.allowed


def test_assertions_yield_one_error_per_entry_2_6(compiled: Compiled) -> None:
    pack = compiled("p", "phase: validate\n" + INPUTS + """\
rules:
  - name: unique
    reason: Duplicate
    assertions: >-
      object.spec.items.filter(i, object.spec.items.filter(j, j.name == i.name).size() > 1)
      .map(i, {'field': 'spec.items.name', 'message': 'duplicate ' + i.name})
""")
    result = evaluating.evaluate(pack, {"object": jobset("a", "b", "a")})
    assert [(e.message, e.reason) for e in result.errors] == [("duplicate a", "Duplicate")] * 2
    assert evaluating.evaluate(pack, {"object": jobset("a", "b")}).trace[0].detail == "no assertion failed"


ACTIONS = """\
phase: failure
inputs: [{name: object, required: true}]
actions: [{type: Restart, params: [why]}, {type: Fail, params: [why]}]
variables: [{name: first, expression: "object.spec.items[0].name"}]
"""


@pytest.mark.parametrize(("evaluation", "expected"), [
    ("firstMatch", [("Restart", {"why": "a"})]),
    ("allMatch", [("Restart", {"why": "a"}), ("Fail", {"why": "a!"})]),
])
def test_actions_first_match_or_all_match_2_7(compiled: Compiled, evaluation: str, expected: list[Any]) -> None:
    pack = compiled("p", ACTIONS + f"evaluation: {evaluation}\n" + """\
rules:
  - {name: not-this, when: "false", action: {type: Fail, params: {why: "'no'"}}}
  - {name: restart, action: {type: Restart, params: {why: "first"}}}
  - {name: fail, action: {type: Fail, params: {why: "first + '!'"}}}
""")
    result = evaluating.evaluate(pack, {"object": jobset("a")})
    assert [(a.type, a.params) for a in result.actions] == expected
    assert result.actions[0].origin == "p@1.0.0/restart"


@pytest.mark.parametrize(("policy", "errors"), [("Fail", 1), ("Ignore", 0)])
def test_failurePolicy_decides_what_a_runtime_error_means(compiled: Compiled, policy: str, errors: int) -> None:
    pack = compiled("p", "phase: validate\n" + INPUTS + f"failurePolicy: {policy}\n" + """\
rules:
  - {name: broken, assert: "object.spec.missing.deeper == 1"}
  - {name: fine, assert: "false", message: still runs}
""")
    result = evaluating.evaluate(pack, {"object": jobset()})
    assert len([e for e in result.errors if e.reason == "Internal"]) == errors
    assert result.errors[-1].message == "still runs"
    assert result.trace[0].outcome == "error" and "broken" in result.trace[0].origin


def test_inputs_absent_are_null_and_required_ones_must_be_given_2_2(compiled: Compiled) -> None:
    pack = compiled("p", "phase: validate\n" + INPUTS + 'rules:\n  - {name: r, assert: "gates == null"}\n')
    assert evaluating.evaluate(pack, {"object": jobset()}).allowed
    with pytest.raises(evaluating.MissingInputError, match="needs input"):
        evaluating.evaluate(pack, {"gates": {}})


def test_a_subject_of_another_kind_is_refused(compiled: Compiled) -> None:
    pack = compiled("p", "phase: validate\n" + INPUTS + """\
targets: [{apiVersion: x/v1, kind: Set}]
rules:
  - {name: r, assert: "false"}
""")
    result = evaluating.evaluate(pack, {"object": {"apiVersion": "v1", "kind": "Pod"}})
    assert [(e.field, e.reason) for e in result.errors] == [("kind", "NotSupported")]
    assert "applies to x/v1 Set, not v1 Pod" in result.errors[0].message and result.trace == ()


class SteppingClock:
    """perf_counter that advances 0.6 ms per reading: the budget runs out deterministically."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 0.0006
        return self.now


def test_the_budget_is_checked_between_forEach_elements_4(compiled: Compiled, monkeypatch: pytest.MonkeyPatch) -> None:
    pack = compiled("p", "phase: default\n" + INPUTS + """\
budget: {milliseconds: 1}
rules:
  - {name: slow, forEach: "$.spec.items[*]", patch: [{op: add, path: /seen, value: 1}]}
  - {name: later, patch: [{op: add, path: /later, value: 1}]}
""")
    monkeypatch.setattr(evaluating.time, "perf_counter", SteppingClock())
    result = evaluating.evaluate(pack, {"object": jobset("a", "b", "c")})
    assert [(e.field, e.reason, e.origin) for e in result.errors] == [("spec.items[1]", "Internal", "p@1.0.0/slow")]
    assert result.errors[0].message == "evaluation budget of 1 ms ran out at rule slow"
    assert [(t.rule, t.outcome) for t in result.trace] == [("slow", "applied"), ("slow", "error")]
    assert "later" not in result.subject


def test_the_budget_is_checked_between_rules_4(compiled: Compiled, monkeypatch: pytest.MonkeyPatch) -> None:
    """A forEach of a read-only phase runs as one program: the budget is checked before the next rule."""
    pack = compiled("p", "phase: validate\n" + INPUTS + """\
budget: {milliseconds: 1}
rules:
  - {name: first, forEach: "$.spec.items[*]", assert: "true", message: m}
  - {name: later, assert: "false", message: never evaluated}
""")
    monkeypatch.setattr(evaluating.time, "perf_counter", SteppingClock())
    result = evaluating.evaluate(pack, {"object": jobset("a", "b", "c")})
    assert [(e.reason, e.origin) for e in result.errors] == [("Internal", "p@1.0.0/later")]
    assert [(t.rule, t.outcome) for t in result.trace] == [("first", "skipped")] * 3 + [("later", "error")]


def test_variable_errors_surface_where_the_variable_is_read_2_2(compiled: Compiled) -> None:
    pack = compiled("p", "phase: validate\n" + INPUTS + """\
variables: [{name: v, expression: "object.spec.nothing.here"}]
rules:
  - {name: r, assert: "v == null", message: m}
  - {name: each, forEach: "$.spec.items[*]", assert: "v == null", message: m}
""")
    result = evaluating.evaluate(pack, {"object": jobset("a")})
    assert [e.origin for e in result.errors] == ["p@1.0.0/r", "p@1.0.0/variables/v"]
    assert [(t.rule, t.outcome) for t in result.trace] == [("r", "error"), ("v", "error"), ("each", "skipped")]


def test_evaluation_is_deterministic(compiled: Compiled) -> None:
    pack = compiled("p", "phase: default\n" + INPUTS + """\
rules:
  - {name: r, forEach: "$.spec.items[*]", patch: [{op: merge, path: "", value: {seen: true}}]}
""")
    first = evaluating.evaluate(pack, {"object": jobset("a", "b", "c")})
    second = evaluating.evaluate(pack, {"object": jobset("a", "b", "c")})
    assert first == second and len(first.operations) == 3


def test_a_runtime_error_in_one_forEach_element_is_reported_for_that_element(compiled: Compiled) -> None:
    pack = compiled("p", "phase: validate\n" + INPUTS + """\
rules:
  - name: ratio
    forEach: "$.spec.items[*]"
    when: "item.n >= 0"
    assert: "item.n / item.d >= 1"
    field: n
    messageExpression: "'ratio of ' + item.name + ' is below 1'"
""")
    items = [{"name": "a", "n": 1, "d": 2}, {"name": "b", "n": 1, "d": 0}, {"name": "c", "n": 4, "d": 2},
             {"name": "d", "n": -1, "d": 0}]
    result = evaluating.evaluate(pack, {"object": {"spec": {"items": items}}})
    assert [(e.field, e.reason) for e in result.errors] == [("spec.items[0].n", "Invalid"), ("spec.items[1]", "Internal")]
    assert result.errors[0].message == "ratio of a is below 1"
    assert [t.outcome for t in result.trace] == ["failed", "error", "skipped", "skipped"]


def test_forEach_in_decision_phases_yields_one_action_per_firing_element(compiled: Compiled) -> None:
    pack = compiled("p", ACTIONS + "evaluation: allMatch\n" + """\
rules:
  - name: per-item
    forEach: "$.spec.items[?(@.name != 'b')]"
    action: {type: Restart, params: {why: "item.name + '@' + string(index) + ' ' + path"}}
""")
    result = evaluating.evaluate(pack, {"object": jobset("a", "b", "c")})
    assert [a.params["why"] for a in result.actions] == ["a@0 spec.items[0]", "c@2 spec.items[2]"]


def test_in_patch_phases_variables_see_the_subject_as_given_2_2(compiled: Compiled) -> None:
    pack = compiled("p", "phase: default\n" + INPUTS + """\
variables:
  - {name: hadNetwork, expression: "has(object.spec.network)"}
  - {name: label, expression: "hadNetwork ? 'network-given' : 'network-added'"}
rules:
  - {name: add-network, patch: [{op: add, path: /spec/network, value: {}}]}
  - {name: record, patch: [{op: add, path: /spec/label, valueExpression: "label"}]}
""")
    assert evaluating.evaluate(pack, {"object": jobset()}).subject["spec"]["label"] == "network-added"


def test_literal_values_of_a_pack_are_never_changed_by_later_patches(compiled: Compiled) -> None:
    pack = compiled("p", "phase: default\n" + INPUTS + """\
rules:
  - {name: base, patch: [{op: add, path: /spec/network, value: {labels: {a: "1"}}}]}
  - {name: more, patch: [{op: add, path: /spec/network/labels/b, value: "2"}]}
""")
    first = evaluating.evaluate(pack, {"object": jobset()})
    second = evaluating.evaluate(pack, {"object": jobset()})
    assert first.subject["spec"]["network"] == second.subject["spec"]["network"] == {"labels": {"a": "1", "b": "2"}}
    assert first.operations[0].value == {"labels": {"a": "1"}}
    assert pack.pack.rules[0].patch[0].value == {"labels": {"a": "1"}}


def test_rules_after_patches_see_every_change_they_read_2_5(compiled: Compiled) -> None:
    """Activations made before a patch serve later rules only when the patch is elsewhere."""
    pack = compiled("p", "phase: default\n" + INPUTS + """\
rules:
  - {name: a, when: "!has(object.spec.a)", patch: [{op: add, path: /spec/a, value: 1}]}
  - {name: b, when: "!has(object.spec.b)", patch: [{op: add, path: /spec/b, valueExpression: "object.spec.a + 1"}]}
  - {name: c, patch: [{op: add, path: /spec/c, valueExpression: "object.spec.b * 10"}]}
  - {name: d, patch: [{op: add, path: /metadata/d, valueExpression: "object.metadata.name + string(object.spec.c)"}]}
  - {name: e, when: "object.spec.items == []", patch: [{op: add, path: /spec/items/-, value: {name: z}}]}
  - {name: f, patch: [{op: add, path: /spec/count, valueExpression: "size(object.spec.items)"}]}
""")
    spec = evaluating.evaluate(pack, {"object": jobset()}).subject["spec"]
    assert (spec["a"], spec["b"], spec["c"], spec["count"]) == (1, 2, 20, 1)
    assert evaluating.evaluate(pack, {"object": jobset()}).subject["metadata"]["d"] == "s20"
