"""Unknown fields of built-in kinds, found the way decoding into typed structs finds them.

Owns: `prune_unknown(rt, obj)`: removes, in place, every field the Kubernetes 1.37 type of a
built-in kind does not declare (from the generated `patchmeta.json`) and returns their paths
(`spec.template.spec.containers[0].imagee`), so `fieldValidation=Strict` can reject them and
`Warn` can report them. Types without declared properties (quantities, raw extensions, free
maps) are left alone.
Called by: `admission`.
Must not import: anything in `engine` outside `localcluster`.
"""

from __future__ import annotations

from typing import Any

from engine.localcluster import patching, resources


def prune_unknown(rt: resources.ResourceType, obj: dict[str, Any]) -> list[str]:
    """Drop undeclared fields of a built-in object; their paths, in document order."""
    type_name = patching.type_of(rt)
    if type_name is None:
        return []
    found: list[str] = []
    _prune(obj, type_name, "", found)
    return found


def _prune(value: Any, type_name: str, path: str, found: list[str]) -> None:
    fields = patching.metadata()["types"].get(type_name) or {}
    if not fields or not isinstance(value, dict):
        return
    for field in list(value):
        where = f"{path}.{field}" if path else field
        if field not in fields:
            found.append(where)
            del value[field]
            continue
        nested = fields[field].get("ref")
        if nested is None:
            continue
        child = value[field]
        if isinstance(child, list):
            for n, item in enumerate(child):
                _prune(item, nested, f"{where}[{n}]", found)
        else:
            _prune(child, nested, where, found)
