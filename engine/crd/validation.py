"""OpenAPI v3 validation of custom resources with the Kubernetes adaptations, plus CEL rules.

Owns: `validate(node, value, old, path) -> list[FieldError]`, one walk over the value that
checks types (nullable, int-or-string), enums, bounds, lengths, patterns, formats, item and
property counts, required fields, list-type set/map uniqueness, the anyOf/allOf/oneOf/not
combinators, and `x-kubernetes-validations`. `old` is the correlated old value (update):
object properties by name, map-list items by key; transition rules run only where it exists.
On update, errors of unchanged values are ratcheted (dropped) as since Kubernetes 1.33,
except list-type uniqueness, combinators and transition rules.
Messages use kube-apiserver's wording (`<path> in body should be greater than or equal to 0`).
Called by: `engine.crd.structural`.
Must not import: anything in `engine` outside `engine.crd` (CEL is reached through nodes' rules).
"""

from __future__ import annotations

import json
from typing import Any

from engine.crd import embedded, fielderrors, formats, nodes

MISSING = nodes.MISSING
Errors = list[fielderrors.FieldError]
_JSON_TYPES = {dict: "object", list: "array", str: "string", bool: "boolean", int: "integer", float: "number"}
_PLAIN = {str: "string", bool: "boolean", int: "integer"}


def validate(node: nodes.Node, value: object, old: object, path: str) -> list[fielderrors.FieldError]:
    """Every schema and CEL error of `value` (correlated with `old`, or MISSING on create)."""
    errors: Errors = []
    _walk(node, value, old, path, errors, False)
    return errors


def _walk(node: nodes.Node, value: object, old: object, path: str, errors: Errors, inherited: bool) -> None:
    """Validate one value. `own` collects the errors that ratcheting may drop: those of a value
    equal to its correlated old value (or, when it has none, of an unchanged ancestor)."""
    unchanged = value == old if old is not MISSING else inherited
    mark, own = len(errors), []
    if value is None:
        if not node.nullable and (node.type is not None or node.int_or_string):
            detail = f'{_body(path)} must be of type {node.type_name}: "null"'
            own.append(fielderrors.type_invalid(path, "null", detail))
    elif _type_ok(node, value, path, own):
        if node.checks_values:
            _values(node, value, path, own)
        if node.combines:
            _combinators(node, value, path, errors)
        if isinstance(value, dict):
            if node.embedded:
                own.extend(embedded.check(value, path))
            _object(node, value, old, path, own, errors, unchanged)
        elif isinstance(value, list):
            _array(node, value, old, path, own, errors, unchanged)
        if node.rules:
            _rules(node, value, old, path, own, errors)
    if not unchanged:
        errors[mark:mark] = own


def _type_ok(node: nodes.Node, value: object, path: str, errors: Errors) -> bool:
    actual = _JSON_TYPES.get(type(value), "unknown")
    if node.int_or_string:
        expected, ok = "integer or string", actual in ("integer", "string")
    elif node.type is None:
        return True
    else:
        expected = node.type
        ok = actual == expected or (expected == "number" and actual == "integer") or (
            expected == "integer" and actual == "number" and float(value).is_integer())  # type: ignore[arg-type]
    if not ok:
        errors.append(fielderrors.type_invalid(path, value, f'{_body(path)} must be of type {expected}: "{actual}"'))
    return ok


def _values(node: nodes.Node, value: object, path: str, errors: Errors) -> None:
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
        _bad(errors, path, value, f"should be at least {node.min_length} chars long")
    if node.pattern is not None and node.pattern.search(value) is None:
        _bad(errors, path, value, f"should match '{node.pattern_source}'")
    if not formats.check(node.format, value):
        _bad(errors, path, value, f"must be of type {node.format}: {json.dumps(value)}")


def _number(node: nodes.Node, value: float, path: str, errors: Errors) -> None:
    if node.minimum is not None:
        low = value <= node.minimum if node.exclusive_minimum else value < node.minimum
        if low:
            words = "greater than" if node.exclusive_minimum else "greater than or equal to"
            _bad(errors, path, value, f"should be {words} {_num(node.minimum)}")
    if node.maximum is not None:
        high = value >= node.maximum if node.exclusive_maximum else value > node.maximum
        if high:
            words = "less than" if node.exclusive_maximum else "less than or equal to"
            _bad(errors, path, value, f"should be {words} {_num(node.maximum)}")
    if node.multiple_of and (value / node.multiple_of) % 1:
        _bad(errors, path, value, f"should be a multiple of {_num(node.multiple_of)}")


