"""Expanding a hand-written schema source into one inlined OpenAPI v3 schema.

Owns: `expand(source, definitions) -> dict`: starts at the source's `root` definition and
replaces every `$ref: Name` (a definition of the source) or `$ref: k8s:<name>` (a Kubernetes
type, through `engine.schemagen.kubernetes`) by a copy of its schema, keeping sibling
keywords (description, x-kubernetes-validations) over the referenced ones.
Called by: `engine.schemagen.outputs`.
Must not import: anything in `engine` outside `engine.schemagen`.
"""

from __future__ import annotations

from typing import Any, Protocol

from engine.schemagen import kubernetes

K8S_PREFIX = "k8s:"


class KubernetesTypes(Protocol):
    """Where `k8s:` references are resolved."""

    def expand(self, name: str) -> dict[str, Any]: ...


def expand(source: dict[str, Any], types: KubernetesTypes | None) -> dict[str, Any]:
    """The source's root definition with every reference inlined."""
    local = source.get("definitions", {})
    root = source.get("root")
    if root not in local:
        raise kubernetes.GenerationError(f"root definition {root!r} is not in definitions")
    return _walk(local[root], local, types, (root,))


def _walk(schema: object, local: dict[str, Any], types: KubernetesTypes | None,
          stack: tuple[str, ...]) -> Any:
    if isinstance(schema, list):
        return [_walk(item, local, types, stack) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if "$ref" in schema:
        base = _resolve(schema["$ref"], local, types, stack)
        siblings = {key: value for key, value in schema.items() if key != "$ref"}
        base.update(_walk(siblings, local, types, stack))
        return base
    return {key: _walk(value, local, types, stack) for key, value in schema.items()}


def _resolve(ref: object, local: dict[str, Any], types: KubernetesTypes | None,
             stack: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(ref, str):
        raise kubernetes.GenerationError(f"$ref must be a string, not {ref!r}")
    if ref.startswith(K8S_PREFIX):
        if types is None:
            raise kubernetes.GenerationError(f"{ref}: this source has no Kubernetes definitions")
        return types.expand(ref.removeprefix(K8S_PREFIX))
    if ref not in local:
        raise kubernetes.GenerationError(f"$ref {ref!r} names no definition")
    if ref in stack:
        raise kubernetes.GenerationError(f"recursive definition {ref}")
    resolved = _walk(local[ref], local, types, stack + (ref,))
    return dict(resolved)
