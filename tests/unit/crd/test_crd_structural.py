"""Structural-schema operations on small hand-made schemas: defaults, pruning, each keyword, CEL."""

from __future__ import annotations

import copy

import pytest

from engine.crd import structural


def obj(**properties: dict) -> dict:
    return {"type": "object", "properties": properties}


def errors_of(schema: dict, value: dict, old: dict | None = None) -> list[tuple[str, str]]:
    return [(e.field, e.type) for e in structural.CompiledSchema(schema).validate(value, old)]


def messages_of(schema: dict, value: dict, old: dict | None = None) -> list[str]:
    return [e.message for e in structural.CompiledSchema(schema).validate(value, old)]


# --- defaulting ---------------------------------------------------------------------------

DEFAULTS = obj(spec=obj(
    replicas={"type": "integer", "default": 1},
    policy=obj(strategy={"type": "string", "default": "Recreate"}),
    jobs={"type": "array", "items": obj(
        group={"type": "string", "default": "default"},
        nested=obj(flag={"type": "boolean", "default": False}),
    )},
    labels={"type": "object", "additionalProperties": obj(x={"type": "integer", "default": 7})},
    made={"type": "object", "default": {}, "properties": {"inner": {"type": "string", "default": "in"}}},
    nothing={"type": "string"},
    maybe={"type": "string", "nullable": True, "default": "d"},
))


def test_defaults_fill_absent_fields_in_nested_objects_and_array_items() -> None:
    value = {"spec": {"policy": {}, "jobs": [{}, {"group": "g", "nested": {}}], "labels": {"a": {}}}}
    structural.CompiledSchema(DEFAULTS).apply_defaults(value)
    spec = value["spec"]
    assert spec["replicas"] == 1
    assert spec["policy"] == {"strategy": "Recreate"}
    assert spec["jobs"] == [{"group": "default"}, {"group": "g", "nested": {"flag": False}}]
    assert spec["labels"] == {"a": {"x": 7}}


def test_defaults_do_not_create_parents_but_a_defaulted_parent_is_defaulted_inside() -> None:
    value: dict = {"spec": {}}
    structural.CompiledSchema(DEFAULTS).apply_defaults(value)
    assert "policy" not in value["spec"]
    assert value["spec"]["made"] == {"inner": "in"}


def test_defaults_replace_non_nullable_nulls_and_drop_undefaulted_ones_but_keep_nullable() -> None:
    value = {"spec": {"replicas": None, "nothing": None, "maybe": None}}
    structural.CompiledSchema(DEFAULTS).apply_defaults(value)
    assert value["spec"]["replicas"] == 1
    assert "nothing" not in value["spec"]
    assert value["spec"]["maybe"] is None


def test_default_values_are_copies() -> None:
    schema = obj(a={"type": "object", "default": {"k": []}}, b={"type": "object", "default": {"k": []}})
    compiled = structural.CompiledSchema(schema)
    first, second = {}, {}
    compiled.apply_defaults(first)
    first["a"]["k"].append(1)
    compiled.apply_defaults(second)
    assert second["a"] == {"k": []}


# --- pruning ------------------------------------------------------------------------------

PRUNE = {
    "type": "object",
    "properties": {
        "apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": {"type": "object"},
        "spec": obj(
            known={"type": "string"},
            items={"type": "array", "items": obj(name={"type": "string"})},
            free={"type": "object", "x-kubernetes-preserve-unknown-fields": True,
                  "properties": {"typed": obj(x={"type": "string"})}},
            labels={"type": "object", "additionalProperties": {"type": "string"}},
            embedded={"type": "object", "x-kubernetes-embedded-resource": True,
                      "properties": {"spec": obj(a={"type": "string"})}},
        ),
    },
}


def test_prune_removes_unknown_fields_and_reports_their_paths() -> None:
    value = {
        "apiVersion": "v1", "kind": "K", "metadata": {"name": "n", "whatever": 1},
        "spec": {"known": "k", "extra": 1, "items": [{"name": "a", "bad": 2}],
                 "labels": {"x": "y"}, "free": {"any": {"deep": 1}, "typed": {"x": "1", "y": 2}}},
        "top": True,
    }
    removed = structural.CompiledSchema(PRUNE).prune(value)
    assert sorted(removed) == ["metadata.whatever", "spec.extra", "spec.free.typed.y", "spec.items[0].bad", "top"]
    assert value["spec"]["free"]["any"] == {"deep": 1}
    assert value["spec"]["labels"] == {"x": "y"}
    assert value["metadata"] == {"name": "n"}


