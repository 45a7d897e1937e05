"""Pruning of unknown fields, as kube-apiserver does for structural schemas.

Owns: `attach(root)`, which gives every node its `prune(value, path, removed, copying,
default)`, compiled once; `prune(node, value)`, which deletes, in place, every object key the
schema does not know (unless `x-kubernetes-preserve-unknown-fields` keeps it) and returns the
deleted fields' paths; and `pruned_copy(node, value, default)`, the same result built as a
new tree in one walk (the input is left alone), optionally with structural defaults applied
as `engine.crd.defaulting` would apply them afterwards. At the root and in
`x-kubernetes-embedded-resource` objects, `apiVersion` and `kind` are kept and `metadata` is
reduced to the ObjectMeta fields.
Called by: `engine.crd.structural`.
Must not import: anything in `engine` outside `engine.crd`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from engine.crd import defaulting, fielderrors, nodes

OBJECT_META_FIELDS = frozenset({
    "name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation",
    "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "labels",
    "annotations", "ownerReferences", "finalizers", "managedFields",
})
_TYPE_META = ("apiVersion", "kind")
_RESOURCE_FIELDS = frozenset({*_TYPE_META, "metadata"})
_SCALARS = frozenset({str, int, float, bool})
Prune = Callable[[Any, str, list[str], bool, bool], Any]


class Pruner(NamedTuple):
    """A node's pruning of an object, of an array, and of any value (which dispatches)."""

    object: Prune
    array: Prune
    value: Prune


def attach(node: nodes.Node, *, root: bool = True) -> None:
    """Compile the pruning of `node` and of every node below it; the root is a resource."""
    for child in (*node.properties.values(), node.additional, node.items):
        if child is not None:
            attach(child, root=False)
    node.prune = _compile(node, resource=root or node.embedded)


def prune(node: nodes.Node, value: object) -> list[str]:
    """Remove unknown fields from `value` in place; return their paths."""
    removed: list[str] = []
    node.prune.value(value, "", removed, False, False)
    return removed


def pruned_copy(node: nodes.Node, value: object, *, default: bool) -> tuple[Any, list[str]]:
    """A copy of `value` without its unknown fields (and defaulted when asked), and their paths."""
    removed: list[str] = []
    return node.prune.value(value, "", removed, True, default), removed


def _compile(node: nodes.Node, *, resource: bool) -> Pruner:
    of_object = _object(node, resource)
    of_array = _array(node)

    def prune_value(value: Any, path: str, removed: list[str], copying: bool, default: bool) -> Any:
        if isinstance(value, dict):
            return of_object(value, path, removed, copying, default)
        if isinstance(value, list):
            return of_array(value, path, removed, copying, default)
        return value

    return Pruner(of_object, of_array, prune_value)


def _object(node: nodes.Node, resource: bool) -> Prune:
    """Known fields are walked with their schema, unknown ones removed (or kept whole when the
    node preserves them); with `default`, nulls that defaulting removes go, and this object's
    defaults are filled after its fields."""
    properties = node.properties
    additional = node.additional
    preserve = node.preserve_unknown
    fills = bool(node.defaulted) or resource
    known = {name: prop.prune for name, prop in properties.items()}

    def prune_object(value: dict[str, Any], path: str, removed: list[str], copying: bool, default: bool) -> Any:
        out: dict[str, Any] = {} if copying else value
        dropped = None
        prefix = f"{path}." if path else ""
        for name, item in value.items():
            if type(item) in _SCALARS and not resource:
                if name in properties or additional is not None or preserve:
                    if copying:
                        out[name] = item
                    continue
            elif item is None and default and _null_goes(node, name):
                dropped = [*(dropped or ()), name]
                continue
            elif resource and name in _RESOURCE_FIELDS:
                out[name] = _resource_field(name, item, prefix + name, removed, copying)
                continue
            elif (pruner := known.get(name)) is not None:
                of_object, of_array, of_value = pruner
                kind = type(item)
                out[name] = (of_object if kind is dict else of_array if kind is list else of_value)(
                    item, prefix + name, removed, copying, default)
                continue
            elif additional is not None:
                out[name] = additional.prune.value(item, f"{path}[{name}]", removed, copying, default)
                continue
            elif preserve:
                if copying:
                    out[name] = _copy(item)
                continue
            removed.append(prefix + name)
            dropped = [*(dropped or ()), name]
        if dropped and not copying:
            for name in dropped:
                del value[name]
        if default and fills:
            _defaults(node, out, resource)
        return out

    return prune_object


def _array(node: nodes.Node) -> Prune:
    items = node.items
    if items is None and node.preserve_unknown:
        return _kept
    of_object, of_array, of_value = items.prune if items is not None else (_strip, _strip, _strip)

    def prune_array(value: list[Any], path: str, removed: list[str], copying: bool, default: bool) -> Any:
        kept = [item if (kind := type(item)) in _SCALARS else  # scalars have no fields to prune
                (of_object if kind is dict else of_array if kind is list else of_value)(
                    item, f"{path}[{position}]", removed, copying, default)
                for position, item in enumerate(value)]
        return kept if copying else value

    return prune_array


def _kept(value: list[Any], path: str, removed: list[str], copying: bool, default: bool) -> Any:
    """An array whose node preserves unknown fields and has no items schema: kept whole."""
    return _copy(value) if copying else value


def _strip(value: Any, path: str, removed: list[str], copying: bool, default: bool) -> Any:
    """A value without a schema (items of an array that has none): every object field is unknown."""
    if not isinstance(value, (dict, list)):
        return value
    if isinstance(value, dict):
        prefix = f"{path}." if path else ""
        removed.extend(prefix + name for name in value)
        if copying:
            return {}
        value.clear()
        return value
    kept = [_strip(item, f"{path}[{position}]", removed, copying, default) if isinstance(item, (dict, list))
            else item for position, item in enumerate(value)]
    return kept if copying else value


def _resource_field(name: str, item: Any, path: str, removed: list[str], copying: bool) -> Any:
    """`apiVersion` and `kind` kept as they are, `metadata` reduced to the ObjectMeta fields."""
    if name != "metadata" or not isinstance(item, dict):
        return _copy(item) if copying else item
    removed.extend(fielderrors.child(path, key) for key in item if key not in OBJECT_META_FIELDS)
    if copying:
        return {key: _copy(field) for key, field in item.items() if key in OBJECT_META_FIELDS}
    for key in [key for key in item if key not in OBJECT_META_FIELDS]:
        del item[key]
    return item


def _defaults(node: nodes.Node, out: dict[str, Any], resource: bool) -> None:
    """This object's defaults, then those inside what the walk did not default: fresh defaults,
    and the type and object metadata of a resource (kept without their schema)."""
    for name in defaulting.fill(node, out):
        defaulting.apply_defaults(node.properties[name], out[name])
    if resource:
        for name in (*_TYPE_META, "metadata"):
            if name in out:
                defaulting.apply_defaults(node.properties.get(name, node.additional), out[name])


def _null_goes(node: nodes.Node, name: str) -> bool:
    """A null that defaulting removes: its field's schema is not nullable and has no default to
    replace it (map entries never get one)."""
    prop = node.properties.get(name)
    if prop is not None:
        return not prop.nullable and prop.default is nodes.MISSING
    return node.additional is not None and not node.additional.nullable


def _copy(value: Any) -> Any:
    """A copy of a JSON-like tree: containers are new, leaves are shared (they are immutable)."""
    if type(value) is dict:
        return {key: _copy(item) for key, item in value.items()}
    if type(value) is list:
        return [_copy(item) for item in value]
    return value
