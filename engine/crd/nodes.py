"""Compiling an OpenAPI v3 (structural) schema into a tree of `Node`s, once per CRD version.

Owns: `Node`, `SchemaError` and `compile_schema`. A node holds every keyword the walkers
need, already parsed: regexes compiled, CEL rules compiled, list-map keys as tuples.
Called by: `engine.crd.structural`.
Must not import: anything in `engine` but `engine.cel` and `engine.crd` siblings.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from engine.crd import celrules, formats

MISSING: Any = object()
TYPES = frozenset({"object", "array", "string", "integer", "number", "boolean"})
_PLAIN_TYPES = {"string": str, "boolean": bool, "integer": int}
_COMBINATORS = ("anyOf", "allOf", "oneOf")


class SchemaError(ValueError):
    """The schema itself is unusable; `location` is a path inside the schema."""

    def __init__(self, location: str, message: str) -> None:
        super().__init__(f"{location or '<root>'}: {message}")
        self.location = location
        self.message = message


@dataclasses.dataclass(eq=False)
class Node:
    """One schema level with its keywords parsed."""

    type: str | None = None
    nullable: bool = False
    properties: dict[str, Node] = dataclasses.field(default_factory=dict)
    additional: Node | None = None
    items: Node | None = None
    required: tuple[str, ...] = ()
    enum: tuple[Any, ...] | None = None
    default: Any = MISSING
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    exclusive_maximum: bool = False
    multiple_of: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: re.Pattern[str] | None = None
    pattern_source: str = ""
    format: str | None = None
    min_items: int | None = None
    max_items: int | None = None
    unique_items: bool = False
    min_properties: int | None = None
    max_properties: int | None = None
    list_type: str | None = None
    map_keys: tuple[str, ...] = ()
    preserve_unknown: bool = False
    embedded: bool = False
    int_or_string: bool = False
    any_of: tuple[Node, ...] = ()
    all_of: tuple[Node, ...] = ()
    one_of: tuple[Node, ...] = ()
    not_: Node | None = None
    rules: tuple[celrules.Rule, ...] = ()
    defaulted: tuple[tuple[str, Node], ...] = ()  # the properties that have a default
    checks_values: bool = False  # enum, string or number keywords to check
    combines: bool = False  # anyOf, allOf, oneOf or not to check
    plain_type: type | None = None  # the Python type of a scalar with nothing to check but its type
    check: Any = None  # the compiled check of a new value (`engine.crd.checking`)
    prune: Any = None  # the compiled pruning of a value (`engine.crd.pruning.Pruner`)

    @property
    def type_name(self) -> str:
        """The schema type as CEL errors report it ("object", "string", ...)."""
        return self.type or ("string" if self.int_or_string else "object")


def compile_schema(schema: object, environment: Any) -> Node:
    """Compile a whole schema; raise `SchemaError` naming the bad keyword's location."""
    try:
        return _node(schema, "", environment)
    except celrules.RuleError as error:
        raise SchemaError(error.location, error.message) from None


def _node(schema: object, location: str, environment: Any) -> Node:
    if not isinstance(schema, dict):
        raise SchemaError(location, "a schema must be an object")
    if "$ref" in schema:
        raise SchemaError(f"{location}.$ref", "$ref is not allowed in a structural schema")
    node = Node()
    _scalars(node, schema, location)
    _children(node, schema, location, environment)
    node.checks_values = node.enum is not None or formats.checked(node.format) or node.pattern is not None or any(
        limit is not None for limit in (node.min_length, node.max_length, node.minimum, node.maximum)) or bool(
        node.multiple_of)
    node.combines = bool(node.any_of or node.all_of or node.one_of) or node.not_ is not None
    if "x-kubernetes-validations" in schema:
        node.rules = celrules.compile_rules(
            schema["x-kubernetes-validations"], environment, _at(location, "x-kubernetes-validations"))
    if node.type in _PLAIN_TYPES and not (node.checks_values or node.combines or node.rules
                                          or node.int_or_string or node.embedded):
        node.plain_type = _PLAIN_TYPES[node.type]
    return node


def _scalars(node: Node, schema: dict[str, Any], location: str) -> None:
    kind = schema.get("type")
    if kind is not None and kind not in TYPES:
        raise SchemaError(_at(location, "type"), f"unsupported type {kind!r}")
    node.type = kind
    node.nullable = bool(schema.get("nullable", False))
    if "enum" in schema:
        node.enum = tuple(schema["enum"])
    node.default = schema.get("default", MISSING)
    node.minimum = schema.get("minimum")
    node.maximum = schema.get("maximum")
    node.exclusive_minimum = bool(schema.get("exclusiveMinimum", False))
    node.exclusive_maximum = bool(schema.get("exclusiveMaximum", False))
    node.multiple_of = schema.get("multipleOf")
    node.min_length = schema.get("minLength")
    node.max_length = schema.get("maxLength")
    if "pattern" in schema:
        node.pattern_source = schema["pattern"]
        node.pattern = _regex(schema["pattern"], _at(location, "pattern"))
    node.format = schema.get("format")
    node.min_items = schema.get("minItems")
    node.max_items = schema.get("maxItems")
    node.unique_items = bool(schema.get("uniqueItems", False))
    node.min_properties = schema.get("minProperties")
    node.max_properties = schema.get("maxProperties")
    node.list_type = schema.get("x-kubernetes-list-type")
    node.map_keys = tuple(schema.get("x-kubernetes-list-map-keys", ()))
    if node.list_type == "map" and not node.map_keys:
        raise SchemaError(location, "x-kubernetes-list-type: map needs x-kubernetes-list-map-keys")
    node.preserve_unknown = bool(schema.get("x-kubernetes-preserve-unknown-fields", False))
    node.embedded = bool(schema.get("x-kubernetes-embedded-resource", False))
    node.int_or_string = bool(schema.get("x-kubernetes-int-or-string", False))
    node.required = tuple(schema.get("required", ()))


def _children(node: Node, schema: dict[str, Any], location: str, environment: Any) -> None:
    for name, sub in schema.get("properties", {}).items():
        node.properties[name] = _node(sub, _at(location, f"properties.{name}"), environment)
    node.defaulted = tuple((name, prop) for name, prop in node.properties.items() if prop.default is not MISSING)
    additional = schema.get("additionalProperties")
    if isinstance(additional, dict):
        node.additional = _node(additional, _at(location, "additionalProperties"), environment)
    elif additional is True:
        node.preserve_unknown = True
    if "items" in schema:
        node.items = _node(schema["items"], _at(location, "items"), environment)
    for keyword in _COMBINATORS:
        branches = tuple(
            _node(sub, _at(location, f"{keyword}[{i}]"), environment)
            for i, sub in enumerate(schema.get(keyword, ())))
        setattr(node, keyword.replace("Of", "_of").lower(), branches)
    if "not" in schema:
        node.not_ = _node(schema["not"], _at(location, "not"), environment)
    if node.int_or_string and _is_int_or_string_pair(node.any_of):
        node.any_of = ()


def _is_int_or_string_pair(branches: tuple[Node, ...]) -> bool:
    """The `anyOf: [{type: integer}, {type: string}]` that accompanies int-or-string."""
    return sorted(branch.type or "" for branch in branches) == ["integer", "string"]


def _regex(source: object, location: str) -> re.Pattern[str]:
    if not isinstance(source, str):
        raise SchemaError(location, "pattern must be a string")
    try:
        return re.compile(source)
    except re.error as error:
        raise SchemaError(location, f"invalid regular expression: {error}") from None


def _at(location: str, step: str) -> str:
    return f"{location}.{step}" if location else step
