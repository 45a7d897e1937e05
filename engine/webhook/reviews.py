"""AdmissionReview v1: parsing requests and building responses.

Owns: `AdmissionRequest` (the parts of `request` handlers read), `ReviewError` (a
malformed review, answered with HTTP 400), and the response constructors `allowed`,
`denied`, `patched`, `errored`.
Called by: `webhook.server` (parsing) and the handlers (`webhook.jobsets`, `webhook.pods`).
Must not import: `engine.kube`, `engine.planner`, `engine.localcluster`.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from typing import Any

API_VERSION = "admission.k8s.io/v1"
KIND = "AdmissionReview"


class ReviewError(Exception):
    """The body is not a usable AdmissionReview; the message says why."""


@dataclasses.dataclass(frozen=True)
class AdmissionRequest:
    """What a handler needs from `AdmissionReview.request`."""

    uid: str
    operation: str
    kind: dict[str, str]
    namespace: str
    name: str
    object: dict[str, Any] | None
    old_object: dict[str, Any] | None
    dry_run: bool
    raw: dict[str, Any]


def parse(body: bytes) -> AdmissionRequest:
    """Decode an AdmissionReview body; raises `ReviewError` naming what is wrong."""
    try:
        review = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ReviewError(f"request body is not valid JSON: {error}") from None
    if not isinstance(review, dict):
        raise ReviewError("request body must be a JSON object")
    if review.get("kind") != KIND or review.get("apiVersion") != API_VERSION:
        raise ReviewError(
            f"expected kind {KIND} and apiVersion {API_VERSION}, got kind "
            f"{review.get('kind')!r} and apiVersion {review.get('apiVersion')!r}"
        )
    request = review.get("request")
    if not isinstance(request, dict):
        raise ReviewError("request: required field is missing or not an object")
    uid = request.get("uid")
    if not isinstance(uid, str) or not uid:
        raise ReviewError("request.uid: required field is missing")
    operation = request.get("operation")
    if operation not in ("CREATE", "UPDATE", "DELETE", "CONNECT"):
        raise ReviewError(f"request.operation: unsupported value {operation!r}")
    kind = request.get("kind")
    if not isinstance(kind, dict):
        raise ReviewError("request.kind: required field is missing")
    obj = _optional_object(request, "object")
    old = _optional_object(request, "oldObject")
    if operation in ("CREATE", "UPDATE") and obj is None:
        raise ReviewError(f"request.object: required for operation {operation}")
    return AdmissionRequest(
        uid=uid,
        operation=operation,
        kind={k: str(v) for k, v in kind.items()},
        namespace=str(request.get("namespace") or ""),
        name=str(request.get("name") or ""),
        object=obj,
        old_object=old,
        dry_run=bool(request.get("dryRun")),
        raw=request,
    )


def _optional_object(request: dict[str, Any], key: str) -> dict[str, Any] | None:
    value = request.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ReviewError(f"request.{key}: must be an object")
    return value


def _review(response: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": API_VERSION, "kind": KIND, "response": response}


def allowed(uid: str, *, warnings: list[str] | None = None) -> dict[str, Any]:
    """An AdmissionReview that admits the object unchanged."""
    response: dict[str, Any] = {"uid": uid, "allowed": True}
    if warnings:
        response["warnings"] = warnings
    return _review(response)


def patched(uid: str, operations: list[dict[str, Any]], *, warnings: list[str] | None = None) -> dict[str, Any]:
    """Admit with an RFC 6902 JSON Patch (omitted when there is nothing to change)."""
    review = allowed(uid, warnings=warnings)
    if operations:
        encoded = base64.b64encode(json.dumps(operations, separators=(",", ":")).encode()).decode()
        review["response"]["patchType"] = "JSONPatch"
        review["response"]["patch"] = encoded
    return review


@dataclasses.dataclass(frozen=True)
class Cause:
    """One field error of a denial, as a Kubernetes StatusCause."""

    field: str
    message: str
    reason: str = "FieldValueInvalid"


def denied(uid: str, *, group_kind: tuple[str, str], name: str, causes: list[Cause],
           code: int = 422, reason: str = "Invalid") -> dict[str, Any]:
    """Reject with a Kubernetes Status listing every cause, as the API server reports Invalid."""
    group, kind = group_kind
    details = "; ".join(f"{c.field}: {c.message}" if c.field else c.message for c in causes)
    message = f'{kind}.{group} "{name}" is invalid: [{details}]' if len(causes) > 1 else (
        f'{kind}.{group} "{name}" is invalid: {details}')
    status = {
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "details": {
            "name": name,
            "group": group,
            "kind": kind,
            "causes": [{"reason": c.reason, "message": c.message, "field": c.field} for c in causes],
        },
        "code": code,
    }
    return _review({"uid": uid, "allowed": False, "status": status})


def errored(uid: str, *, code: int, message: str) -> dict[str, Any]:
    """Reject because the webhook could not decide (bad request or internal error)."""
    status = {"metadata": {}, "status": "Failure", "message": message, "code": code}
    return _review({"uid": uid, "allowed": False, "status": status})
