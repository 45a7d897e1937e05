"""The checks of single schema keywords, worded as kube-apiserver words them.

Owns: the type check (nullable, int-or-string), enum, string and number keywords, required
fields and property counts, item counts, list-type set/map uniqueness (and the map keys that
correlate old items), the anyOf/allOf/oneOf/not combinators and `x-kubernetes-validations`
on create. Each appends `FieldError`s to the list it is given.
Called by: `engine.crd.checking` (new values) and `engine.crd.validation` (updates).
Must not import: anything in `engine` outside `engine.crd` (CEL is reached through nodes' rules).
"""

from __future__ import annotations

import json
from typing import Any

from engine.crd import embedded, fielderrors, formats, nodes

Errors = list[fielderrors.FieldError]
JSON_TYPES = {dict: "object", list: "array", str: "string", bool: "boolean", int: "integer", float: "number"}


def null_error(node: nodes.Node, path: str) -> fielderrors.FieldError | None:
    """The error of a null where `node` allows none (untyped nodes allow it)."""
    if node.nullable or (node.type is None and not node.int_or_string):
        return None
    return fielderrors.type_invalid(path, "null", f'{body(path)} must be of type {node.type_name}: "null"')


def type_error(node: nodes.Node, value: object, path: str) -> fielderrors.FieldError | None:
    """The error of a non-null value whose JSON type `node` does not accept, else None."""
    actual = JSON_TYPES.get(type(value), "unknown")
    if node.int_or_string:
        expected, ok = "integer or string", actual in ("integer", "string")
    elif node.type is None:
        return None
    else:
        expected = node.type
        ok = actual == expected or (expected == "number" and actual == "integer") or (
            expected == "integer" and actual == "number" and float(value).is_integer())  # type: ignore[arg-type]
    if ok:
        return None
    return fielderrors.type_invalid(path, value, f'{body(path)} must be of type {expected}: "{actual}"')


def values(node: nodes.Node, value: object, path: str, errors: Errors) -> None:
    """enum, then the string or number keywords."""
    if node.enum is not None and not any(_same(value, allowed) for allowed in node.enum):
        errors.append(fielderrors.not_supported(path, value, list(node.enum)))
    if isinstance(value, str):
        _string(node, value, path, errors)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        _number(node, value, path, errors)


def _string(node: nodes.Node, value: str, path: str, errors: Errors) -> None:
    if node.max_length is not None and len(value) > node.max_length:
        errors.append(fielderrors.too_long(path, value, node.max_length))
    if node.min_length is not None and len(value) < node.min_length:
        bad(errors, path, value, f"should be at least {node.min_length} chars long")
    if node.pattern is not None and node.pattern.search(value) is None:
        bad(errors, path, value, f"should match '{node.pattern_source}'")
    if not formats.check(node.format, value):
        bad(errors, path, value, f"must be of type {node.format}: {json.dumps(value)}")


def _number(node: nodes.Node, value: float, path: str, errors: Errors) -> None:
    if node.minimum is not None:
        low = value <= node.minimum if node.exclusive_minimum else value < node.minimum
        if low:
            words = "greater than" if node.exclusive_minimum else "greater than or equal to"
            bad(errors, path, value, f"should be {words} {_num(node.minimum)}")
    if node.maximum is not None:
        high = value >= node.maximum if node.exclusive_maximum else value > node.maximum
        if high:
            words = "less than" if node.exclusive_maximum else "less than or equal to"
            bad(errors, path, value, f"should be {words} {_num(node.maximum)}")
    if node.multiple_of and (value / node.multiple_of) % 1:
        bad(errors, path, value, f"should be a multiple of {_num(node.multiple_of)}")


def embedded_resource(node: nodes.Node, value: dict[str, Any], path: str, errors: Errors) -> None:
    """The type and object metadata of an `x-kubernetes-embedded-resource` object."""
    errors.extend(embedded.check(value, path))


