"""The create-only review resources: TokenReview and SubjectAccessReview.

Owns: `create(rt, body, tokens, store)` for the two create-only types of `resources.BUILTINS`
(answered, stored nowhere): a TokenReview authenticates `spec.token` with `authn.Tokens`
(unknown token: `authenticated: false`); a SubjectAccessReview evaluates `spec` (user, groups,
uid, extra, and exactly one of `resourceAttributes` / `nonResourceAttributes`) with `rbac`
against the RBAC objects stored now. Malformed reviews are 400 / 422 naming the field.
Called by: `handlers` (POST on either resource).
Must not import: anything in `engine` outside `localcluster`.
"""

from __future__ import annotations

from typing import Any

from engine.localcluster import authn, errors, rbac, resources, storage as storage_

TOKEN_REVIEWS = "authentication.k8s.io/v1/tokenreviews"
RESOURCE, NON_RESOURCE = "spec.resourceAttributes", "spec.nonResourceAttributes"


def create(rt: resources.ResourceType, body: Any, tokens: authn.Tokens, store: storage_.Storage) -> dict[str, Any]:
    """The review with its `status` filled in."""
    if not isinstance(body, dict) or not isinstance(body.get("spec"), dict):
        raise errors.bad_request(f"a {rt.kind} needs a spec object")
    if body.get("kind", rt.kind) != rt.kind or body.get("apiVersion", rt.api_version) != rt.api_version:
        raise errors.bad_request(f"expected kind {rt.kind} of {rt.api_version}, got {body.get('kind')!r} "
                                 f"of {body.get('apiVersion')!r}")
    spec = body["spec"]
    status = _token_status(spec, tokens, store) if rt.key == TOKEN_REVIEWS else _access_status(spec, store)
    metadata = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
    return {"kind": rt.kind, "apiVersion": rt.api_version, "metadata": {**metadata, "creationTimestamp": None},
            "spec": spec, "status": status}


def _token_status(spec: dict[str, Any], tokens: authn.Tokens, store: storage_.Storage) -> dict[str, Any]:
    token = spec.get("token")
    if not isinstance(token, str) or not token:
        raise errors.bad_request("token is required for TokenReview in authentication")
    user = tokens.authenticate(token, store)
    if user is None:
        return {"authenticated": False, "user": {}, "error": "invalid bearer token"}
    status: dict[str, Any] = {"authenticated": True, "user": {
        "username": user.name, "uid": user.uid, "groups": list(user.groups),
        "extra": {key: list(values) for key, values in user.extra.items()}}}
    if isinstance(spec.get("audiences"), list):
        status["audiences"] = spec["audiences"]
    return status


def _access_status(spec: dict[str, Any], store: storage_.Storage) -> dict[str, Any]:
    decision = rbac.authorize(rbac.Policy.from_storage(store), attributes(spec))
    status: dict[str, Any] = {"allowed": decision.allowed}
    if decision.reason:
        status["reason"] = decision.reason
    return status


def attributes(spec: dict[str, Any]) -> rbac.Attributes:
    """The request a SubjectAccessReview spec describes; 422 naming the field when malformed."""
    user = _text(spec, "user")
    groups = _strings(spec.get("groups"), "spec.groups")
    if not user and not groups:
        raise _invalid("spec.user", "at least one of user or group must be specified")
    extra = spec.get("extra") or {}
    if not isinstance(extra, dict):
        raise _invalid("spec.extra", "must be a map of string lists")
    subject = rbac.User(name=user, uid=_text(spec, "uid"), groups=tuple(groups),
                        extra={str(k): tuple(_strings(v, f"spec.extra[{k}]")) for k, v in extra.items()})
    resource, other = spec.get("resourceAttributes"), spec.get("nonResourceAttributes")
    if (resource is None) == (other is None):
        raise _invalid("spec.resourceAttributes", "exactly one of nonResourceAttributes or resourceAttributes "
                                                  "must be specified")
    if other is not None:
        other = _mapping(other, NON_RESOURCE)
        return rbac.Attributes(user=subject, verb=_text(other, "verb", NON_RESOURCE),
                               path=_text(other, "path", NON_RESOURCE) or "/")
    resource = _mapping(resource, RESOURCE)
    fields = {key: _text(resource, key, RESOURCE)
              for key in ("verb", "namespace", "group", "resource", "subresource", "name")}
    return rbac.Attributes(user=subject, **fields)


def _mapping(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _invalid(path, "must be an object")
    return value


def _text(holder: dict[str, Any], key: str, where: str = "spec") -> str:
    value = holder.get(key) or ""
    if not isinstance(value, str):
        raise _invalid(f"{where}.{key}", f"must be a string, got {type(value).__name__}")
    return value


def _strings(value: Any, path: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _invalid(path, "must be a list of strings")
    return value


def _invalid(field: str, message: str) -> errors.APIStatusError:
    return errors.invalid("authorization.k8s.io", "SubjectAccessReview", "", [(field, message)])
