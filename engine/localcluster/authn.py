"""Bearer-token authentication of the embedded API server, as a TokenReview answers it.

Owns: `Tokens`: a static table given at start (token -> `rbac.User`; the kubeconfig the server
writes carries its admin token) plus ServiceAccount token Secrets (type
`kubernetes.io/service-account-token`, the `kubernetes.io/service-account.name` annotation, the
token under `data.token`, and the ServiceAccount still existing), which authenticate as
`system:serviceaccount:<namespace>:<name>` in the groups `system:serviceaccounts`,
`system:serviceaccounts:<namespace>`. Every authenticated user is also in `system:authenticated`.
The server does not yet authenticate its own requests: this answers TokenReviews only.
Called by: `reviews`, `server`.
Must not import: anything in `engine` outside `localcluster`.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
from collections.abc import Mapping

from engine.localcluster import rbac, storage as storage_

AUTHENTICATED = "system:authenticated"
SERVICE_ACCOUNT_TOKEN = "kubernetes.io/service-account-token"
ACCOUNT_NAME = "kubernetes.io/service-account.name"
ADMIN = rbac.User(name="kubernetes-admin", groups=(rbac.SUPERUSER_GROUP,))


def new_token() -> str:
    """A fresh random bearer token."""
    return secrets.token_urlsafe(32)


class Tokens:
    """Tokens this server knows."""

    def __init__(self, static: Mapping[str, rbac.User] | None = None) -> None:
        self._static = dict(static or {})

    def add(self, token: str, user: rbac.User) -> None:
        """Know `token` as `user` from now on."""
        self._static[token] = user

    def authenticate(self, token: str, store: storage_.Storage) -> rbac.User | None:
        """The user `token` belongs to, or None."""
        for known, user in self._static.items():
            if hmac.compare_digest(known.encode(), token.encode()):
                return _authenticated(user)
        return _service_account(token, store)


def _authenticated(user: rbac.User) -> rbac.User:
    if AUTHENTICATED in user.groups:
        return user
    return rbac.User(name=user.name, uid=user.uid, groups=(*user.groups, AUTHENTICATED), extra=user.extra)


def _service_account(token: str, store: storage_.Storage) -> rbac.User | None:
    for secret in store.list("/secrets"):
        if secret.get("type") != SERVICE_ACCOUNT_TOKEN:
            continue
        meta = secret["metadata"]
        account = (meta.get("annotations") or {}).get(ACCOUNT_NAME)
        if not account or not hmac.compare_digest(_decoded((secret.get("data") or {}).get("token")), token.encode()):
            continue
        namespace = meta.get("namespace", "")
        found = store.get("/serviceaccounts", namespace, account)
        if found is None:
            return None
        return rbac.User(name=f"system:serviceaccount:{namespace}:{account}", uid=found["metadata"].get("uid", ""),
                         groups=("system:serviceaccounts", f"system:serviceaccounts:{namespace}", AUTHENTICATED))
    return None


def _decoded(value: object) -> bytes:
    if not isinstance(value, str):
        return b""
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return b""
