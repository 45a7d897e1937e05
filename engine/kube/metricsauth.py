"""Who may scrape `/metrics`: the bearer token reviewed by the API server, as upstream's manager does.

Owns: `Outcome` (the HTTP status and short text of a decision), `bearer_token` and `Reviewer`:
a TokenReview (authentication.k8s.io/v1) of the scrape's token, then a SubjectAccessReview
(authorization.k8s.io/v1) of verb `get` on the non-resource URL with the user, uid, groups and
extra the TokenReview returned. No token or an unauthenticated one is 401, a denied review 403,
an API failure 500 (never cached, so the next scrape asks again). Decisions are cached for
`ttl` seconds, at most `capacity` of them, keyed by a digest of the token (never the token) and
the path. The token is never logged.
Called by: `kube.manager` (the guard of `servers.metrics_app`).
Must not import: `planner`, `webhook`, `localcluster`, `cli`.
"""

from __future__ import annotations

import collections
import hashlib
import logging
import time
from collections.abc import Callable
from typing import Any, NamedTuple

from engine.kube import client as client_
from engine.kube import errors, resources

TOKEN_REVIEWS = resources.Resource("authentication.k8s.io", "v1", "tokenreviews", "TokenReview", namespaced=False)
SUBJECT_ACCESS_REVIEWS = resources.Resource("authorization.k8s.io", "v1", "subjectaccessreviews",
                                            "SubjectAccessReview", namespaced=False)
_log = logging.getLogger(__name__)


class Outcome(NamedTuple):
    """200 lets the scrape through; 401, 403 and 500 answer it with `text`."""

    status: int
    text: str

    @property
    def allowed(self) -> bool:
        """True for 200."""
        return self.status == 200


ALLOWED = Outcome(200, "")
UNAUTHORIZED = Outcome(401, "Unauthorized: a valid bearer token is required\n")


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


class Reviewer:
    """Reviews scrapes through the controller's API client, caching decisions briefly."""

    def __init__(self, api: client_.Client, *, ttl: float = 10.0, capacity: int = 1024,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.api = api
        self.ttl, self.capacity, self.clock = ttl, capacity, clock
        self._decisions: collections.OrderedDict[str, tuple[float, Outcome]] = collections.OrderedDict()

    async def check(self, authorization: str | None, path: str) -> Outcome:
        """The decision for one request to `path` carrying the `Authorization` header given."""
        token = bearer_token(authorization)
        if token is None:
            return UNAUTHORIZED
        key = hashlib.sha256(token.encode()).hexdigest() + path
        cached = self._decisions.get(key)
        now = self.clock()
        if cached is not None and cached[0] > now:
            return cached[1]
        try:
            outcome = await self._review(token, path)
        except errors.APIError as error:
            _log.warning("metrics request not reviewed: the API server failed: %s", error)
            return Outcome(500, "Internal Server Error: the request could not be reviewed\n")
        self._remember(key, now + self.ttl, outcome)
        return outcome

    async def _review(self, token: str, path: str) -> Outcome:
        review = await self.api.create(TOKEN_REVIEWS, {"apiVersion": TOKEN_REVIEWS.api_version,
                                                       "kind": TOKEN_REVIEWS.kind, "spec": {"token": token}})
        status = review.get("status") or {}
        if not status.get("authenticated"):
            return UNAUTHORIZED
        user: dict[str, Any] = status.get("user") or {}
        spec = {"user": user.get("username", ""), "uid": user.get("uid", ""), "groups": user.get("groups") or [],
                "extra": user.get("extra") or {}, "nonResourceAttributes": {"path": path, "verb": "get"}}
        answer = await self.api.create(SUBJECT_ACCESS_REVIEWS, {
            "apiVersion": SUBJECT_ACCESS_REVIEWS.api_version, "kind": SUBJECT_ACCESS_REVIEWS.kind, "spec": spec})
        if (answer.get("status") or {}).get("allowed"):
            return ALLOWED
        return Outcome(403, f'Forbidden: user "{spec["user"]}" may not get {path}\n')

    def _remember(self, key: str, expires: float, outcome: Outcome) -> None:
        self._decisions[key] = (expires, outcome)
        self._decisions.move_to_end(key)
        while len(self._decisions) > self.capacity:
            self._decisions.popitem(last=False)
