"""Kubernetes types for the generated schemas, read from the kubernetes-validate package.

Owns: `Definitions`: loading one Kubernetes version's OpenAPI definitions and turning one
definition into a CRD-ready structural schema: `$ref`s inlined, `[type, "null"]` unions
collapsed, int-or-string and quantity types rewritten the way CRDs spell them, ObjectMeta
replaced by the embedded-template metadata, `+default` values and type-level extensions
(such as atomic structs) added, patch-strategy and GVK extensions dropped.
Called by: `engine.schemagen.expanding`. Build time only: the optional extra `schemagen`.
Must not import: anything in `engine` outside `engine.schemagen`.
"""

from __future__ import annotations

import copy
import json
import pathlib
from typing import Any

_PREFIX = "#/$defs/"
_OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
_INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
_QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
# A resource.Quantity in its serialized form: a signed decimal, then a binary (Ki..Ei) or
# decimal (n, u, m, k, M..E) suffix or a decimal exponent.
_NUMBER = r"(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))"
QUANTITY_PATTERN = rf"^(\+|-)?{_NUMBER}(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?{_NUMBER}))?$"
_DROPPED = frozenset({
    "x-kubernetes-patch-strategy", "x-kubernetes-patch-merge-key", "x-kubernetes-group-version-kind",
    "x-kubernetes-unions", "readOnly", "$schema", "$id",
})


class GenerationError(Exception):
    """The source asks for something the definitions cannot give."""


def definitions_file(version: str) -> pathlib.Path:
    """Where kubernetes-validate keeps the definitions of `version` (e.g. "v1.37.0")."""
    import kubernetes_validate  # build-time only: the optional extra `schemagen`

    base = pathlib.Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
    path = base / f"{version}-local" / "_definitions.json"
    if not path.is_file():
        raise GenerationError(f"kubernetes-validate has no definitions for {version}")
    return path


class Definitions:
    """One Kubernetes version's definitions, expanded on demand."""

    def __init__(self, raw: dict[str, Any], *, metadata: dict[str, Any],
                 defaults: dict[str, dict[str, Any]], extensions: dict[str, dict[str, Any]] | None = None) -> None:
        self._raw = raw
        self._metadata = metadata
        self._defaults = defaults
        self._extensions = extensions or {}

    @classmethod
    def load(cls, version: str, *, metadata: dict[str, Any], defaults: dict[str, dict[str, Any]],
             extensions: dict[str, dict[str, Any]] | None = None) -> Definitions:
        """Read the definitions file of `version`."""
        raw = json.loads(definitions_file(version).read_text())["$defs"]
        return cls(raw, metadata=metadata, defaults=defaults, extensions=extensions)

    def expand(self, name: str) -> dict[str, Any]:
        """The structural schema of definition `name`, fully inlined."""
        return self._definition(name, ())

    def _definition(self, name: str, stack: tuple[str, ...]) -> dict[str, Any]:
        if name == _OBJECT_META:
            return copy.deepcopy(self._metadata)
        if name in (_INT_OR_STRING, _QUANTITY):
            return _int_or_string(name == _QUANTITY)
        if name in stack:
            raise GenerationError(f"recursive Kubernetes type {name}")
        if name not in self._raw:
            raise GenerationError(f"unknown Kubernetes type {name}")
        schema = self._convert(self._raw[name], stack + (name,))
        for prop, value in self._defaults.get(name, {}).items():
            if prop not in schema.get("properties", {}):
                raise GenerationError(f"default for unknown field {name}.{prop}")
            schema["properties"][prop]["default"] = value
        schema.update(copy.deepcopy(self._extensions.get(name, {})))
        return schema

    def _convert(self, schema: dict[str, Any], stack: tuple[str, ...]) -> dict[str, Any]:
        if "$ref" in schema:
            expanded = self._definition(schema["$ref"].removeprefix(_PREFIX), stack)
            if "description" in schema:
                expanded["description"] = schema["description"]
            return expanded
        out: dict[str, Any] = {}
        for key, value in schema.items():
            if key in _DROPPED:
                continue
            if key == "type":
                out["type"] = _single_type(value)
            elif key == "properties":
                out["properties"] = {
                    name: self._property(name, sub, stack) for name, sub in value.items()}
            elif key in ("items", "additionalProperties") and isinstance(value, dict):
                out[key] = self._convert(value, stack)
            elif key == "additionalProperties":
                continue
            else:
                out[key] = copy.deepcopy(value)
        if out.get("type") == "object" and "properties" not in out and "additionalProperties" not in out:
            out["x-kubernetes-preserve-unknown-fields"] = True
        return out

    def _property(self, name: str, schema: dict[str, Any], stack: tuple[str, ...]) -> dict[str, Any]:
        converted = self._convert(schema, stack)
        if name in ("apiVersion", "kind"):
            converted.pop("enum", None)
        return converted


def _single_type(value: object) -> str:
    """`["string", "null"]` -> "string"; CRDs have one type per schema."""
    kinds = [value] if isinstance(value, str) else [kind for kind in _as_list(value) if kind != "null"]
    if len(kinds) != 1:
        raise GenerationError(f"cannot express type {value!r} in a structural schema")
    return str(kinds[0])


def _as_list(value: object) -> list[object]:
    if not isinstance(value, list):
        raise GenerationError(f"type must be a string or a list, not {value!r}")
    return value


def _int_or_string(quantity: bool) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "anyOf": [{"type": "integer"}, {"type": "string"}],
        "x-kubernetes-int-or-string": True,
    }
    if quantity:
        schema["pattern"] = QUANTITY_PATTERN
    return schema
