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
        keep = node is not None and node.preserve_unknown and items is None
        for position, item in enumerate(value):
            if not keep:
                _prune(items, item, fielderrors.index(path, position), removed,
                       resource=items is not None and items.embedded)


def _prune_object(node: nodes.Node | None, value: dict[str, object], path: str, removed: list[str],
                  *, resource: bool) -> None:
    for name in list(value):
        where = fielderrors.child(path, name) if node is None or node.additional is None \
            or name in node.properties else fielderrors.key(path, name)
        if resource and name in _TYPE_META:
            continue
        if resource and name == "metadata":
            _prune_meta(value[name], where, removed)
            continue
        prop = _schema_for(node, name)
        if prop is not None:
            _prune(prop, value[name], where, removed, resource=prop.embedded)
        elif node is not None and node.preserve_unknown:
            continue
        else:
            removed.append(where)
            del value[name]


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
