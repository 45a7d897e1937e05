"""The APIError tree is chosen from the HTTP code and the Status body."""

import pytest

from engine.kube import errors


def status(code: int, reason: str, **extra: object) -> dict:
    return {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": code, "reason": reason,
            "message": f"{reason} happened", **extra}


@pytest.mark.parametrize("code, reason, cls", [
    (404, "NotFound", errors.NotFound),
    (409, "AlreadyExists", errors.AlreadyExists),
    (409, "Conflict", errors.Conflict),
    (410, "Expired", errors.Gone),
    (422, "Invalid", errors.Invalid),
    (429, "TooManyRequests", errors.TooManyRequests),
    (500, "InternalError", errors.ServerError),
    (504, "Timeout", errors.Timeout),
    (500, "ServerTimeout", errors.Timeout),
    (415, "UnsupportedMediaType", errors.UnsupportedMediaType),
    (418, "Teapot", errors.ClientError),
    (403, "Forbidden", errors.Forbidden),
])
def test_class_follows_code_and_reason(code: int, reason: str, cls: type) -> None:
    error = errors.from_status(code, status(code, reason))
    assert type(error) is cls
    assert isinstance(error, errors.APIError)
    assert (error.code, error.reason, error.message) == (code, reason, f"{reason} happened")


def test_already_exists_is_a_conflict_and_catchable_as_one() -> None:
    with pytest.raises(errors.Conflict):
        raise errors.from_status(409, status(409, "AlreadyExists"))


def test_invalid_exposes_field_causes() -> None:
    cause = {"reason": "FieldValueInvalid", "message": "bad", "field": "spec.replicatedJobs[0].name"}
    error = errors.from_status(422, status(422, "Invalid", details={"causes": [cause]}))
    assert isinstance(error, errors.Invalid)
    assert error.causes == [cause]


def test_too_many_requests_exposes_retry_after() -> None:
    error = errors.from_status(429, status(429, "TooManyRequests", details={"retryAfterSeconds": 3}))
    assert isinstance(error, errors.TooManyRequests) and error.retry_after == 3.0


def test_a_non_status_body_still_gives_a_typed_error_with_the_text() -> None:
    error = errors.from_status(502, None, text="bad gateway")
    assert isinstance(error, errors.ServerError)
    assert error.message == "bad gateway" and error.code == 502


def test_transport_error_has_no_code() -> None:
    error = errors.TransportError("connection refused")
    assert error.code == 0 and "connection refused" in str(error)