def test_prune_keeps_type_meta_of_embedded_resources_and_reduces_their_metadata() -> None:
    value = {"spec": {"embedded": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "junk": 1},
                                   "spec": {"a": "x", "b": "y"}}}}
    removed = structural.CompiledSchema(PRUNE).prune(value)
    assert sorted(removed) == ["spec.embedded.metadata.junk", "spec.embedded.spec.b"]
    assert value["spec"]["embedded"] == {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"a": "x"}}


# --- validation keywords --------------------------------------------------------------------

def test_required_fields_are_reported_at_the_missing_field() -> None:
    schema = obj(spec={"type": "object", "required": ["name", "template"], "properties": {
        "name": {"type": "string"}, "template": {"type": "object"}}})
    assert messages_of(schema, {"spec": {}}) == ["spec.name: Required value", "spec.template: Required value"]


def test_enum_uses_the_kubernetes_unsupported_value_message() -> None:
    schema = obj(op={"type": "string", "enum": ["All", "Any"]})
    assert messages_of(schema, {"op": "X"}) == ['op: Unsupported value: "X": supported values: "All", "Any"']
    (error,) = structural.CompiledSchema(schema).validate({"op": "X"})
    assert error.cause() == {"reason": "FieldValueNotSupported", "field": "op",
                             "message": 'Unsupported value: "X": supported values: "All", "Any"'}


def test_minimum_maximum_and_exclusive_bounds() -> None:
    schema = obj(a={"type": "integer", "minimum": 0}, b={"type": "integer", "maximum": 5},
                 c={"type": "number", "minimum": 1, "exclusiveMinimum": True})
    assert messages_of(schema, {"a": -1, "b": 6, "c": 1}) == [
        "a: Invalid value: -1: a in body should be greater than or equal to 0",
        "b: Invalid value: 6: b in body should be less than or equal to 5",
        "c: Invalid value: 1: c in body should be greater than 1",
    ]
    assert messages_of(schema, {"a": 0, "b": 5, "c": 1.5}) == []


def test_max_items_and_min_items() -> None:
    schema = obj(l={"type": "array", "maxItems": 2, "minItems": 1, "items": {"type": "integer"}})
    assert messages_of(schema, {"l": [1, 2, 3]}) == ["l: Too many: 3: must have at most 2 items"]
    assert messages_of(schema, {"l": []}) == ["l: Invalid value: 0: l in body should have at least 1 items"]


def test_string_length_pattern_and_format() -> None:
    schema = obj(s={"type": "string", "maxLength": 3, "minLength": 2, "pattern": "^[a-z]+$"},
                 t={"type": "string", "format": "date-time"})
    assert errors_of(schema, {"s": "ABCD"}) == [("s", "FieldValueTooLong"), ("s", "FieldValueInvalid")]
    assert messages_of(schema, {"s": "a"})[0] == "s: Invalid value: \"a\": s in body should be at least 2 chars long"
    assert errors_of(schema, {"t": "yesterday"}) == [("t", "FieldValueInvalid")]
    assert errors_of(schema, {"s": "ab", "t": "2026-01-02T03:04:05Z"}) == []


def test_wrong_types_and_null() -> None:
    schema = obj(i={"type": "integer"}, o={"type": "object"}, n={"type": "string", "nullable": True})
    assert messages_of(schema, {"i": "1"}) == ['i: Invalid value: "1": i in body must be of type integer: "string"']
    assert errors_of(schema, {"o": [], "n": None}) == [("o", "FieldValueTypeInvalid")]
    assert errors_of(schema, {"i": True}) == [("i", "FieldValueTypeInvalid")]


def test_int_or_string_accepts_both_and_checks_the_pattern_on_strings() -> None:
    schema = obj(q={"x-kubernetes-int-or-string": True, "anyOf": [{"type": "integer"}, {"type": "string"}],
                    "pattern": "^[0-9]+m?$"})
    assert errors_of(schema, {"q": 5}) == []
    assert errors_of(schema, {"q": "500m"}) == []
    assert errors_of(schema, {"q": "lots"}) == [("q", "FieldValueInvalid")]
    assert errors_of(schema, {"q": 1.5}) == [("q", "FieldValueTypeInvalid")]