def object_counts(node: nodes.Node, value: dict[str, Any], path: str, errors: Errors) -> None:
    """required, maxProperties, minProperties."""
    for name in node.required:
        if name not in value:
            errors.append(fielderrors.required(fielderrors.child(path, name)))
    count = len(value)
    if node.max_properties is not None and count > node.max_properties:
        errors.append(fielderrors.too_many(path, count, node.max_properties))
    if node.min_properties is not None and count < node.min_properties:
        bad(errors, path, count, f"should have at least {node.min_properties} properties")


def array_counts(node: nodes.Node, value: list[Any], path: str, errors: Errors) -> None:
    """maxItems, minItems."""
    count = len(value)
    if node.max_items is not None and count > node.max_items:
        errors.append(fielderrors.too_many(path, count, node.max_items))
    if node.min_items is not None and count < node.min_items:
        bad(errors, path, count, f"should have at least {node.min_items} items")


def uniqueness(node: nodes.Node, value: list[Any], path: str, errors: Errors) -> None:
    """x-kubernetes-list-type map (by its keys) and set, or uniqueItems: each repeat is a Duplicate."""
    if len(value) < 2:
        return
    seen: set[object] = set()
    if node.list_type == "map":
        names = node.map_keys
        for position, item in enumerate(value):
            if not isinstance(item, dict):
                continue
            key = _set_key(item.get(names[0])) if len(names) == 1 else map_key(node, item)
            if key in seen:
                shown = {name: item.get(name) for name in names}
                errors.append(fielderrors.duplicate(fielderrors.index(path, position), shown))
            seen.add(key)
    elif node.list_type == "set" or node.unique_items:
        for position, item in enumerate(value):
            key = _set_key(item)
            if key in seen:
                errors.append(fielderrors.duplicate(fielderrors.index(path, position), item))
            seen.add(key)


def map_key(node: nodes.Node, item: object) -> tuple[object, ...] | None:
    """The identity of a map-list item: its key fields' values (strings as they are, others as
    canonical JSON, so `1`, `1.0`, `true` and `"1"` stay distinct); None for a non-object."""
    if not isinstance(item, dict):
        return None
    return tuple(_set_key(item.get(name)) for name in node.map_keys)


def _set_key(value: object) -> object:
    """A hashable identity of a JSON value, equal exactly when the canonical JSON texts are."""
    if type(value) is str:
        return value
    return (json.dumps(value, sort_keys=True, separators=(",", ":")),)


def combinators(node: nodes.Node, value: object, path: str, errors: Errors) -> None:
    """anyOf/allOf/oneOf/not, each branch checked as a new value: never ratcheted."""
    for branch in node.all_of:
        branch.check(value, path, errors, False)
    if node.any_of and not any(_passes(branch, value, path) for branch in node.any_of):
        bad(errors, path, value, "must validate at least one schema (anyOf)")
    if node.one_of and sum(_passes(branch, value, path) for branch in node.one_of) != 1:
        bad(errors, path, value, "must validate one and only one schema (oneOf)")
    if node.not_ is not None and _passes(node.not_, value, path):
        bad(errors, path, value, "must not validate the schema (not)")


def _passes(branch: nodes.Node, value: object, path: str) -> bool:
    found: Errors = []
    branch.check(value, path, found, False)
    return not found


def created_rules(node: nodes.Node, value: object, path: str, errors: Errors) -> None:
    """The rules of a value without an old value: transition rules do not run."""
    for rule in node.rules:
        if not rule.transition:
            error = rule.check(value, None, path, node.type_name)
            if error is not None:
                errors.append(error)


def bad(errors: Errors, path: str, value: object, words: str) -> None:
    """kube-openapi's `<path> in body <words>` as an Invalid value."""
    errors.append(fielderrors.invalid(path, value, f"{body(path)} {words}"))


def body(path: str) -> str:
    """`<path> in body`, or `body` at the root."""
    return f"{path} in body" if path else "body"


def _same(value: object, allowed: object) -> bool:
    return type(value) is type(allowed) and value == allowed or (
        isinstance(value, (int, float)) and isinstance(allowed, (int, float))
        and not isinstance(value, bool) and not isinstance(allowed, bool) and value == allowed)


def _num(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else repr(number)
