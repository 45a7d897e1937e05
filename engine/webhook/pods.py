"""Pod admission for exclusive placement (spec §12.3): the mutating and validating Pod webhooks.

Owns: `PodAdmission` (routes `/mutate--v1-pod` and `/validate--v1-pod`, CREATE only), the
`Lookup` protocol through which it reads a follower's leader Pod and that leader's Node. Every decision (leaders, affinity terms, the follower's node selector, the
verdicts and their messages) comes from the `placement` phase of the rule packs
(rules/jobset-placement); this module fetches what a rule asks for (`FindLeader`) and turns
the actions into a JSONPatch or a denial.
Called by: `engine.assembly` (routes, with the lookup of `engine.kube.placement`).
Must not import: `engine.kube`, `engine.localcluster`, `engine.planner`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from engine.rules import decisions, patching, registry
from engine.webhook import reviews

MUTATE_PATH = "/mutate--v1-pod"
VALIDATE_PATH = "/validate--v1-pod"
PHASE = "placement"
ADMISSION_ACTIONS = frozenset({"Patch", "Deny", "FindLeader"})

log = logging.getLogger("jobset.webhook.pods")


class Lookup(Protocol):
    """Reads the cluster for the placement rules; errors come back as values, never raised."""

    async def leader(self, follower: Mapping[str, Any]) -> tuple[dict[str, Any] | None, str]:
        """The follower's leader Pod, or None and why it was not found (spec §12.3 leader lookup)."""
        ...

    async def node(self, name: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """The Node, or None and the failure as `{code, reason, message}`."""
        ...


class PackError(Exception):
    """The placement packs could not decide (a runtime error, an unknown action)."""


class PodAdmission:
    """The Pod webhooks of exclusive placement, deciding through the `placement` packs."""

    def __init__(self, packs: registry.Registry, *, lookup: Lookup) -> None:
        self._packs = packs
        self._lookup = lookup

    async def decide(self, stage: str, pod: dict[str, Any]) -> tuple[decisions.Action, ...]:
        """The actions of `stage` (mutate or validate) for `pod`, after any lookup a rule asked for."""
        actions = self._evaluate(stage, pod, None)
        finding = next((a for a in actions if a.type == "FindLeader"), None)
        if finding is None or any(a.type == "Deny" for a in actions):
            return actions
        leader, error = await self._lookup.leader(pod)
        found: dict[str, Any] = {"pod": leader, "error": error, "node": None, "nodeError": None}
        node_name = ((leader or {}).get("spec") or {}).get("nodeName")
        if node_name and finding.params.get("node"):
            found["node"], found["nodeError"] = await self._lookup.node(str(node_name))
        return self._evaluate(stage, pod, found)

    async def mutate_review(self, request: reviews.AdmissionRequest) -> dict[str, Any]:
        """AdmissionReview handler of the mutating webhook (spec §12.3 Default)."""
        if request.operation != "CREATE" or request.object is None:
            return reviews.allowed(request.uid)
        pod = _in_namespace(request.object, request.namespace)
        try:
            actions = await self.decide("mutate", pod)
            denial = _denial(request.uid, actions)
            return denial if denial is not None else reviews.patched(request.uid, _patch(pod, actions))
        except PackError as error:
            return reviews.errored(request.uid, code=500, message=str(error))

    async def validate_review(self, request: reviews.AdmissionRequest) -> dict[str, Any]:
        """AdmissionReview handler of the validating webhook (spec §12.3 ValidateCreate)."""
        if request.operation != "CREATE" or request.object is None:
            return reviews.allowed(request.uid)
        try:
            actions = await self.decide("validate", _in_namespace(request.object, request.namespace))
        except PackError as error:
            return reviews.errored(request.uid, code=500, message=str(error))
        return _denial(request.uid, actions) or reviews.allowed(request.uid)

    def routes(self) -> dict[str, Callable[[reviews.AdmissionRequest], Awaitable[dict[str, Any]]]]:
        """The webhook server routes this admission answers."""
        return {MUTATE_PATH: self.mutate_review, VALIDATE_PATH: self.validate_review}

    def _evaluate(self, stage: str, pod: dict[str, Any], leader: dict[str, Any] | None) -> tuple[decisions.Action, ...]:
        try:
            result = self._packs.evaluate_phase(PHASE, {"pod": pod, "stage": stage, "leader": leader}, subject="pod")
        except ValueError as error:
            raise PackError(f"phase {PHASE}: {error}") from None
        if result.errors:
            raise PackError("; ".join(f"{e.origin}: {e.message}" for e in result.errors))
        unknown = [a for a in result.actions if a.type not in ADMISSION_ACTIONS]
        if unknown:
            raise PackError(f"{unknown[0].origin}: action {unknown[0].type} is not an admission action")
        return result.actions


def _in_namespace(pod: dict[str, Any], namespace: str) -> dict[str, Any]:
    """The Pod with `metadata.namespace` set from the request when the body left it out."""
    metadata = pod.get("metadata") or {}
    if metadata.get("namespace") or not namespace:
        return pod
    return {**pod, "metadata": {**metadata, "namespace": namespace}}


def _patch(pod: dict[str, Any], actions: tuple[decisions.Action, ...]) -> list[dict[str, Any]]:
    """The JSONPatch of every `Patch` action, parents created as their own operations."""
    working = patching.Working(pod)
    operations: list[decisions.Operation] = []
    for action in actions:
        if action.type != "Patch":
            continue
        path = str(action.params.get("path", ""))
        if not path.startswith("/"):
            raise PackError(f"{action.origin}: Patch path {path!r} is not a JSON pointer")
        tokens = tuple(t.replace("~1", "/").replace("~0", "~") for t in path.split("/")[1:])
        try:
            operations += working.add(tokens, action.params.get("value"), action.origin)
        except patching.PatchError as error:
            raise PackError(f"{action.origin}: {error}") from None
    return [operation.to_json() for operation in operations]


def _denial(uid: str, actions: tuple[decisions.Action, ...]) -> dict[str, Any] | None:
    """The first `Deny` as a rejected review (Forbidden unless the rule says otherwise)."""
    deny = next((a for a in actions if a.type == "Deny"), None)
    if deny is None:
        return None
    code = deny.params.get("code")
    status = {"metadata": {}, "status": "Failure", "message": str(deny.params.get("message") or deny.origin),
              "reason": str(deny.params.get("reason") or "Forbidden"),
              "code": code if isinstance(code, int) and code >= 400 else 403}
    log.debug("pod creation refused by %s: %s", deny.origin, status["message"])
    return {"apiVersion": reviews.API_VERSION, "kind": reviews.KIND,
            "response": {"uid": uid, "allowed": False, "status": status}}