def test_list_map_keys_must_be_unique_and_sets_must_hold_distinct_values() -> None:
    schema = obj(
        m={"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
           "items": obj(name={"type": "string"}, v={"type": "integer"})},
        s={"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
    )
    value = {"m": [{"name": "a", "v": 1}, {"name": "b"}, {"name": "a", "v": 2}], "s": ["x", "y", "x"]}
    assert messages_of(schema, value) == [
        'm[2]: Duplicate value: {"name":"a"}',
        's[2]: Duplicate value: "x"',
    ]


def test_additional_properties_are_validated_with_map_key_paths() -> None:
    schema = obj(labels={"type": "object", "additionalProperties": {"type": "string"}})
    assert errors_of(schema, {"labels": {"app": 1}}) == [("labels[app]", "FieldValueTypeInvalid")]


def test_combinators() -> None:
    schema = obj(a={"type": "integer", "anyOf": [{"minimum": 10}, {"maximum": 0}]},
                 b={"type": "string", "not": {"enum": ["forbidden"]}})
    assert errors_of(schema, {"a": 5, "b": "forbidden"}) == [("a", "FieldValueInvalid"), ("b", "FieldValueInvalid")]
    assert errors_of(schema, {"a": 11, "b": "ok"}) == []


def test_only_name_and_generate_name_of_the_root_metadata_meet_the_schema_and_rules() -> None:
    schema = {"type": "object", "properties": {"metadata": {"type": "object", "properties": {
        "name": {"type": "string", "maxLength": 5}, "labels": {"type": "integer"}}}},
        "x-kubernetes-validations": [{"rule": "!has(self.metadata.labels) && self.metadata.name != 'bad'"}]}
    assert errors_of(schema, {"metadata": {"name": "x", "labels": {"a": "b"}, "uid": "u"}}) == []
    assert errors_of(schema, {"metadata": {"name": "toolong"}}) == [("metadata.name", "FieldValueTooLong")]
    assert errors_of(schema, {"metadata": {"name": "bad"}}) == [("", "FieldValueInvalid")]


def test_a_bad_schema_is_reported_with_its_location() -> None:
    with pytest.raises(structural.SchemaError, match=r"properties.a.pattern: invalid regular expression"):
        structural.CompiledSchema(obj(a={"type": "string", "pattern": "("}))
    with pytest.raises(structural.SchemaError, match=r"properties.a.type"):
        structural.CompiledSchema(obj(a={"type": "str"}))


# --- CEL rules ---------------------------------------------------------------------------------

def immutable(schema: dict) -> dict:
    return {**schema, "x-kubernetes-validations": [{"rule": "self == oldSelf", "message": "Value is immutable"}]}


CEL = obj(spec={
    "type": "object",
    "properties": {
        "min": {"type": "integer"}, "max": {"type": "integer"},
        "network": immutable(obj(dns={"type": "boolean"})),
        "jobs": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
                 "items": obj(name={"type": "string"}, deps=immutable({"type": "array", "items": {"type": "string"}}))},
    },
    "x-kubernetes-validations": [
        {"rule": "!has(self.min) || !has(self.max) || self.min <= self.max",
         "messageExpression": "'min ' + string(self.min) + ' exceeds max ' + string(self.max)",
         "fieldPath": ".min"},
        {"rule": "!has(self.max) || self.max < 100", "reason": "FieldValueForbidden", "message": "max too large"},
    ],
})


def test_cel_rules_without_old_self_run_on_create_with_message_expression_and_field_path() -> None:
    assert messages_of(CEL, {"spec": {"min": 5, "max": 3}}) == [
        'spec.min: Invalid value: "object": min 5 exceeds max 3']
    assert messages_of(CEL, {"spec": {"max": 100}}) == ["spec: Forbidden: max too large"]
    assert messages_of(CEL, {"spec": {"min": 1, "max": 3}}) == []


def test_transition_rules_run_only_on_update_when_the_old_value_exists() -> None:
    new = {"spec": {"network": {"dns": True}}}
    assert errors_of(CEL, new) == []
    assert errors_of(CEL, new, old={"spec": {}}) == []
    assert messages_of(CEL, new, old={"spec": {"network": {"dns": False}}}) == [
        'spec.network: Invalid value: "object": Value is immutable']
    assert errors_of(CEL, new, old={"spec": {"network": {"dns": True}}}) == []


