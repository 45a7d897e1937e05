"""Decoding built-in kinds the way kube-apiserver's typed decoders do: mistyped fields are refused,
unknown fields are found.

Owns: `check(rt, obj)`: refuses (400 BadRequest, `json: cannot unmarshal ...`) a value of the
wrong JSON type for its field, and removes, in place, every field the Kubernetes 1.37 type
does not declare, returning their paths (`spec.template.spec.containers[0].imagee`) so
`fieldValidation=Strict` can reject them and `Warn` can report them. Types without declared
properties (quantities, int-or-string, raw JSON) are left alone. The field table is the
generated `patchmeta.json`.
Called by: `admission`.
Must not import: anything in `engine` outside `localcluster`.
"""

from __future__ import annotations

from typing import Any

from engine.localcluster import errors, patching, resources

_OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
_PYTHON = {"string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,),
           "object": (dict,), "array": (list,)}


def check(rt: resources.ResourceType, obj: dict[str, Any]) -> list[str]:
    """Refuse mistyped fields of a built-in object; drop undeclared ones and return their paths."""
    type_name = patching.type_of(rt)
    if type_name is None:
        return []
    found: list[str] = []
    try:
        _walk(obj, type_name, "", found)
    except _Mistyped as mistake:
        raise _refusal(rt.kind, rt.version, mistake) from None
    return found


def check_metadata(kind: str, version: str, meta: dict[str, Any]) -> None:
    """Refuse mistyped ObjectMeta fields of any object (unknown ones are left to `check`)."""
    try:
        _walk(dict(meta), _OBJECT_META, "metadata", [])
    except _Mistyped as mistake:
        raise _refusal(kind, version, mistake) from None


def _refusal(kind: str, version: str, mistake: "_Mistyped") -> errors.APIStatusError:
    return errors.bad_request(f'{kind} in version "{version}" cannot be handled as a {kind}: json: cannot '
                              f"unmarshal {mistake.got} into Go struct field {mistake.path} of type {mistake.wanted}")


class _Mistyped(Exception):
    def __init__(self, path: str, value: Any, wanted: str) -> None:
        super().__init__(path)
        self.path, self.wanted = path, wanted
        self.got = {bool: "bool", int: "number", float: "number", str: "string", list: "array",
                    dict: "object"}.get(type(value), type(value).__name__)


def _expect(value: Any, kind: str | None, path: str) -> None:
    if kind is None or value is None:
        return
    allowed = _PYTHON.get(kind, (object,))
    if not isinstance(value, allowed) or (kind in ("integer", "number") and isinstance(value, bool)):
        raise _Mistyped(path, value, kind)


def _walk(value: Any, type_name: str, path: str, found: list[str]) -> None:
    fields = patching.metadata()["types"].get(type_name) or {}
    if not fields or value is None:
        return
    _expect(value, "object", path or type_name.rsplit(".", 1)[-1])
    for field in list(value):
        where = f"{path}.{field}" if path else field
        info = fields.get(field)
        if info is None:
            found.append(where)
            del value[field]
            continue
        child = value[field]
        _expect(child, info.get("type"), where)
        if info.get("ref") and info.get("type") != "array":
            if child is not None:
                _walk(child, info["ref"], where, found)
        elif isinstance(child, list):
            for n, item in enumerate(child):
                if info.get("ref"):
                    _walk(item, info["ref"], f"{where}[{n}]", found)
                else:
                    _expect(item, info.get("items"), f"{where}[{n}]")
        elif isinstance(child, dict):
            for key, item in child.items():
                _expect(item, info.get("values"), f"{where}[{key}]")
