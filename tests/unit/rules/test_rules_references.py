"""engine.rules.references: the names a CEL source reads, undeclared names, inlining."""

from __future__ import annotations

import pytest

from engine.rules import references


def test_undeclared_ignores_bound_names_functions_fields_and_strings() -> None:
    source = "xs.all(x, x > y) && cel.bind(z, 1, z) && m.exists(k, v, v == 'q r' && has(w.f)) && int(u) > 0"
    assert references.undeclared(source, ("xs", "m")) == [("y", 1, 15), ("w", 1, 75), ("u", 1, 88)]


def test_undeclared_positions_span_lines() -> None:
    assert references.undeclared("a &&\n  missing", ("a",)) == [("missing", 2, 3)]


def test_names_read_is_a_superset_of_top_level_names() -> None:
    assert references.names_read("object.spec.x + 'item.a' + f(item) + x.all(e, e.n == o)") == {
        "object", "f", "item", "x", "e", "o"}


def test_inline_parenthesises_definitions_outside_strings_and_fields() -> None:
    text = references.inline("b.c && 'b' == b && has(b.f) && b(1)", {"b": "object.spec"})
    assert text == "(object.spec).c && 'b' == (object.spec) && has((object.spec).f) && b(1)"


def test_inline_refuses_a_shadowing_comprehension_variable() -> None:
    with pytest.raises(references.ShadowedError):
        references.inline("[1].all(b, b > 0)", {"b": "object.spec"})


def test_subject_paths_end_at_calls_indexes_and_optionals() -> None:
    paths = references.subject_paths(
        ["!has(object.spec.network) && object.spec.items.all(i, i.x) && 'object.kind' == object.metadata.name",
         "object.spec.items[0].name"], "object")
    assert paths == (("metadata", "name"), ("spec", "items"), ("spec", "network"))
    for whole in ["object.?spec", "f(object)", "object['spec']", "[1].all(object, object > 0)"]:
        assert references.subject_paths([whole], "object") is None, whole
    assert references.subject_paths(["jobset.x"], "object") == ()


def test_subject_view_keeps_values_read_and_keys_only_tested_4_1() -> None:
    view = references.subject_view(
        ["!has(object.spec) || !has(object.spec.policy)", "object.metadata.name + '-x'",
         "has(object.spec.items) && object.spec.items.all(i, i > 0)"], "object")
    assert view == {"spec": {"policy": references.PRESENT, "items": references.FULL},
                    "metadata": {"name": references.FULL}}
    subject = {"spec": {"policy": {"big": [1, 2]}, "items": [1], "other": {"x": 1}},
               "metadata": {"name": "n", "labels": {"a": "b"}}}
    assert references.project(subject, view) == {"spec": {"policy": True, "items": [1]}, "metadata": {"name": "n"}}


def test_subject_view_of_the_whole_subject_is_none_4_1() -> None:
    assert references.subject_view(["object['spec']"], "object") is None
    assert references.subject_view(["[1].map(object, object)"], "object") is None


def test_project_leaves_what_is_not_a_map_as_it_is_4_1() -> None:
    view = references.subject_view(["has(object.spec.a)"], "object")
    assert view is not None
    assert references.project({"spec": None}, view) == {"spec": None}
    assert references.project({"spec": [1]}, view) == {"spec": [1]}


@pytest.mark.parametrize(("source", "operands"), [
    ("a && b.c && f(x, y && z)", ["a", "b.c", "f(x, y && z)"]),
    ("!a && (b || c)", ["!a", "(b || c)"]),
    ("a && b || c", ["a && b || c"]),  # || binds looser: no split
    ("a ? b && c : d", ["a ? b && c : d"]),
    ("a && '&& ||' == s", ["a", "'&& ||' == s"]),  # strings are not looked into
    ("a && {'k': v}.k", ["a", "{'k': v}.k"]),
    ("a // x && y\n && b", ["a // x && y\n && b"]),  # a comment could hide an operator
    ("single", ["single"]),
])
def test_conjuncts_split_only_a_top_level_and_chain(source: str, operands: list[str]) -> None:
    assert references.conjuncts(source) == operands
