"""OpenAPI v3 validation of custom resources with the Kubernetes adaptations, plus CEL rules.

Owns: `validate(node, value, old, path) -> list[FieldError]`. A value without an old value
(create, or a part an update adds) goes through its node's compiled check
(`engine.crd.checking`); this module walks the parts that have a correlated old value:
object properties by name, map-list items by key. There, transition rules run, and errors of
unchanged values are ratcheted (dropped) as since Kubernetes 1.33, except list-type
uniqueness, combinators and transition rules. The keyword checks themselves are
`engine.crd.keywords`, worded as kube-apiserver words them.
Called by: `engine.crd.structural`.
Must not import: anything in `engine` outside `engine.crd` (CEL is reached through nodes' rules).
"""

from __future__ import annotations

from typing import Any

from engine.crd import embedded, fielderrors, keywords, nodes

MISSING = nodes.MISSING
Errors = list[fielderrors.FieldError]


def validate(node: nodes.Node, value: object, old: object, path: str) -> list[fielderrors.FieldError]:
    """Every schema and CEL error of `value` (correlated with `old`, or MISSING on create)."""
    errors: Errors = []
    _walk(node, value, old, path, errors, False)
    return errors


def _walk(node: nodes.Node, value: object, old: object, path: str, errors: Errors, inherited: bool) -> None:
    """Validate one value. `own` collects the errors that ratcheting may drop: those of a value
    equal to its correlated old value (or, when it has none, of an unchanged ancestor)."""
    if old is MISSING and not inherited:
        node.check(value, path, errors, False)
        return
    unchanged = value == old if old is not MISSING else inherited
    mark, own = len(errors), []
    if value is None:
        error = keywords.null_error(node, path)
        if error is not None:
            own.append(error)
    elif (error := keywords.type_error(node, value, path)) is not None:
        own.append(error)
    else:
        if node.checks_values:
            keywords.values(node, value, path, own)
        if node.combines:
            keywords.combinators(node, value, path, errors)
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


def _object(node: nodes.Node, value: dict[str, Any], old: object, path: str,
            own: Errors, errors: Errors, unchanged: bool) -> None:
    keywords.object_counts(node, value, path, own)
    old_map = old if isinstance(old, dict) else {}
    for name, item in value.items():
        prop = node.properties.get(name)
        if prop is not None:
            if type(item) is prop.plain_type:
                continue  # a scalar of the right type with nothing else to check has no error
            _walk(prop, item, old_map.get(name, MISSING), fielderrors.child(path, name), errors, unchanged)
        elif node.additional is not None:
            _walk(node.additional, item, old_map.get(name, MISSING), fielderrors.key(path, name), errors, unchanged)


def _array(node: nodes.Node, value: list[Any], old: object, path: str,
           own: Errors, errors: Errors, unchanged: bool) -> None:
    """List-type uniqueness goes to `errors`: Kubernetes never ratchets it."""
    keywords.array_counts(node, value, path, own)
    keywords.uniqueness(node, value, path, errors)
    if node.items is None:
        return
    olds = _correlate(node, old)
    for position, item in enumerate(value):
        previous = olds.get(keywords.map_key(node, item), MISSING) if olds else MISSING
        _walk(node.items, item, previous, fielderrors.index(path, position), errors, unchanged)


def _correlate(node: nodes.Node, old: object) -> dict[object, object]:
    if node.list_type != "map" or not isinstance(old, list):
        return {}
    return {keywords.map_key(node, item): item for item in old}


def _rules(node: nodes.Node, value: object, old: object, path: str, own: Errors, errors: Errors) -> None:
    """Transition rules run only with an old value, and are never ratcheted."""
    for rule in node.rules:
        if rule.transition and old is MISSING:
            continue
        error = rule.check(value, None if old is MISSING else old, path, node.type_name)
        if error is not None:
            (errors if rule.transition else own).append(error)
