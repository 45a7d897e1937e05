"""Validation of a value with no old value (create), compiled once per schema node.

Owns: `attach(root)`, which gives every node of a compiled schema its `check(value, path,
errors, default)`: a closure that knows the node's properties, which of them are scalars
with nothing to check but their type, and which keyword checks the node has, so a walk
does only the work the schema asks for. With `default=True` the same walk first applies
structural defaults (as `engine.crd.defaulting` does) to each object it enters: one walk
instead of two, with the result of defaulting then validating.
Errors come in kube-apiserver's order: for each value, its own errors (type, enum, string
and number keywords, embedded resource, required, counts, CEL rules), then combinators,
list uniqueness, then its children's errors.
Called by: `engine.crd.structural` (attach), `engine.crd.validation` and `engine.crd.keywords`
(the checks of new values and of combinator branches).
Must not import: anything in `engine` outside `engine.crd`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.crd import defaulting, fielderrors, keywords, nodes

Errors = list[fielderrors.FieldError]
Check = Callable[[Any, str, Errors, bool], None]
_ACCEPTED = {"object": {dict}, "array": {list}, "string": {str}, "boolean": {bool}, "integer": {int},
             "number": {int, float}}
_ANY = set(keywords.JSON_TYPES)
_NO_TYPE = type("_NoType", (), {})  # a type no JSON value has: never "plain"


def attach(node: nodes.Node) -> None:
    """Compile the checks of `node` and of every node below it (children first)."""
    for child in _children(node):
        attach(child)
    node.check = _compile(node)


def _children(node: nodes.Node) -> list[nodes.Node]:
    found = [*node.properties.values(), *node.any_of, *node.all_of, *node.one_of]
    found += [child for child in (node.additional, node.items, node.not_) if child is not None]
    return found


def _compile(node: nodes.Node) -> Check:
    if node.type == "object" and not node.int_or_string:
        return _object_check(node)
    if node.type == "array" and not node.int_or_string:
        return _array_check(node)
    return _any_check(node)


def _any_check(node: nodes.Node) -> Check:
    """A scalar, int-or-string or untyped node: dispatch on the value's JSON type."""
    accepted = frozenset({int, str} if node.int_or_string else _ACCEPTED.get(node.type or "", _ANY))
    of_object = _object_check(node)  # reached only when untyped: other types refuse containers
    of_array = _array_check(node)
    of_scalar = _own_checks(node)[2]

    def check(value: Any, path: str, errors: Errors, default: bool) -> None:
        kind = type(value)
        if kind not in accepted and not _acceptable(node, value, path, errors, default):
            return
        if kind is dict:
            of_object(value, path, errors, default)
        elif kind is list:
            of_array(value, path, errors, default)
        else:
            for own in of_scalar:
                own(node, value, path, errors)

    return check


def _acceptable(node: nodes.Node, value: Any, path: str, errors: Errors, default: bool) -> bool:
    """For a value not of the node's usual Python type: report null or a wrong type (the walk
    then stops, but still defaults as `engine.crd.defaulting` would); True when it is fine
    after all (an integral float for an integer, anything for an untyped node)."""
    if value is None:
        if (error := keywords.null_error(node, path)) is not None:
            errors.append(error)
        return False
    if (error := keywords.type_error(node, value, path)) is None:
        return True
    errors.append(error)
    if default:
        defaulting.apply_defaults(node, value)
    return False


OwnCheck = Callable[[nodes.Node, Any, str, Errors], None]


def _own_checks(node: nodes.Node) -> tuple[tuple[OwnCheck, ...], tuple[OwnCheck, ...], tuple[OwnCheck, ...]]:
    """The checks of a value itself, in kube-apiserver's order, for an object, an array, a scalar."""
    values = (keywords.values,) if node.checks_values else ()
    rules = (keywords.created_rules,) if node.rules else ()
    combinators = (keywords.combinators,) if node.combines else ()
    counts_object = node.required or node.max_properties is not None or node.min_properties is not None
    counts_array = node.max_items is not None or node.min_items is not None
    unique = node.list_type in ("map", "set") or node.unique_items
    return (
        (*values, *((keywords.embedded_resource,) if node.embedded else ()),
         *((keywords.object_counts,) if counts_object else ()), *rules, *combinators),
        (*values, *((keywords.array_counts,) if counts_array else ()), *rules, *combinators,
         *((keywords.uniqueness,) if unique else ())),
        (*values, *rules, *combinators),
    )


def _before_children(node: nodes.Node, checks: tuple[OwnCheck, ...], value: Any, path: str,
                     errors: Errors, mark: int) -> None:
    """Run a value's own checks after its children (defaults are then complete) and move their
    errors before the children's, where kube-apiserver reports them."""
    end = len(errors)
    for own in checks:
        own(node, value, path, errors)
    if len(errors) > end > mark:
        moved = errors[end:]
        del errors[end:]
        errors[mark:mark] = moved


def _object_check(node: nodes.Node) -> Check:
    """An object: defaults of this level first (when asked), then its fields (nulls that
    defaulting removes are removed, scalars of the right type with nothing else to check are
    skipped), then its own checks. A value of another type is reported."""
    plains = {name: prop.plain_type for name, prop in node.properties.items() if prop.plain_type is not None}
    checks = {name: prop.check for name, prop in node.properties.items()}
    null_goes = frozenset(name for name, prop in node.properties.items()
                          if not prop.nullable and prop.default is nodes.MISSING)
    additional = node.additional
    extra: Check | None = additional.check if additional is not None else None
    extra_null_goes = additional is not None and not additional.nullable
    defaulted = bool(node.defaulted)
    own = _own_checks(node)[0]
    required = frozenset(node.required)
    only_required = own == (keywords.object_counts,) and node.max_properties is None and node.min_properties is None

    def check(value: Any, path: str, errors: Errors, default: bool) -> None:
        if type(value) is not dict:
            _acceptable(node, value, path, errors, default)
            return
        if default and defaulted:
            defaulting.fill(node, value)
        mark = len(errors)
        prefix = f"{path}." if path else ""
        doomed = None
        for name, item in value.items():
            if type(item) is plains.get(name):
                continue
            check = checks.get(name)
            if check is not None:
                if item is None and default and name in null_goes:
                    doomed = [*(doomed or ()), name]
                    continue
                check(item, prefix + name, errors, default)
            elif extra is not None:
                if item is None and default and extra_null_goes:
                    doomed = [*(doomed or ()), name]
                    continue
                extra(item, f"{path}[{name}]", errors, default)
        if doomed:
            for name in doomed:
                del value[name]
        if own and not (only_required and value.keys() >= required):
            _before_children(node, own, value, path, errors, mark)

    return check


def _array_check(node: nodes.Node) -> Check:
    """An array: its items, then its own checks. A value of another type is reported."""
    items = node.items
    plain = (items.plain_type or _NO_TYPE) if items is not None else _NO_TYPE
    each: Check | None = items.check if items is not None else None
    own = _own_checks(node)[1]

    def check(value: Any, path: str, errors: Errors, default: bool) -> None:
        if type(value) is not list:
            _acceptable(node, value, path, errors, default)
            return
        mark = len(errors)
        if each is not None:
            for position, item in enumerate(value):
                if type(item) is not plain:
                    each(item, f"{path}[{position}]", errors, default)
        if own:
            _before_children(node, own, value, path, errors, mark)

    return check
