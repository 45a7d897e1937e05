"""Runs the simulated scheduler against the API: pending pods in, bindings out.

Owns: `SchedulerDriver`: keeps `scheduler.Cluster` current from node, namespace and pod
events; schedules unbound pods one at a time (gated pods get PodScheduled False
SchedulingGated); binds through pods/binding (spec.nodeName, PodScheduled True); marks
the rest PodScheduled False Unschedulable with the reason, and retries them when nodes
change, resources are freed, or (for affinity) pods are bound.
Called by: `sim.__init__`.
Must not import: anything in `engine` outside `localcluster`.
"""

from __future__ import annotations

import copy
from typing import Any

from engine.localcluster import clock as clocks, errors
from engine.localcluster.sim import events, informer, podstate, scheduler, workqueue

PODS = "v1/pods"
RETRY = ("", "<retry unschedulable pods>")
RETRY_SECONDS = 1.0  # waiting pods are retried at most once per virtual second
GATED = "Scheduling is blocked due to non-empty scheduling gates"


class SchedulerDriver:
    """The default scheduler of the simulated cluster."""

    def __init__(self, api: Any, clock: clocks.Clock, pods: informer.Informer,
                 nodes: informer.Informer, namespaces: informer.Informer) -> None:
        self.api = api
        self.clock = clock
        self.pods = pods
        self.cluster = scheduler.Cluster()
        self.waiting: dict[tuple[str, str], str] = {}
        self.recorder = events.Recorder(api, clock, "default-scheduler")
        self.queue = workqueue.WorkQueue(clock, self.sync, name="scheduler", workers=1)
        pods.handlers.append(self._on_pod)
        nodes.handlers.append(self._on_node)
        namespaces.handlers.append(self._on_namespace)

    def _on_node(self, old: podstate.Obj | None, new: podstate.Obj | None) -> None:
        if new is None and old is not None:
            self.cluster.drop_node(old["metadata"]["name"])
        elif new is not None:
            self.cluster.put_node(new)
        self._retry(affinity_only=False)

    def _on_namespace(self, old: podstate.Obj | None, new: podstate.Obj | None) -> None:
        if new is None and old is not None:
            self.cluster.namespaces.pop(old["metadata"]["name"], None)
        elif new is not None:
            self.cluster.namespaces[new["metadata"]["name"]] = dict(
                new["metadata"].get("labels") or {})

    def _on_pod(self, old: podstate.Obj | None, new: podstate.Obj | None) -> None:
        if new is None:
            if old is not None:
                self.cluster.drop_pod(old["metadata"]["uid"])
                self.waiting.pop(podstate.key(old), None)
                self._retry(affinity_only=False)
            return
        if new.get("spec", {}).get("nodeName"):
            was_bound = old is not None and old.get("spec", {}).get("nodeName")
            self.cluster.put_pod(new)
            if not was_bound:
                self._retry(affinity_only=True)
            elif podstate.is_terminal(new) and not podstate.is_terminal(old or {}):
                self._retry(affinity_only=False)
        elif not podstate.is_deleting(new) and _ours(new):
            self.queue.add(podstate.key(new))

    def _retry(self, *, affinity_only: bool) -> None:
        """Re-queue waiting pods soon (once for a burst of changes)."""
        if not self.waiting:
            return
        if affinity_only and not any("affinity" in m for m in self.waiting.values()):
            return
        self.queue.add_after(RETRY, RETRY_SECONDS)

    async def sync(self, key: tuple[str, str]) -> float | None:
        """Place one pending pod (or, for RETRY, re-queue every waiting pod)."""
        if key == RETRY:
            for waiting in list(self.waiting):
                self.queue.add(waiting)
            return None
        pod = self.pods.get(key)
        if pod is None or pod.get("spec", {}).get("nodeName") or podstate.is_deleting(pod):
            self.waiting.pop(key, None)
            return None
        if pod["spec"].get("schedulingGates"):
            await self._mark(pod, "SchedulingGated", GATED)
            return None
        choice = scheduler.choose(pod, self.cluster)
        if choice.node is None:
            self.waiting[key] = choice.message
            if await self._mark(pod, "Unschedulable", choice.message):
                await self.recorder.record(pod, "Warning", "FailedScheduling", choice.message)
            return None
        self.waiting.pop(key, None)
        bound = await self._bind(pod, choice.node)
        if bound is not None:
            self.pods.observe(bound)
            await self.recorder.record(pod, "Normal", "Scheduled",
                                       f"Successfully assigned {key[0]}/{key[1]} to {choice.node}")
        return None

    async def _mark(self, pod: podstate.Obj, reason: str, message: str) -> bool:
        """Set PodScheduled False with `reason`; True when it changed."""
        cond = podstate.condition(pod, "PodScheduled")
        if cond is not None and cond.get("reason") == reason and cond.get("message") == message:
            return False
        status = copy.deepcopy(pod.get("status") or {})
        conditions = status.setdefault("conditions", [])
        podstate.set_condition(conditions, "PodScheduled", "False", now=self.clock.now(),
                               reason=reason, message=message, probe=True)
        return await self.pods.write_status(pod, status)

    async def _bind(self, pod: podstate.Obj, node: str) -> podstate.Obj | None:
        """POST pods/binding; None when the pod went away or was bound meanwhile."""
        namespace, name = podstate.key(pod)
        try:
            return await self.api.bind(namespace, name, node)
        except errors.APIStatusError as err:
            if err.code in (404, 409):
                return None
            raise


def _ours(pod: podstate.Obj) -> bool:
    return pod.get("spec", {}).get("schedulerName", "default-scheduler") == "default-scheduler"
