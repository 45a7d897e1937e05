"""Structural defaulting of custom resources, as kube-apiserver applies it.

Owns: `apply_defaults(node, value)`: for every object, each property with a `default` that is
absent (or null without `nullable`) gets a deep copy of the default, then the walk descends;
null values of non-nullable properties without a default are removed. `fill(node, obj)` is
the first step for one object alone, for walks that descend themselves.
Called by: `engine.crd.structural`, `engine.crd.checking` and `engine.crd.pruning` (walks that
default as they go).
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


def fill(node: nodes.Node, value: dict[str, object]) -> list[str]:
    """Give each absent (or null, not nullable) defaulted property of this object a copy of its
    default, without descending; return the names filled."""
    filled = []
    for name, prop in node.defaulted:
        current = value.get(name, nodes.MISSING)
        if current is nodes.MISSING or _null(prop, current):
            value[name] = _copy(prop.default)
            filled.append(name)
    return filled


def _default_object(node: nodes.Node, value: dict[str, object]) -> None:
    fill(node, value)
    doomed = []
    for name, item in value.items():
        prop = node.properties.get(name)
        if prop is None:
            prop = node.additional
            if prop is None:
                continue
        if item is None:
            # a null without a default (or a map entry) that may not be null goes
            if not prop.nullable and (prop.default is nodes.MISSING or name not in node.properties):
                doomed.append(name)
        elif isinstance(item, dict):
            _default_object(prop, item)
        elif isinstance(item, list) and prop.items is not None:
            for element in item:
                apply_defaults(prop.items, element)
    for name in doomed:
        del value[name]


def _copy(default: object) -> object:
    return default if isinstance(default, (str, int, float, bool)) else copy.deepcopy(default)


def _null(node: nodes.Node, value: object) -> bool:
    return value is None and not node.nullable
