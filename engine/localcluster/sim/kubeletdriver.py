"""Runs the simulated kubelets of every node against the API.

Owns: `KubeletDriver`: for each bound pod on a Ready node, applies `kubelet.step` (or
`containers.step` for pods that need containers followed one by one) (status writes through
pods/status, removal once a deleted pod has ended), wakes up when the current run ends,
gives pods IPs, and counts runs per Job index so scenario keys `-attempt-<n>` see
replacement pods as later attempts. With a container runtime hook (`sim.runtime`), it
launches and kills the runs of the containers the runtime runs, and takes their reports.
Called by: `sim.__init__`.
Must not import: anything in `engine` outside `localcluster`.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import itertools
from collections.abc import Sequence
from typing import Any

from engine.localcluster import clock as clocks, errors
from engine.localcluster.sim import containers, events, informer, kubelet, podstate, runtime, scenario, workqueue

PODS = "v1/pods"


class KubeletDriver:
    """The kubelets of all simulated nodes."""

    def __init__(self, api: Any, clock: clocks.Clock, pods: informer.Informer,
                 nodes: informer.Informer, story: scenario.Scenario, *,
                 default_duration: float, workers: int = 8,
                 container_runtime: runtime.ContainerRuntime | None = None) -> None:
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
        self.container_runtime = container_runtime
        self.external: dict[tuple[str, str], runtime.External] = {}  # (pod uid, container) -> its run
        self.launched: dict[tuple[str, str], runtime.ContainerRun] = {}
        self.queue = workqueue.WorkQueue(clock, self.sync, name="kubelet", workers=workers)
        pods.handlers.append(self._on_pod)
        nodes.handlers.append(self._on_node)

    def _on_pod(self, old: podstate.Obj | None, new: podstate.Obj | None) -> None:
        if new is not None and new.get("spec", {}).get("nodeName"):
            self.queue.add(podstate.key(new))
        elif new is None and old is not None:
            self.first_attempt.pop(old["metadata"]["uid"], None)
            uid = old["metadata"]["uid"]
            self._kill(old, [name for owner, name in list(self.external) if owner == uid])

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

        try:
            step = self._step(pod, behaviour)
        except scenario.ScenarioError as err:
            step = self._step(pod, lambda a: scenario.Behaviour(0.0, exit_code=128))
            await self.recorder.record(pod, "Warning", "BadScenario", str(err))
        if step.status is not None:
            step.status["hostIP"] = step.status.get("hostIP") or _address(node)
            if not await self.pods.write_status(pod, step.status):
                return 0.0
        self._kill(pod, step.kill)
        self._launch(self.pods.get(key) or pod, step.launch, behaviour)
        if step.remove:
            await self._remove(pod)
        if step.wake_at is None:
            return None
        return max(0.0, (step.wake_at - self.clock.now()).total_seconds())

    def _step(self, pod: podstate.Obj, behaviour: kubelet.BehaviourFor) -> kubelet.Step:
        now, ip = self.clock.now(), self._ip(pod)
        if not containers.needs(pod, self._runs_for(pod)):
            return kubelet.step(pod, now=now, behaviour=behaviour, pod_ip=ip)
        uid = pod["metadata"]["uid"]
        external = {name: run for (owner, name), run in self.external.items() if owner == uid}
        return containers.step(pod, now=now, behaviour=behaviour, pod_ip=ip, runs=self._runs_for(pod),
                               external=external)

    def _runs_for(self, pod: podstate.Obj) -> containers.RunsBy:
        found = self.container_runtime
        return (lambda container: False) if found is None else (lambda container: found.runs(pod, container))

    def _launch(self, pod: podstate.Obj, names: tuple[str, ...], behaviour: kubelet.BehaviourFor) -> None:
        if self.container_runtime is None or not names:
            return
        spec = pod.get("spec") or {}
        statuses = {e.get("name"): e for e in ((pod.get("status") or {}).get("initContainerStatuses") or [])
                    + ((pod.get("status") or {}).get("containerStatuses") or [])}
        for container in list(spec.get("initContainers") or []) + list(spec.get("containers") or []):
            name = str(container.get("name"))
            if name not in names:
                continue
            restarts = int(statuses.get(name, {}).get("restartCount", 0))
            run = runtime.ContainerRun(namespace=podstate.key(pod)[0], pod=podstate.key(pod)[1],
                                       pod_uid=pod["metadata"]["uid"], container=container,
                                       env=runtime.environment(pod, container), run=restarts,
                                       behaviour=behaviour(restarts))
            handle = (run.pod_uid, name)
            self.external[handle] = runtime.External(run=restarts)
            self.launched[handle] = run
            self.container_runtime.launch(run, runtime.Reports(
                asyncio.get_running_loop(), functools.partial(self._report, podstate.key(pod), handle, restarts)))

    def _kill(self, pod: podstate.Obj, names: Sequence[str]) -> None:
        for name in names:
            handle = (pod["metadata"]["uid"], name)
            self.external.pop(handle, None)
            run = self.launched.pop(handle, None)
            if run is not None and self.container_runtime is not None:
                self.container_runtime.kill(run)

    def _report(self, key: tuple[str, str], handle: tuple[str, str], run: int, started: bool,
                exit_code: int | None) -> None:
        """A runtime's report on run `run` of a container; stale runs are ignored."""
        held = self.external.get(handle)
        if held is None or held.run != run:
            return
        self.external[handle] = runtime.External(run=run, started=held.started or started,
                                                 exit_code=held.exit_code if exit_code is None else exit_code)
        if exit_code is not None:
            self.launched.pop(handle, None)
        self.queue.add(key)

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
