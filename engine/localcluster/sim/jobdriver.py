"""Runs the simulated Job controller against the API: watch, decide, apply.

Owns: `JobDriver`: pods indexed by owning Job uid, a work queue of Job keys fed by Job and
pod events, and applying a `jobcontroller.Plan` (create pods, delete pods after releasing
their tracking finalizer, write status with optimistic concurrency, release counted pods'
finalizers, record events).
Called by: `sim.__init__`.
Must not import: anything in `engine` outside `localcluster`.
"""

from __future__ import annotations

import collections
from typing import Any

from engine.localcluster import clock as clocks, errors
from engine.localcluster.sim import (events, informer, jobcontroller, jobpods, jobpolicy, podstate,
                                     workqueue)

JOBS = "batch/v1/jobs"
MANAGER = "kubernetes.io/job-controller"
POD_BATCH_SECONDS = 1.0  # pod events are folded into one sync per Job, as upstream does
BATCH_PER_SYNC_COST = 5.0  # a Job whose pass takes t virtual seconds waits 5t between passes
PODS = "v1/pods"


class JobDriver:
    """The Job controller loop on the server's event loop."""

    def __init__(self, api: Any, clock: clocks.Clock, jobs: informer.Informer,
                 pods: informer.Informer, settings: jobpolicy.Settings,
                 *, workers: int = 8) -> None:
        self.api = api
        self.clock = clock
        self.jobs = jobs
        self.pods = pods
        self.settings = settings
        self.owned: dict[str, set[tuple[str, str]]] = collections.defaultdict(set)
        self.owners: dict[tuple[str, str], set[str]] = collections.defaultdict(set)
        self.costs: dict[tuple[str, str], float] = {}
        self.recorder = events.Recorder(api, clock, "job-controller")
        self.queue = workqueue.WorkQueue(clock, self.sync, name="job-controller",
                                         workers=workers)
        jobs.handlers.append(self._on_job)
        pods.handlers.append(self._on_pod)

    def _on_job(self, old: podstate.Obj | None, new: podstate.Obj | None) -> None:
        self.queue.add(podstate.key(new or old or {}))

    def _on_pod(self, old: podstate.Obj | None, new: podstate.Obj | None) -> None:
        for obj, adding in ((old, False), (new, True)):
            if obj is None:
                continue
            owner = _job_owner(obj)
            if owner is None:
                continue
            members = self.owned[owner[0]]
            job_key = (obj["metadata"].get("namespace", ""), owner[1])
            if adding:
                members.add(podstate.key(obj))
                self.owners[job_key].add(owner[0])
                self.queue.add_after(job_key, self._batch(job_key))
            elif new is None:
                members.discard(podstate.key(obj))
                if not members:
                    del self.owned[owner[0]]
                    self.owners[job_key].discard(owner[0])
                self.queue.add_after(job_key, self._batch(job_key))

    def _batch(self, key: tuple[str, str]) -> float:
        """How long pod events wait before the Job's next pass: upstream's 1 s, stretched
        for Jobs so large that a pass takes a noticeable share of (virtual) time."""
        return max(POD_BATCH_SECONDS, BATCH_PER_SYNC_COST * self.costs.get(key, 0.0))

    async def sync(self, key: tuple[str, str]) -> float | None:
        """Bring one Job one step closer to its spec; returns when to look again."""
        job = self.jobs.get(key)
        await self._release_orphans(key, job)
        if job is None or (job.get("spec", {}).get("managedBy") or MANAGER) != MANAGER:
            self.costs.pop(key, None)
            return None
        uid = job["metadata"]["uid"]
        pods = [p for k in list(self.owned.get(uid, ())) if (p := self.pods.get(k)) is not None]
        started = self.clock.now()
        plan = jobcontroller.decide(job, pods, now=started, settings=self.settings)
        again = await self._create(job, plan.create)
        await self._delete(job, plan.delete, release=True)
        await self._delete(job, plan.terminate, release=False)
        if plan.status is not None and not await self._write_status(job, plan.status):
            return 0.0
        for pod in plan.release:
            await self._release(pod)
        for kind, reason, message in plan.events:
            await self.recorder.record(job, kind, reason, message)
        self.costs[key] = (self.clock.now() - started).total_seconds()
        return again if again is not None else plan.requeue_after

    async def _release_orphans(self, key: tuple[str, str], job: podstate.Obj | None) -> None:
        """Pods whose Job is gone (or replaced by a namesake) lose the tracking finalizer."""
        alive = job["metadata"]["uid"] if job is not None else None
        for uid in [u for u in self.owners.get(key, ()) if u != alive]:
            for pod_key in list(self.owned.get(uid, ())):
                pod = self.pods.get(pod_key)
                if pod is not None:
                    await self._release(pod)

    async def _create(self, job: podstate.Obj, pods: list[podstate.Obj]) -> float | None:
        for pod in pods:
            try:
                created = await self.api.create(PODS, pod, namespace=job["metadata"]["namespace"])
            except errors.APIStatusError as err:
                await self.recorder.record(job, "Warning", "FailedCreate",
                                           f"Error creating: {err.message}")
                return self.settings.backoff_base
            self.pods.observe(created)
            await self.recorder.record(job, "Normal", "SuccessfulCreate",
                                       f"Created pod: {created['metadata']['name']}")
        return None

    async def _delete(self, job: podstate.Obj, pods: list[podstate.Obj], *, release: bool) -> None:
        for pod in pods:
            if release:
                await self._release(pod)
            namespace, name = podstate.key(pod)
            try:
                left = await self.api.delete(PODS, namespace, name, propagation="Background")
            except errors.APIStatusError as err:
                if err.code != 404:
                    await self.recorder.record(job, "Warning", "FailedDelete",
                                               f"Error deleting: {err.message}")
                continue
            if left is not None:
                self.pods.observe(left)
            await self.recorder.record(job, "Normal", "SuccessfulDelete", f"Deleted pod: {name}")

    async def _release(self, pod: podstate.Obj) -> None:
        current = self.pods.get(podstate.key(pod)) or pod
        if not jobpods.has_finalizer(current):
            return
        kept = [f for f in current["metadata"].get("finalizers") or []
                if f != jobpods.TRACKING_FINALIZER]
        body = {"metadata": {"finalizers": kept or None,
                             "resourceVersion": current["metadata"].get("resourceVersion")}}
        namespace, name = podstate.key(current)
        try:
            updated = await self.api.patch(PODS, namespace, name, body,
                                           patch_type="application/merge-patch+json")
        except errors.APIStatusError as err:
            if err.code == 409:
                fresh = await self.api.get(PODS, namespace, name)
                self.pods.observe(fresh)
                return await self._release(fresh)
            if err.code != 404:
                raise
            return
        self.pods.observe(updated)

    async def _write_status(self, job: podstate.Obj, status: podstate.Obj) -> bool:
        try:
            updated = await self.api.update(JOBS, {**job, "status": status}, subresource="status")
        except errors.APIStatusError as err:
            if err.code in (404, 409):
                return False
            raise
        self.jobs.observe(updated)
        return True


def _job_owner(pod: podstate.Obj) -> tuple[str, str] | None:
    """(uid, name) of the Job controlling the pod."""
    for ref in pod.get("metadata", {}).get("ownerReferences") or []:
        if ref.get("controller") and ref.get("kind") == "Job" and \
                str(ref.get("apiVersion", "")).startswith("batch/"):
            return str(ref.get("uid")), str(ref.get("name"))
    return None
