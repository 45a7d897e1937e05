"""Pruning of unknown fields, as kube-apiserver does for structural schemas.

Owns: `prune(node, value, path, root)`, which deletes, in place, every object key the schema
does not know (unless `x-kubernetes-preserve-unknown-fields` keeps it) and returns the deleted
fields' paths; and `pruned_copy(node, value, root, default)`, the same result built as a new
tree in one walk (the input is left alone), optionally with structural defaults applied as
`engine.crd.defaulting` would apply them afterwards. At the root and in
`x-kubernetes-embedded-resource` objects, `apiVersion` and `kind` are kept and `metadata` is
reduced to the ObjectMeta fields.
Called by: `engine.crd.structural`.
Must not import: anything in `engine` outside `engine.crd`.
"""

from __future__ import annotations

from typing import Any

from engine.crd import defaulting, fielderrors, nodes

OBJECT_META_FIELDS = frozenset({
    "name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation",
    "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "labels",
    "annotations", "ownerReferences", "finalizers", "managedFields",
})
_TYPE_META = ("apiVersion", "kind")


def prune(node: nodes.Node | None, value: object, path: str, *, root: bool = False) -> list[str]:
    """Remove unknown fields from `value` in place; return their paths."""
    removed: list[str] = []
    _Walk(removed, copying=False, default=False).value(node, value, path, root)
    return removed


def pruned_copy(node: nodes.Node, value: object, *, root: bool, default: bool) -> tuple[Any, list[str]]:
    """A copy of `value` without its unknown fields (and defaulted when asked), and their paths."""
    removed: list[str] = []
    return _Walk(removed, copying=True, default=default).value(node, value, "", root), removed


class _Walk:
    """One pruning walk: in place or building a copy, defaulting as it goes or not."""

    def __init__(self, removed: list[str], *, copying: bool, default: bool) -> None:
        self.removed = removed
        self.copying = copying
        self.default = default

    def value(self, node: nodes.Node | None, value: object, path: str, resource: bool) -> Any:
        if isinstance(value, dict):
            return self.object(node, value, path, resource)
        if not isinstance(value, list):
            return value
        items = node.items if node is not None else None
        if node is not None and node.preserve_unknown and items is None:
            return _copy(value) if self.copying else value
        embedded = items is not None and items.embedded
        kept = [self.value(items, item, fielderrors.index(path, position), embedded)
                if isinstance(item, (dict, list)) else item  # scalars have no fields to prune
                for position, item in enumerate(value)]
        return kept if self.copying else value

    def object(self, node: nodes.Node | None, value: dict[str, Any], path: str, resource: bool) -> dict[str, Any]:
        properties = node.properties if node is not None else {}
        additional = node.additional if node is not None else None
        out: dict[str, Any] = {} if self.copying else value
        dropped = []
        for name, item in value.items():
            prop = properties.get(name, additional)
            if item is None and self.default and prop is not None and _null_goes(node, prop, name):
                dropped.append(name)
            elif resource and name in _TYPE_META:
                out[name] = _copy(item) if self.copying else item
            elif resource and name == "metadata":
                out[name] = self.metadata(item, fielderrors.child(path, name))
            elif prop is not None:
                out[name] = self.value(prop, item, _where(node, path, name), prop.embedded) if isinstance(
                    item, (dict, list)) else item
            elif node is None or not node.preserve_unknown:
                self.removed.append(_where(node, path, name))
                dropped.append(name)
            elif self.copying:
                out[name] = _copy(item)
        if not self.copying:
            for name in dropped:
                del value[name]
        if self.default and node is not None:
            self.defaults(node, out, resource)
        return out

    def defaults(self, node: nodes.Node, out: dict[str, Any], resource: bool) -> None:
        """This object's defaults, then those inside what the walk did not default: fresh defaults,
        and the type and object metadata of a resource (kept without their schema)."""
        for name in defaulting.fill(node, out):
            defaulting.apply_defaults(node.properties[name], out[name])
        if resource:
            for name in (*_TYPE_META, "metadata"):
                if name in out:
                    defaulting.apply_defaults(node.properties.get(name, node.additional), out[name])

    def metadata(self, meta: object, path: str) -> object:
        if not isinstance(meta, dict):
            return meta
        for name in meta:
            if name not in OBJECT_META_FIELDS:
                self.removed.append(fielderrors.child(path, name))
        if self.copying:
            return {name: _copy(item) for name, item in meta.items() if name in OBJECT_META_FIELDS}
        for name in [name for name in meta if name not in OBJECT_META_FIELDS]:
            del meta[name]
        return meta


def _null_goes(node: nodes.Node | None, prop: nodes.Node, name: str) -> bool:
    """A null that defaulting removes: not nullable, and without a default to replace it."""
    return not prop.nullable and (prop.default is nodes.MISSING or node is None or name not in node.properties)


def _where(node: nodes.Node | None, path: str, name: str) -> str:
    """The field path of `name` in the object at `path` (`[name]` for a map entry)."""
    if node is None or node.additional is None or name in node.properties:
        return fielderrors.child(path, name)
    return fielderrors.key(path, name)


def _copy(value: Any) -> Any:
    """A copy of a JSON-like tree: containers are new, leaves are shared (they are immutable)."""
    if type(value) is dict:
        return {key: _copy(item) for key, item in value.items()}
    if type(value) is list:
        return [_copy(item) for item in value]
    return value
