"""Structural defaulting of custom resources, as kube-apiserver applies it.

Owns: `apply_defaults(node, value)`: for every object, each property with a `default` that is
absent (or null without `nullable`) gets a deep copy of the default, then the walk descends;
null values of non-nullable properties without a default are removed.
Called by: `engine.crd.structural`.
Must not import: anything in `engine` outside `engine.crd`.
"""

from __future__ import annotations

import copy

from engine.crd import nodes


def apply_defaults(node: nodes.Node | None, value: object) -> None:
    """Default `value` in place against `node`."""
    if node is None:
        return
    if isinstance(value, dict):
        _default_object(node, value)
    elif isinstance(value, list) and node.items is not None:
        for item in value:
            apply_defaults(node.items, item)


def _default_object(node: nodes.Node, value: dict[str, object]) -> None:
    for name, prop in node.properties.items():
        current = value.get(name, nodes.MISSING)
        if prop.default is not nodes.MISSING and (current is nodes.MISSING or _null(prop, current)):
            value[name] = copy.deepcopy(prop.default)
        elif _null(prop, current):
            del value[name]
    for name, item in value.items():
        prop = node.properties.get(name, node.additional)
        if prop is not None:
            apply_defaults(prop, item)
    if node.additional is not None:
        for name in [name for name, item in value.items()
                     if name not in node.properties and _null(node.additional, item)]:
            del value[name]


def _null(node: nodes.Node, value: object) -> bool:
    return value is None and not node.nullable
