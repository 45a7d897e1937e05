"""JobSet admission: defaulting and validation through the rule packs.

Owns: `JobSetAdmission`, the one place that turns a JobSet (and, on update, the stored one)
into the inputs of the `default` and `validate` packs, and its AdmissionReview handlers
(routes `/mutate-jobset-x-k8s-io-v1alpha2-jobset`, `/validate-jobset-x-k8s-io-v1alpha2-jobset`).
`jobset lint` calls the same `default` and `validate` methods: one engine, no second path.
Called by: the manager and `jobset up` (routes), `engine.lint.pipeline`.
Must not import: `engine.kube`, `engine.localcluster`, `engine.planner`.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from engine.metrics import metrics
from engine.model import names
from engine.rules import decisions, registry
from engine.webhook import reviews

MUTATE_PATH = "/mutate-jobset-x-k8s-io-v1alpha2-jobset"
VALIDATE_PATH = "/validate-jobset-x-k8s-io-v1alpha2-jobset"
GROUP_KIND = ("jobset.x-k8s.io", "JobSet")

# Looks up the PVCs a JobSet's volumeClaimPolicies would create: names -> (found PVCs, name -> error)
PVCLookup = Callable[[str, Sequence[str]], Awaitable[tuple[list[dict[str, Any]], dict[str, str]]]]


class JobSetAdmission:
    """Runs the `default` and `validate` phases of the active packs on JobSets."""

    def __init__(self, packs: registry.Registry, *, feature_gates: Mapping[str, bool],
                 pvc_lookup: PVCLookup | None = None, skipped_trace: bool = True) -> None:
        """`skipped_trace=False`: results trace only what decided something (lint reads no more)."""
        self._packs = packs
        self._feature_gates = dict(feature_gates)
        self._pvc_lookup = pvc_lookup
        self._skipped_trace = skipped_trace

    def default(self, jobset: dict[str, Any], *, owned: bool = False) -> decisions.Result:
        """The webhook defaulting of spec §5.2 (CREATE only). The engine leaves `jobset` as it is,
        unless the caller hands it over (`owned=True`: it is then patched in place, no copy)."""
        return self._packs.evaluate_phase("default", {
            "object": jobset, "featureGates": self._feature_gates}, owned=owned, skipped_trace=self._skipped_trace)

    def validate(self, jobset: dict[str, Any], *, old: dict[str, Any] | None = None,
                 existing_pvcs: Sequence[dict[str, Any]] = (),
                 pvc_lookup_errors: Mapping[str, str] | None = None,
                 name_for_validation: str | None = None) -> decisions.Result:
        """Create (§6.1) or update (§6.2, when `old` is given) validation; errors in the result."""
        metadata = jobset.get("metadata") or {}
        return self._packs.evaluate_phase("validate", {
            "object": jobset,
            "oldObject": old,
            "operation": "UPDATE" if old is not None else "CREATE",
            "nameForValidation": name_for_validation if name_for_validation is not None
            else names.name_for_validation(metadata),
            "featureGates": self._feature_gates,
            "existingPVCs": list(existing_pvcs),
            "pvcLookupErrors": dict(pvc_lookup_errors or {}),
        }, skipped_trace=self._skipped_trace)

    async def mutate_review(self, request: reviews.AdmissionRequest) -> dict[str, Any]:
        """AdmissionReview handler of the mutating webhook."""
        started = time.perf_counter()
        if request.operation != "CREATE" or request.object is None:
            return reviews.allowed(request.uid)
        result = self.default(request.object, owned=True)  # decoded for this request alone
        _observe("mutate-jobset", request, result.allowed, started)
        if not result.allowed:
            return _denial(request, result)
        return reviews.patched(request.uid, result.patch())

    async def validate_review(self, request: reviews.AdmissionRequest) -> dict[str, Any]:
        """AdmissionReview handler of the validating webhook (CREATE and UPDATE)."""
        started = time.perf_counter()
        answer = await self._validate_review(request)
        _observe("validate-jobset", request, bool(answer["response"]["allowed"]), started)
        return answer

    async def _validate_review(self, request: reviews.AdmissionRequest) -> dict[str, Any]:
        if request.operation not in ("CREATE", "UPDATE") or request.object is None:
            return reviews.allowed(request.uid)
        jobset = request.object
        old = request.old_object if request.operation == "UPDATE" else None
        name = names.name_for_validation(jobset.get("metadata") or {})
        existing: list[dict[str, Any]] = []
        lookup_errors: dict[str, str] = {}
        if old is None and self._pvc_lookup is not None:
            wanted = [names.pvc_name(str(template.get("metadata", {}).get("name", "")), name)
                      for policy in (jobset.get("spec") or {}).get("volumeClaimPolicies") or []
                      for template in policy.get("templates") or []]
            if wanted:
                existing, lookup_errors = await self._pvc_lookup(request.namespace, wanted)
        result = self.validate(jobset, old=old, existing_pvcs=existing,
                               pvc_lookup_errors=lookup_errors, name_for_validation=name)
        if not result.allowed:
            return _denial(request, result)
        return reviews.allowed(request.uid)

    def routes(self) -> dict[str, Callable[[reviews.AdmissionRequest], Awaitable[dict[str, Any]]]]:
        """The webhook server routes this admission answers."""
        return {MUTATE_PATH: self.mutate_review, VALIDATE_PATH: self.validate_review}


def _observe(webhook: str, request: reviews.AdmissionRequest, allowed: bool, started: float) -> None:
    metrics.observe_admission(webhook=webhook, operation=request.operation, allowed=allowed,
                              seconds=time.perf_counter() - started)


def _denial(request: reviews.AdmissionRequest, result: decisions.Result) -> dict[str, Any]:
    name = str((request.object or {}).get("metadata", {}).get("name") or request.name)
    causes = [reviews.Cause(field=error.field, message=error.message, reason=_cause_type(error.reason))
              for error in result.errors]
    return reviews.denied(request.uid, group_kind=GROUP_KIND, name=name, causes=causes)


def _cause_type(reason: str) -> str:
    """Pack reasons (Invalid, Required, ...) as Kubernetes StatusCause types."""
    return {"Required": "FieldValueRequired", "Forbidden": "FieldValueForbidden",
            "TooLong": "FieldValueTooLong", "TooMany": "FieldValueTooMany",
            "Duplicate": "FieldValueDuplicate", "NotSupported": "FieldValueNotSupported",
            "Internal": "InternalError"}.get(reason, "FieldValueInvalid")
