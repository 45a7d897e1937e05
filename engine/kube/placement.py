"""Exclusive placement on the controller side: the Pod reconciler (spec §12.4) and the lookups
the Pod webhooks make (spec §12.3).

Owns: `PodReconciler`: an informer on JobSet Pods (label `jobset.sigs.k8s.io/jobset-name`
present) indexed by job-key and by leader name, a controller keyed by the Pods carrying the
exclusive-topology annotation, and
`reconcile(key)`: the `placement` packs (stage `reconcile`) decide from the cached Pod; when
they ask (`InspectJob`) it reads the leader's Job pods and Node and asks again, then carries
out `EvictFollowers` (DisruptionTarget condition, then background delete) or `Retry`.
`PodLookup`: the webhook `Lookup` over the same cache (the leader lookup rules of §12.3) and
Node reads. Both indexes hold only Pods with the exclusive-topology annotation, as upstream's.
Called by: `engine.assembly`.
Must not import: `engine.webhook`, `engine.planner`, `engine.localcluster`, `engine.cli`.
"""

from __future__ import annotations

import asyncio
import copy
import datetime
import logging
from collections.abc import Callable, Mapping
from typing import Any

from engine.kube import client as client_
from engine.kube import controller, errors, handlers, informers, resources
from engine.model import keys
from engine.rules import decisions, registry

log = logging.getLogger("jobset.placement")
PHASE = "placement"
JOB_KEY_INDEX = "exclusive-job-key"
LEADER_NAME_INDEX = "exclusive-pod-name"
PARALLEL_DELETIONS = 50
RECONCILE_ACTIONS = frozenset({"InspectJob", "EvictFollowers", "Retry"})
# What the placement rules read of a Pod; the rest stays out of the cache.
CACHED_FIELDS = ("metadata", "spec.nodeName", "spec.nodeSelector", "status.phase")


class PlacementError(Exception):
    """A reconcile that must be retried (a rule's Retry, failed writes, a pack that could not decide)."""


def _utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def _exclusive(obj: informers.RawObject) -> bool:
    return keys.EXCLUSIVE_TOPOLOGY in ((obj.get("metadata") or {}).get("annotations") or {})


def _exclusive_key(obj: informers.RawObject) -> list[informers.Key]:
    """The Pod's own key when it carries the exclusive-topology annotation: only those can
    concern the reconciler (upstream's event filter), so other JobSet pods cost nothing."""
    return [informers.Key.of(obj)] if _exclusive(obj) else []


def index_job_key(obj: informers.RawObject) -> list[str]:
    """`<namespace>/<job-key>` of a Pod with the exclusive-topology annotation."""
    metadata = obj.get("metadata") or {}
    job_key = (metadata.get("labels") or {}).get(keys.JOB_KEY)
    return [f"{metadata.get('namespace') or ''}/{job_key}"] if _exclusive(obj) and job_key is not None else []


def index_leader_name(obj: informers.RawObject) -> list[str]:
    """`<namespace>/<name without its last '-' segment>` of a Pod with the exclusive-topology
    annotation; names of fewer than five segments are never indexed (spec §12.3)."""
    metadata = obj.get("metadata") or {}
    parts = str(metadata.get("name") or "").split("-")
    if not _exclusive(obj) or len(parts) < 5:
        return []
    return [f"{metadata.get('namespace') or ''}/{'-'.join(parts[:-1])}"]


def controller_uid(obj: Mapping[str, Any]) -> str | None:
    """The UID of the object's controller owner, if any."""
    for owner in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if owner.get("controller"):
            return str(owner.get("uid") or "")
    return None


