"""forEach rules of patch phases whose `when` reads only their element: one program decides
every element's `when`, with the results of one element at a time (docs/rule-packs.md §2.3, §4.1)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.rules import compiling, evaluating
from rules_fixtures import backend, compiled, write_pack  # noqa: F401  (pytest fixtures)

Compiled = Callable[..., compiling.CompiledPack]
INPUTS = "phase: default\ninputs: [{name: object, required: true}]\n"


def subject(*items: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "x/v1", "kind": "Set", "spec": {"items": list(items)}}


def test_elements_fire_and_skip_as_one_at_a_time_2_3(compiled: Compiled) -> None:
    pack = compiled("p", INPUTS + """\
rules:
  - name: mode
    forEach: "$.spec.items[*]"
    when: "!has(item.mode)"
    patch: [{op: add, path: /mode, value: Indexed}]
  - name: named
    forEach: "$.spec.items[*]"
    when: "!has(item.name) || item.name == ''"
    patch: [{op: add, path: /name, valueExpression: "'item' + string(index) + '-' + item.mode"}]
""")
    assert all(rule.batch is not None for rule in pack.rules)
    result = evaluating.evaluate(pack, {"object": subject({"mode": "NonIndexed"}, {"name": ""}, {"name": "c"})})
    assert result.subject["spec"]["items"] == [
        {"mode": "NonIndexed", "name": "item0-NonIndexed"}, {"name": "item1-Indexed", "mode": "Indexed"},
        {"name": "c", "mode": "Indexed"}]
    assert [(t.origin.split("/")[-1], t.path, t.outcome.value, t.detail) for t in result.trace] == [
        ("mode", "spec.items[0]", "skipped", "when was false"),
        ("mode", "spec.items[1]", "applied", "1 operation(s)"),
        ("mode", "spec.items[2]", "applied", "1 operation(s)"),
        ("named", "spec.items[0]", "applied", "1 operation(s)"),
        ("named", "spec.items[1]", "applied", "1 operation(s)"),
        ("named", "spec.items[2]", "skipped", "when was false"),
    ]


def test_a_when_reading_the_subject_sees_the_patches_of_earlier_elements_2_3(compiled: Compiled) -> None:
    pack = compiled("p", INPUTS + """\
rules:
  - name: first-only
    forEach: "$.spec.items[*]"
    when: "!object.spec.items.exists(i, has(i.done))"
    patch: [{op: add, path: /done, value: true}]
""")
    assert pack.rules[0].batch is None
    result = evaluating.evaluate(pack, {"object": subject({}, {}, {})})
    assert result.subject["spec"]["items"] == [{"done": True}, {}, {}]


def test_an_element_whose_when_fails_is_reported_on_its_own_2_9(compiled: Compiled) -> None:
    pack = compiled("p", INPUTS + """\
rules:
  - name: big
    forEach: "$.spec.items[*]"
    when: "item.size > 1"
    patch: [{op: add, path: /big, value: true}]
""")
    result = evaluating.evaluate(pack, {"object": subject({"size": 2}, {}, {"size": 0})})
    assert result.subject["spec"]["items"] == [{"size": 2, "big": True}, {}, {"size": 0}]
    assert [(t.path, t.outcome.value) for t in result.trace] == [
        ("spec.items[0]", "applied"), ("spec.items[1]", "error"), ("spec.items[2]", "skipped")]
    assert [e.field for e in result.errors] == ["spec.items[1]"]
