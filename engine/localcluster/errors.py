"""Kubernetes `Status` errors of the embedded API server.

Owns: `APIStatusError` and one constructor per reason the server answers with.
Called by: every module of `engine.localcluster` that rejects a request, and the HTTP layer
that turns the exception into a `Status` body.
Must not import: anything in `engine` outside `localcluster`.
"""

from __future__ import annotations

from typing import Any


class APIStatusError(Exception):
    """A failed API call, carried as the Kubernetes `Status` it becomes on the wire."""

    def __init__(self, code: int, reason: str, message: str, *,
                 details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details

    def status(self) -> dict[str, Any]:
        """The `Status` object (kind Status, apiVersion v1) for this error."""
        body: dict[str, Any] = {
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": self.message, "reason": self.reason, "code": self.code,
        }
        if self.details is not None:
            body["details"] = self.details
        return body


def _details(group: str, kind_or_plural: str, name: str | None) -> dict[str, Any]:
    details: dict[str, Any] = {"kind": kind_or_plural}
    if group:
        details["group"] = group
    if name:
        details["name"] = name
    return details


def _qualified(group: str, plural: str) -> str:
    return f"{plural}.{group}" if group else plural


def not_found(group: str, plural: str, name: str) -> APIStatusError:
    """404: `jobs.batch "x" not found`."""
    return APIStatusError(404, "NotFound", f'{_qualified(group, plural)} "{name}" not found',
                          details=_details(group, plural, name))


def already_exists(group: str, plural: str, name: str) -> APIStatusError:
    """409 AlreadyExists."""
    return APIStatusError(409, "AlreadyExists", f'{_qualified(group, plural)} "{name}" already exists',
                          details=_details(group, plural, name))


def conflict(group: str, plural: str, name: str, why: str) -> APIStatusError:
    """409 Conflict: "Operation cannot be fulfilled on ..."."""
    message = f'Operation cannot be fulfilled on {_qualified(group, plural)} "{name}": {why}'
    return APIStatusError(409, "Conflict", message, details=_details(group, plural, name))


STALE = "the object has been modified; please apply your changes to the latest version and try again"


def invalid(group: str, kind: str, name: str, causes: list[tuple[str, ...]]) -> APIStatusError:
    """422 Invalid; `causes` are (field path, message) or (field path, message, cause type)."""
    texts = [f"{c[0]}: {c[1]}" if c[0] else c[1] for c in causes]
    text = texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"
    details = _details(group, kind, name)
    details["causes"] = [{"reason": c[2] if len(c) > 2 else "FieldValueInvalid", "message": c[1],
                          "field": c[0]} for c in causes]
    qualified_kind = f"{kind}.{group}" if group else kind
    return APIStatusError(422, "Invalid", f'{qualified_kind} "{name}" is invalid: {text}',
                          details=details)


def bad_request(message: str) -> APIStatusError:
    """400 BadRequest."""
    return APIStatusError(400, "BadRequest", message)


def forbidden(message: str) -> APIStatusError:
    """403 Forbidden."""
    return APIStatusError(403, "Forbidden", message)


def method_not_allowed(message: str) -> APIStatusError:
    """405 MethodNotAllowed."""
    return APIStatusError(405, "MethodNotAllowed", message)


def unsupported_media_type(content_type: str) -> APIStatusError:
    """415 UnsupportedMediaType."""
    return APIStatusError(415, "UnsupportedMediaType",
                          f'the body of the request was in an unknown format - accepted media types '
                          f'include: application/json-patch+json, application/merge-patch+json, '
                          f'application/apply-patch+yaml (got "{content_type}")')


def too_large(limit: int) -> APIStatusError:
    """413 RequestEntityTooLarge."""
    return APIStatusError(413, "RequestEntityTooLarge",
                          f"Request entity too large: limit is {limit}")


def expired(message: str) -> APIStatusError:
    """410 Expired (a resourceVersion older than the watch history)."""
    return APIStatusError(410, "Expired", message)


def internal(message: str) -> APIStatusError:
    """500 InternalError (fault injection and webhook failures only)."""
    return APIStatusError(500, "InternalError", message)