class PodLookup:
    """The webhook `Lookup` (engine.webhook.pods): leaders from the Pod cache, Nodes from the API."""

    def __init__(self, *, api: client_.Client, pods: informers.Reader) -> None:
        self._api = api
        self._pods = pods

    async def leader(self, follower: Mapping[str, Any]) -> tuple[dict[str, Any] | None, str]:
        """The follower's one live leader Pod owned by the same Job, or None and why not (§12.3)."""
        metadata = follower.get("metadata") or {}
        labels = metadata.get("labels") or {}
        for key in (keys.JOBSET_NAME, keys.REPLICATED_JOB_NAME, keys.JOB_INDEX):
            if key not in labels:
                return None, f"pod missing label: {key}"
        name = f"{labels[keys.JOBSET_NAME]}-{labels[keys.REPLICATED_JOB_NAME]}-{labels[keys.JOB_INDEX]}-0"
        candidates = [pod for pod in self._pods.by_index(LEADER_NAME_INDEX, f"{metadata.get('namespace') or ''}/{name}")
                      if not (pod.get("metadata") or {}).get("deletionTimestamp")
                      and (pod.get("status") or {}).get("phase") not in ("Failed", "Succeeded")]
        if len(candidates) != 1:
            return None, f"expected 1 leader pod ({name}), but got {len(candidates)}. this is an expected, transient error"
        leader = candidates[0]
        follower_owner, leader_owner = controller_uid(follower), controller_uid(leader)
        if follower_owner is None:
            return None, "follower pod has no owner reference"
        if leader_owner is None:
            return None, f'leader pod "{leader["metadata"]["name"]}" has no owner reference'
        if follower_owner != leader_owner:
            return None, f"follower pod owner UID ({follower_owner}) != leader pod owner UID ({leader_owner})"
        return copy.deepcopy(leader), ""

    async def node(self, name: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """The Node, or None and the API failure as `{code, reason, message}`."""
        try:
            return await self._api.get(resources.NODES, name), None
        except errors.APIError as error:
            return None, {"code": error.code or 500, "reason": error.reason, "message": error.message or str(error)}


class PodReconciler:
    """Keeps each Job's follower pods in their leader's domain; `informers` and `controller` go to a manager."""

    def __init__(self, *, api: client_.Client, packs: registry.Registry, workers: int = 2,
                 now: Callable[[], datetime.datetime] = _utcnow) -> None:
        self.api = api
        self.packs = packs
        self.now = now
        self.pods = informers.Informer(client=api, resource=resources.PODS, label_selector=keys.JOBSET_NAME,
                                       transform=informers.keep_fields(*CACHED_FIELDS),
                                       indexers={JOB_KEY_INDEX: index_job_key, LEADER_NAME_INDEX: index_leader_name})
        self.lookup = PodLookup(api=api, pods=self.pods.reader)
        self.controller = controller.Controller(name="pod", reconcile=self.reconcile, workers=workers)
        self.pods.add_handler(handlers.enqueue(self.controller.queue, _exclusive_key))

    @property
    def informers(self) -> list[informers.Informer]:
        """The informers this reconciler and the webhook lookups read."""
        return [self.pods]

    async def reconcile(self, key: informers.Key) -> controller.Result:
        """One pass for the Pod `key` (spec §12.4)."""
        pod = self.pods.reader.get(key.namespace, key.name)
        if pod is None:
            return controller.Result()
        actions = self._decide(pod, {})
        if any(action.type == "InspectJob" for action in actions):
            actions = self._decide(pod, await self._inspect(pod))
        for action in actions:
            if action.type == "Retry":
                raise PlacementError(f"{action.params.get('message') or action.origin} [{action.origin}]")
        for action in actions:
            if action.type == "EvictFollowers":
                await self._evict(key.namespace, action)
        return controller.Result()

    async def _inspect(self, leader: informers.RawObject) -> dict[str, Any]:
        """The leader's Job pods (by job-key) and its Node (None when NotFound)."""
        metadata = leader.get("metadata") or {}
        job_key = (metadata.get("labels") or {}).get(keys.JOB_KEY, "")
        job_pods = self.pods.reader.by_index(JOB_KEY_INDEX, f"{metadata.get('namespace') or ''}/{job_key}")
        node_name = str((leader.get("spec") or {}).get("nodeName") or "")
        try:
            node: dict[str, Any] | None = await self.api.get(resources.NODES, node_name)
        except errors.NotFound:
            node = None
        return {"jobPods": job_pods, "node": node}

    def _decide(self, pod: informers.RawObject, found: Mapping[str, Any]) -> tuple[decisions.Action, ...]:
        try:
            result = self.packs.evaluate_phase(PHASE, {"pod": {**pod, "apiVersion": "v1", "kind": "Pod"},
                                                       "stage": "reconcile", "leader": None,
                                                       "jobPods": found.get("jobPods"), "node": found.get("node")},
                                               subject="pod")
        except ValueError as error:
            raise PlacementError(f"phase {PHASE}: {error}") from None
        if result.errors:
            raise PlacementError("; ".join(f"{e.origin}: {e.message}" for e in result.errors))
        unknown = [a for a in result.actions if a.type not in RECONCILE_ACTIONS]
        if unknown:
            raise PlacementError(f"{unknown[0].origin}: action {unknown[0].type} is not a reconcile action")
        return result.actions

    async def _evict(self, namespace: str, action: decisions.Action) -> None:
        """Condition, then background delete, for every named Pod; failures aggregated (§12.4 step 5)."""
        condition = {"type": str(action.params.get("conditionType")), "status": "True",
                     "reason": str(action.params.get("reason")), "message": str(action.params.get("message"))}
        gate = asyncio.Semaphore(PARALLEL_DELETIONS)

        async def one(name: str) -> str | None:
            async with gate:
                try:
                    await self._mark_and_delete(namespace, name, condition)
                except errors.APIError as error:
                    return f"{name}: {error}"
            return None

        names = [str(name) for name in action.params.get("pods") or []]
        log.info("exclusive placement violated in %s; deleting followers %s [%s]", namespace, names, action.origin)
        failures = [f for f in await asyncio.gather(*(one(name) for name in names)) if f]
        if failures:
            raise PlacementError("; ".join(failures))

    async def _mark_and_delete(self, namespace: str, name: str, condition: dict[str, str]) -> None:
        try:
            pod = await self.api.get(resources.PODS, name, namespace=namespace)
            if set_condition(pod, condition, now=self.now()):
                await self.api.update_status(resources.PODS, pod)
        except errors.NotFound:
            return
        try:
            await self.api.delete(resources.PODS, name, namespace=namespace, propagation="Background")
        except errors.NotFound:
            pass


def set_condition(pod: dict[str, Any], condition: Mapping[str, str], *, now: datetime.datetime) -> bool:
    """Add or refresh a Pod condition; True when the status must be written (spec §12.4).

    Same type with another status: replaced; same type and status: unchanged; absent: appended
    only when its status is True.
    """
    conditions: list[dict[str, Any]] = pod.setdefault("status", {}).setdefault("conditions", [])
    stamped = {**condition, "lastTransitionTime": now.strftime("%Y-%m-%dT%H:%M:%SZ")}
    for position, current in enumerate(conditions):
        if current.get("type") == condition["type"]:
            if current.get("status") == condition["status"]:
                return False
            conditions[position] = stamped
            return True
    if condition["status"] != "True":
        return False
    conditions.append(stamped)
    return True
