"""Pruning of unknown fields, as kube-apiserver does for structural schemas.

Owns: `prune(node, value, path, root)`: deletes, in place, every object key the schema does
not know (unless `x-kubernetes-preserve-unknown-fields` keeps it) and returns the deleted
fields' paths. At the root and in `x-kubernetes-embedded-resource` objects, `apiVersion`
and `kind` are kept and `metadata` is reduced to the ObjectMeta fields.
Called by: `engine.crd.structural`.
Must not import: anything in `engine` outside `engine.crd`.
"""

from __future__ import annotations

from engine.crd import fielderrors, nodes

OBJECT_META_FIELDS = frozenset({
    "name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation",
    "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "labels",
    "annotations", "ownerReferences", "finalizers", "managedFields",
})
_TYPE_META = ("apiVersion", "kind")


def prune(node: nodes.Node | None, value: object, path: str, *, root: bool = False) -> list[str]:
    """Remove unknown fields from `value` in place; return their paths."""
    removed: list[str] = []
    _prune(node, value, path, removed, resource=root)
    return removed


def _prune(node: nodes.Node | None, value: object, path: str, removed: list[str], *, resource: bool = False) -> None:
    if isinstance(value, dict):
        _prune_object(node, value, path, removed, resource=resource)
    elif isinstance(value, list):
        items = node.items if node is not None else None
        if node is not None and node.preserve_unknown and items is None:
            return
        embedded = items is not None and items.embedded
        for position, item in enumerate(value):
            if isinstance(item, (dict, list)):  # scalars have no fields to prune
                _prune(items, item, fielderrors.index(path, position), removed, resource=embedded)


def _prune_object(node: nodes.Node | None, value: dict[str, object], path: str, removed: list[str],
                  *, resource: bool) -> None:
    unknown = []
    for name, item in value.items():
        if resource and name in _TYPE_META:
            continue
        if resource and name == "metadata":
            _prune_meta(item, fielderrors.child(path, name), removed)
            continue
        prop = _schema_for(node, name)
        if prop is not None:
            if isinstance(item, (dict, list)):
                _prune(prop, item, _where(node, path, name), removed, resource=prop.embedded)
        elif node is None or not node.preserve_unknown:
            removed.append(_where(node, path, name))
            unknown.append(name)
    for name in unknown:
        del value[name]


def _where(node: nodes.Node | None, path: str, name: str) -> str:
    """The field path of `name` in the object at `path` (`[name]` for a map entry)."""
    if node is None or node.additional is None or name in node.properties:
        return fielderrors.child(path, name)
    return fielderrors.key(path, name)


def _schema_for(node: nodes.Node | None, name: str) -> nodes.Node | None:
    if node is None:
        return None
    return node.properties.get(name, node.additional)


def _prune_meta(meta: object, path: str, removed: list[str]) -> None:
    if not isinstance(meta, dict):
        return
    for name in [name for name in meta if name not in OBJECT_META_FIELDS]:
        removed.append(fielderrors.child(path, name))
        del meta[name]
