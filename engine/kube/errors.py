"""The one exception tree of the API client, built from the Kubernetes `Status` body.

    APIError                      any failed call; .status (the Status dict), .code, .reason
    ├── ClientError               4xx: the request was wrong or lost a race
    │   ├── BadRequest            400
    │   ├── Unauthorized          401
    │   ├── Forbidden             403
    │   ├── NotFound              404
    │   ├── MethodNotAllowed      405
    │   ├── Conflict              409 (a stale resourceVersion or failed precondition)
    │   │   └── AlreadyExists     409 with reason AlreadyExists
    │   ├── Gone                  410 (Expired: a watch or list resourceVersion too old)
    │   ├── UnsupportedMediaType  415 (e.g. a strategic merge patch on a custom resource)
    │   ├── Invalid               422 (.causes lists the offending fields)
    │   └── TooManyRequests       429 (.retry_after seconds, when the server said)
    ├── ServerError               5xx
    │   └── Timeout               504, or reason Timeout / ServerTimeout
    └── TransportError            no HTTP answer: connection refused, reset, timed out

Owns: the classes above and `from_status`, which picks the class for a status code and body.
Called by: `kube.client` (raises), everything that catches API failures (controllers, executor).
Must not import: anything in `engine`.
"""

from __future__ import annotations

from typing import Any

RawStatus = dict[str, Any]


class APIError(Exception):
    """A failed API call; `status` is the server's Status body (or one synthesised from the response)."""

    def __init__(self, status: RawStatus) -> None:
        self.status = status
        self.code: int = int(status.get("code") or 0)
        self.reason: str = str(status.get("reason") or "")
        super().__init__(f"{self.code} {self.reason}: {status.get('message', '')}".strip())

    @property
    def message(self) -> str:
        """The server's human-readable message."""
        return str(self.status.get("message", ""))


class ClientError(APIError):
    """4xx."""


class BadRequest(ClientError):
    """400."""


class Unauthorized(ClientError):
    """401."""


class Forbidden(ClientError):
    """403."""


class NotFound(ClientError):
    """404."""


class MethodNotAllowed(ClientError):
    """405."""


class Conflict(ClientError):
    """409: the object changed since it was read, or a precondition failed."""


class AlreadyExists(Conflict):
    """409 with reason AlreadyExists."""


class Gone(ClientError):
    """410: the resourceVersion asked for is too old; re-list."""


class UnsupportedMediaType(ClientError):
    """415."""


class Invalid(ClientError):
    """422: the object failed validation."""

    @property
    def causes(self) -> list[dict[str, Any]]:
        """The `details.causes` of the Status: `{reason, message, field}` each."""
        return list((self.status.get("details") or {}).get("causes") or [])


class TooManyRequests(ClientError):
    """429: throttled."""

    @property
    def retry_after(self) -> float | None:
        """Seconds the server asked to wait, if it did."""
        seconds = (self.status.get("details") or {}).get("retryAfterSeconds")
        return float(seconds) if seconds is not None else None


class ServerError(APIError):
    """5xx."""


class Timeout(ServerError):
    """The server gave up waiting (504, or reason Timeout/ServerTimeout)."""


class TransportError(APIError):
    """No HTTP answer at all."""

    def __init__(self, message: str) -> None:
        super().__init__({"kind": "Status", "status": "Failure", "code": 0, "reason": "Transport",
                          "message": message})


_BY_CODE: dict[int, type[APIError]] = {
    400: BadRequest, 401: Unauthorized, 403: Forbidden, 404: NotFound, 405: MethodNotAllowed,
    409: Conflict, 410: Gone, 415: UnsupportedMediaType, 422: Invalid, 429: TooManyRequests, 504: Timeout,
}


def from_status(code: int, body: Any, *, text: str = "") -> APIError:
    """The exception for HTTP `code` with decoded `body` (a Status dict, or anything else)."""
    if isinstance(body, dict) and body.get("kind") == "Status":
        status: RawStatus = dict(body)
        status.setdefault("code", code)
    else:
        status = {"kind": "Status", "status": "Failure", "code": code, "message": text or str(body)}
    reason = str(status.get("reason") or "")
    if reason == "AlreadyExists":
        return AlreadyExists(status)
    if reason in ("Timeout", "ServerTimeout"):
        return Timeout(status)
    cls = _BY_CODE.get(code)
    if cls is None:
        cls = ServerError if code >= 500 else ClientError if code >= 400 else APIError
    return cls(status)