def _object(node: nodes.Node, value: dict[str, Any], old: object, path: str,
            own: Errors, errors: Errors, unchanged: bool) -> None:
    for name in node.required:
        if name not in value:
            own.append(fielderrors.required(fielderrors.child(path, name)))
    count = len(value)
    if node.max_properties is not None and count > node.max_properties:
        own.append(fielderrors.too_many(path, count, node.max_properties))
    if node.min_properties is not None and count < node.min_properties:
        _bad(own, path, count, f"should have at least {node.min_properties} properties")
    old_map = old if isinstance(old, dict) else {}
    for name, item in value.items():
        prop = node.properties.get(name)
        if prop is not None:
            if prop.plain is not None and _PLAIN.get(type(item)) == prop.plain:
                continue  # a scalar of the right type with nothing else to check has no error
            _walk(prop, item, old_map.get(name, MISSING), fielderrors.child(path, name), errors, unchanged)
        elif node.additional is not None:
            _walk(node.additional, item, old_map.get(name, MISSING), fielderrors.key(path, name), errors, unchanged)


def _array(node: nodes.Node, value: list[Any], old: object, path: str,
           own: Errors, errors: Errors, unchanged: bool) -> None:
    """List-type uniqueness goes to `errors`: Kubernetes never ratchets it."""
    count = len(value)
    if node.max_items is not None and count > node.max_items:
        own.append(fielderrors.too_many(path, count, node.max_items))
    if node.min_items is not None and count < node.min_items:
        _bad(own, path, count, f"should have at least {node.min_items} items")
    if node.list_type == "map":
        _unique(value, path, errors, lambda item: _map_key(node, item), node.map_keys)
    elif node.list_type == "set" or node.unique_items:
        _unique(value, path, errors, _canonical, ())
    if node.items is None:
        return
    olds = _correlate(node, old)
    for position, item in enumerate(value):
        previous = olds.get(_map_key(node, item), MISSING) if olds else MISSING
        _walk(node.items, item, previous, fielderrors.index(path, position), errors, unchanged)


def _unique(value: list[Any], path: str, errors: Errors, key_of: Any,
            map_keys: tuple[str, ...]) -> None:
    seen: set[object] = set()
    for position, item in enumerate(value):
        key = key_of(item)
        if key is None:
            continue
        if key in seen:
            shown = {name: item.get(name) for name in map_keys} if map_keys else item
            errors.append(fielderrors.duplicate(fielderrors.index(path, position), shown))
        seen.add(key)


def _map_key(node: nodes.Node, item: object) -> tuple[tuple[str, str], ...] | None:
    if not isinstance(item, dict):
        return None
    return tuple((name, _canonical(item.get(name))) for name in node.map_keys)


def _correlate(node: nodes.Node, old: object) -> dict[object, object]:
    if node.list_type != "map" or not isinstance(old, list):
        return {}
    return {_map_key(node, item): item for item in old}


def _combinators(node: nodes.Node, value: object, path: str, errors: Errors) -> None:
    """anyOf/allOf/oneOf/not: never ratcheted."""
    for branch in node.all_of:
        errors.extend(validate(branch, value, MISSING, path))
    if node.any_of and not any(not validate(branch, value, MISSING, path) for branch in node.any_of):
        _bad(errors, path, value, "must validate at least one schema (anyOf)")
    if node.one_of and sum(not validate(branch, value, MISSING, path) for branch in node.one_of) != 1:
        _bad(errors, path, value, "must validate one and only one schema (oneOf)")
    if node.not_ is not None and not validate(node.not_, value, MISSING, path):
        _bad(errors, path, value, "must not validate the schema (not)")


def _rules(node: nodes.Node, value: object, old: object, path: str, own: Errors, errors: Errors) -> None:
    """Transition rules run only with an old value, and are never ratcheted."""
    for rule in node.rules:
        if rule.transition and old is MISSING:
            continue
        error = rule.check(value, None if old is MISSING else old, path, node.type_name)
        if error is not None:
            (errors if rule.transition else own).append(error)


def _bad(errors: Errors, path: str, value: object, words: str) -> None:
    """kube-openapi's `<path> in body <words>` as an Invalid value."""
    errors.append(fielderrors.invalid(path, value, f"{_body(path)} {words}"))


def _same(value: object, allowed: object) -> bool:
    return type(value) is type(allowed) and value == allowed or (
        isinstance(value, (int, float)) and isinstance(allowed, (int, float))
        and not isinstance(value, bool) and not isinstance(allowed, bool) and value == allowed)


def _canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _body(path: str) -> str:
    return f"{path} in body" if path else "body"


def _num(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else repr(number)
