"""Runs the simulated kubelets of every node against the API.

Owns: `KubeletDriver`: for each bound pod on a Ready node, applies `kubelet.step` (status
writes through pods/status, removal once a deleted pod has ended), wakes up when the
current run ends, gives pods IPs, and counts runs per Job index so scenario keys
`-attempt-<n>` see replacement pods as later attempts.
Called by: `sim.__init__`.
Must not import: anything in `engine` outside `localcluster`.
"""

from __future__ import annotations

import collections
import itertools
from typing import Any

from engine.localcluster import clock as clocks, errors
from engine.localcluster.sim import events, informer, kubelet, podstate, scenario, workqueue

PODS = "v1/pods"


class KubeletDriver:
    """The kubelets of all simulated nodes."""

    def __init__(self, api: Any, clock: clocks.Clock, pods: informer.Informer,
                 nodes: informer.Informer, story: scenario.Scenario, *,
                 default_duration: float, workers: int = 8) -> None:
        self.api = api
        self.clock = clock
        self.pods = pods
        self.nodes = nodes
        self.story = story
        self.default_duration = default_duration
        self.runs: collections.Counter[tuple[str, str, int | None]] = collections.Counter()
        self.first_attempt: dict[str, int] = {}
        self._ips = itertools.count()
        self.recorder = events.Recorder(api, clock, "kubelet")
        self.queue = workqueue.WorkQueue(clock, self.sync, name="kubelet", workers=workers)
        pods.handlers.append(self._on_pod)
        nodes.handlers.append(self._on_node)

    def _on_pod(self, old: podstate.Obj | None, new: podstate.Obj | None) -> None:
        if new is not None and new.get("spec", {}).get("nodeName"):
            self.queue.add(podstate.key(new))
        elif new is None and old is not None:
            self.first_attempt.pop(old["metadata"]["uid"], None)

    def _on_node(self, old: podstate.Obj | None, new: podstate.Obj | None) -> None:
        if new is not None and _ready(new) and (old is None or not _ready(old)):
            name = new["metadata"]["name"]
            for key, pod in list(self.pods.objects.items()):
                if pod.get("spec", {}).get("nodeName") == name:
                    self.queue.add(key)

    async def sync(self, key: tuple[str, str]) -> float | None:
        """Advance one pod's lifecycle; returns when its current run ends."""
        pod = self.pods.get(key)
        if pod is None:
            return None
        node = self.nodes.get(("", pod["spec"].get("nodeName", "")))
        if node is None or not _ready(node):
            return None
        base = self._attempt_base(pod)
        index = podstate.completion_index(pod)

        def behaviour(attempt: int) -> scenario.Behaviour:
            return scenario.resolve(pod, self.story, index=index, attempt=base + attempt,
                                    default_duration=self.default_duration)

        now = self.clock.now()
        try:
            step = kubelet.step(pod, now=now, behaviour=behaviour, pod_ip=self._ip(pod))
        except scenario.ScenarioError as err:
            step = kubelet.step(pod, now=now, pod_ip=self._ip(pod),
                                behaviour=lambda a: scenario.Behaviour(0.0, exit_code=128))
            await self.recorder.record(pod, "Warning", "BadScenario", str(err))
        if step.status is not None:
            step.status["hostIP"] = step.status.get("hostIP") or _address(node)
            if not await self.pods.write_status(pod, step.status):
                return 0.0
        if step.remove:
            await self._remove(pod)
        if step.wake_at is None:
            return None
        return max(0.0, (step.wake_at - self.clock.now()).total_seconds())

    def _attempt_base(self, pod: podstate.Obj) -> int:
        uid = pod["metadata"]["uid"]
        if uid not in self.first_attempt:
            run = (pod["metadata"].get("namespace", ""), podstate.controller_uid(pod) or uid,
                   podstate.completion_index(pod))
            self.first_attempt[uid] = self.runs[run]
            self.runs[run] += 1
        return self.first_attempt[uid]

    def _ip(self, pod: podstate.Obj) -> str:
        known = (pod.get("status") or {}).get("podIP")
        if known:
            return str(known)
        n = next(self._ips)
        return f"10.244.{(n // 250) % 256}.{n % 250 + 2}"

    async def _remove(self, pod: podstate.Obj) -> None:
        namespace, name = podstate.key(pod)
        try:
            left = await self.api.delete(PODS, namespace, name, grace_period_seconds=0)
        except errors.APIStatusError as err:
            if err.code != 404:
                raise
            return
        if left is not None:
            self.pods.observe(left)


def _ready(node: podstate.Obj) -> bool:
    return podstate.condition_true(node, "Ready")


def _address(node: podstate.Obj) -> str:
    for entry in (node.get("status") or {}).get("addresses") or []:
        if entry.get("type") == "InternalIP":
            return str(entry.get("address"))
    return ""