def test_transition_rules_correlate_map_list_items_by_key() -> None:
    old = {"spec": {"jobs": [{"name": "a", "deps": ["x"]}, {"name": "b", "deps": ["y"]}]}}
    reordered = {"spec": {"jobs": [{"name": "b", "deps": ["y"]}, {"name": "a", "deps": ["x"]}]}}
    assert errors_of(CEL, reordered, old) == []
    changed = {"spec": {"jobs": [{"name": "a", "deps": ["x"]}, {"name": "b", "deps": ["z"]}, {"name": "c", "deps": []}]}}
    assert errors_of(CEL, changed, old) == [("spec.jobs[1].deps", "FieldValueInvalid")]


def test_a_rule_that_fails_at_runtime_is_an_invalid_value_error() -> None:
    schema = obj(p={"type": "object", "x-kubernetes-validations": [{"rule": "self.templates.all(t, t != '')"}]})
    errors = structural.CompiledSchema(schema).validate({"p": {}})
    assert [(e.field, e.type) for e in errors] == [("p", "FieldValueInvalid")]
    assert "self.templates.all" in errors[0].detail


def test_default_message_names_the_rule() -> None:
    schema = obj(n={"type": "integer", "x-kubernetes-validations": [{"rule": "self > 1"}]})
    assert messages_of(schema, {"n": 0}) == ['n: Invalid value: "integer": failed rule: self > 1']


def test_rules_that_do_not_compile_or_return_a_non_bool_are_schema_errors() -> None:
    with pytest.raises(structural.SchemaError, match=r"x-kubernetes-validations\[0\].rule: compilation failed"):
        structural.CompiledSchema(obj(n={"type": "integer", "x-kubernetes-validations": [{"rule": "self >"}]}))
    with pytest.raises(structural.SchemaError, match="must evaluate to bool"):
        structural.CompiledSchema(obj(n={"type": "integer", "x-kubernetes-validations": [{"rule": "'text'"}]}))


def test_embedded_resources_need_type_meta_and_valid_object_meta() -> None:
    schema = obj(inner={"type": "object", "x-kubernetes-embedded-resource": True,
                        "x-kubernetes-preserve-unknown-fields": True})
    good = {"inner": {"apiVersion": "apps/v1", "kind": "Deployment",
                      "metadata": {"name": "d", "labels": {"example.com/app": "web"}, "annotations": {"note": "x"}}}}
    assert errors_of(schema, good) == []
    bad = {"inner": {"kind": "Not A Kind", "metadata": {"name": "a/b", "namespace": "Bad_NS",
                                                       "labels": {"-bad": "ok", "good": "no spaces"}}}}
    assert sorted(errors_of(schema, bad)) == [
        ("inner.apiVersion", "FieldValueRequired"),
        ("inner.kind", "FieldValueInvalid"),
        ("inner.metadata.labels", "FieldValueInvalid"),
        ("inner.metadata.labels[good]", "FieldValueInvalid"),
        ("inner.metadata.name", "FieldValueInvalid"),
        ("inner.metadata.namespace", "FieldValueInvalid"),
    ]


def test_optional_old_self_is_refused_rather_than_misapplied() -> None:
    rule = {"rule": "self == oldSelf", "optionalOldSelf": True}
    with pytest.raises(structural.SchemaError, match="optionalOldSelf is not supported"):
        structural.CompiledSchema(obj(n={"type": "integer", "x-kubernetes-validations": [rule]}))


RATCHET = obj(spec=obj(
    size={"type": "integer", "maximum": 10},
    tags={"type": "array", "items": {"type": "string", "maxLength": 3}},
    names={"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
    pair={"type": "object", "required": ["a"], "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
          "x-kubernetes-validations": [{"rule": "!has(self.b) || self.b != 'x'"}]},
))


def test_update_ratchets_errors_of_unchanged_values() -> None:
    """Kubernetes >= 1.33: an update may keep an invalid value it does not change."""
    stored = {"spec": {"size": 50, "tags": ["long-tag"], "pair": {"b": "x"}}}
    assert len(errors_of(RATCHET, stored)) == 4
    touched_elsewhere = copy.deepcopy(stored)
    touched_elsewhere["spec"]["extra"] = 1
    assert errors_of(RATCHET, touched_elsewhere, old=stored) == []
    changed = {"spec": {"size": 60, "tags": ["long-tag", "ok"], "pair": {"b": "x"}}}
    assert errors_of(RATCHET, changed, old=stored) == [("spec.size", "FieldValueInvalid"),
                                                      ("spec.tags[0]", "FieldValueTooLong")]


def test_update_never_ratchets_list_uniqueness() -> None:
    stored = {"spec": {"names": ["a", "a"]}}
    assert errors_of(RATCHET, stored, old=stored) == [("spec.names[1]", "FieldValueDuplicate")]
