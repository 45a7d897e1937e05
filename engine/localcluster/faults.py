"""Fault injection for tests: errors, timeouts and latency on matching requests, dropped watches.

Owns: `Faults` (rules set from any thread through the running server's Python API) and `Rule`
(which requests it matches: verb, resource plural or key, namespace, name; what it does: a
Status error of a given code, a 504 timeout, added latency; how many times).
Called by: `handlers` (before serving each request), `server.RunningServer` (tests).
Must not import: anything in `engine` outside `localcluster`.
"""

from __future__ import annotations

import dataclasses
import threading

from engine.localcluster import errors

_REASONS = {409: "Conflict", 429: "TooManyRequests", 500: "InternalError", 503: "ServiceUnavailable",
            504: "Timeout", 404: "NotFound", 403: "Forbidden"}


@dataclasses.dataclass
class Rule:
    """One injected fault; None fields match anything."""

    verb: str | None = None  # get list watch create update patch delete deletecollection
    resource: str | None = None  # "pods" or "v1/pods"
    namespace: str | None = None
    name: str | None = None
    code: int | None = None  # answer this Status code instead of serving
    latency: float = 0.0  # seconds added before serving (or failing)
    times: int | None = None  # None: forever
    message: str = "injected fault"

    def matches(self, verb: str, key: str, plural: str, namespace: str | None, name: str | None) -> bool:
        """Whether a request falls under this rule."""
        return ((self.verb is None or self.verb == verb)
                and (self.resource is None or self.resource in (key, plural))
                and (self.namespace is None or self.namespace == namespace)
                and (self.name is None or self.name == name))

    def error(self) -> errors.APIStatusError | None:
        """The error to answer with, if any."""
        if self.code is None:
            return None
        error = errors.APIStatusError(self.code, _REASONS.get(self.code, "Unknown"), self.message)
        if self.code == 429:
            error.details = {"retryAfterSeconds": 1}
        return error


class Faults:
    """The active fault rules of one server."""

    def __init__(self) -> None:
        self._rules: list[Rule] = []
        self._lock = threading.Lock()

    def add(self, rule: Rule) -> Rule:
        """Activate a rule; returns it (pass it to `remove`)."""
        with self._lock:
            self._rules.append(rule)
        return rule

    def remove(self, rule: Rule) -> None:
        """Deactivate a rule."""
        with self._lock:
            if rule in self._rules:
                self._rules.remove(rule)

    def clear(self) -> None:
        """Deactivate every rule."""
        with self._lock:
            self._rules.clear()

    def take(self, verb: str, key: str, plural: str, namespace: str | None, name: str | None) -> list[Rule]:
        """The rules that apply to this request, using up one of their `times`."""
        if not self._rules:
            return []
        taken = []
        with self._lock:
            for rule in list(self._rules):
                if rule.matches(verb, key, plural, namespace, name):
                    taken.append(rule)
                    if rule.times is not None:
                        rule.times -= 1
                        if rule.times <= 0:
                            self._rules.remove(rule)
        return taken
