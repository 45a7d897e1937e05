"""Kubernetes structural-schema operations on custom resources: the public face of `engine.crd`.

Owns: `CompiledSchema` (compile an `openAPIV3Schema` once per CRD version, CEL rules
included; then `apply_defaults`, `prune` and `validate` objects as kube-apiserver does),
and re-exports `FieldError` and `SchemaError`.
Called by: the embedded API server (any CRD) and `jobset lint`, through
`from engine.crd import structural`.
Must not import: controller code (`rules`, `planner`, `kube`, `webhook`, `model`); only
`engine.cel` and `engine.crd`.

Typical request path, in kube-apiserver's order::

    schema = structural.CompiledSchema(crd_version["schema"]["openAPIV3Schema"])
    unknown = schema.prune(obj)          # strict field validation rejects when non-empty
    schema.apply_defaults(obj)
    errors = schema.validate(obj, old)   # old=None on create

On create, fewer walks give the same results: `pruned_copy(obj, default=True)` is a copy of
`obj` pruned then defaulted, and `apply_defaults_and_validate(obj)` defaults and validates.
"""

from __future__ import annotations

from typing import Any

from engine.cel import evaluator
from engine.crd import celrules, checking, defaulting, fielderrors, nodes, pruning, validation

FieldError = fielderrors.FieldError
SchemaError = nodes.SchemaError

__all__ = ["CompiledSchema", "FieldError", "SchemaError"]


class CompiledSchema:
    """One CRD version's schema, parsed and with its CEL rules compiled; reusable and read-only."""

    def __init__(self, openapi_v3_schema: dict[str, Any], *, backend: evaluator.Backend | None = None) -> None:
        self._root = nodes.compile_schema(openapi_v3_schema, _LazyEnvironment(backend))
        checking.attach(self._root)
        pruning.attach(self._root)

    def apply_defaults(self, obj: dict[str, Any]) -> None:
        """Apply structural defaults in place (and drop nulls of non-nullable, undefaulted fields)."""
        defaulting.apply_defaults(self._root, obj)

    def prune(self, obj: dict[str, Any]) -> list[str]:
        """Remove unknown fields in place; return their field paths (`spec.foo`, `metadata.labels`...)."""
        return pruning.prune(self._root, obj)

    def pruned_copy(self, obj: dict[str, Any], *, default: bool) -> tuple[dict[str, Any], list[str]]:
        """`prune` (then `apply_defaults` when `default`) on a copy, in one walk; `obj` is unchanged."""
        return pruning.pruned_copy(self._root, obj, default=default)

    def apply_defaults_and_validate(self, obj: dict[str, Any]) -> list[FieldError]:
        """`apply_defaults(obj)` then `validate(obj)` (create), in one walk."""
        errors: list[FieldError] = []
        meta = obj.get("metadata") if isinstance(obj, dict) else None
        if not isinstance(meta, dict):
            self._root.check(obj, "", errors, True)
            return errors
        # The schema sees only part of the root metadata: default the real one, walk the rest.
        defaulting.apply_defaults(self._root.properties.get("metadata", self._root.additional), meta)
        obj["metadata"] = _root_view(obj)["metadata"]
        try:
            self._root.check(obj, "", errors, True)
        finally:
            obj["metadata"] = meta
        return errors

    def validate(self, obj: dict[str, Any], old: dict[str, Any] | None = None) -> list[FieldError]:
        """Schema and CEL errors of `obj`; pass the stored object as `old` on update."""
        previous: Any = nodes.MISSING
        if old is not None:
            previous = _root_view(old)
        return validation.validate(self._root, _root_view(obj), previous, "")


class _LazyEnvironment:
    """The CEL environment, built at the first rule: rule-free schemas need no CEL library."""

    def __init__(self, backend: evaluator.Backend | None) -> None:
        self._backend = backend
        self._environment: evaluator.Environment | None = None

    def compile(self, source: str) -> evaluator.Program:
        return self._get().compile(source)

    def activation(self, bindings: Any) -> evaluator.Activation:
        return self._get().activation(bindings)

    def _get(self) -> evaluator.Environment:
        if self._environment is None:
            backend = self._backend
            if backend is None:
                from engine.cel import backends  # imported lazily: it loads the CEL library

                backend = backends.get_backend()
            self._environment = backend.environment(celrules.VARIABLES)
        return self._environment


def _root_view(obj: dict[str, Any]) -> dict[str, Any]:
    """What the schema and CEL see of the root `metadata`: only `name` and `generateName`.

    The rest of ObjectMeta is the API server's business, checked by its own rules.
    """
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    if not isinstance(meta, dict):
        return obj
    visible = {key: meta[key] for key in ("name", "generateName") if key in meta}
    return {**obj, "metadata": visible}
