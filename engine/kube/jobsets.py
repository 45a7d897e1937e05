"""The JobSet controller: informers feed keys; each key is planned, then executed.

Owns: `JobSetController`: the informers it needs (JobSets; Jobs, Services and PVCs indexed
by controller owner; Pods only with gate `InPlaceRestart`), the wiring of their events to
JobSet keys (spec §7), and `reconcile(key)`: build `planner.observed.Observed` from the
cache, `planner.plan_pass`, `executor.execute`, turn the outcome into a `controller.Result`; and
create expectations: the Jobs a pass created count as existing for later passes until the Job
cache has caught up with them (else each pass before the watch delivers them would plan, build
and POST them again, answered AlreadyExists: docs/crash-safety.md).
Called by: the manager composer (`jobset controller`, `jobset up`).
Must not import: `engine.webhook`, `engine.localcluster`, `engine.cli`.
"""

from __future__ import annotations

import datetime
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from engine.kube import client as client_
from engine.kube import controller, executor, handlers, informers, logs, resources
from engine.model import keys, names
from engine.planner import observed, packs, reconcile

log = logging.getLogger("jobset.controller")
OWNER_INDEX = "jobset-owner"
STALE_REQUEUE_SECONDS = 0.2  # after a lost status race, re-plan once the cache has caught up
EXPECTATION_SECONDS = 60.0  # a created Job the cache never showed (deleted at once, lost watch) stops counting
JOBSET_GROUP = "jobset.x-k8s.io"


class ReconcileError(Exception):
    """A pass whose plan or writes failed; the key is retried with back-off."""


def _utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


class JobSetController:
    """Reconciles every JobSet the API server has; `informers` and `controller` go to a manager."""

    def __init__(self, *, api: client_.Client, decision_packs: packs.Packs, feature_gates: Mapping[str, bool],
                 workers: int = 4, now: Callable[[], datetime.datetime] = _utcnow,
                 time_scale: float = 1.0) -> None:
        self.api = api
        self.packs = decision_packs
        self.feature_gates = dict(feature_gates)
        self.now = now
        self.time_scale = time_scale  # cluster seconds per real second (a simulated cluster may run faster)
        owner_index = {OWNER_INDEX: informers.by_controller_uid(group=JOBSET_GROUP, kind="JobSet")}
        self.jobsets = informers.Informer(client=api, resource=resources.JOBSETS)
        self.jobs = informers.Informer(client=api, resource=resources.JOBS, indexers=owner_index)
        self.services = informers.Informer(client=api, resource=resources.SERVICES)
        self.pvcs = informers.Informer(client=api, resource=resources.PERSISTENT_VOLUME_CLAIMS)
        self.pods = (informers.Informer(client=api, resource=resources.PODS,
                                        label_selector=keys.JOBSET_NAME,
                                        indexers={"jobset": informers.by_label(keys.JOBSET_NAME)})
                     if self.feature_gates.get("InPlaceRestart") else None)
        self.created: dict[str, dict[str, tuple[float, dict[str, Any]]]] = {}  # JobSet uid -> Job name -> (when, Job)
        self.controller = controller.Controller(name="jobset", reconcile=self.reconcile, workers=workers)
        queue = self.controller.queue
        self.jobsets.add_handler(handlers.enqueue(queue, handlers.own_key))
        owner = handlers.controller_owner(group=JOBSET_GROUP, kind="JobSet")
        for child in (self.jobs, self.services):
            child.add_handler(handlers.enqueue(queue, owner))
        if self.pods is not None:
            self.pods.add_handler(handlers.enqueue(queue, handlers.label_value(keys.JOBSET_NAME)))

    @property
    def informers(self) -> list[informers.Informer]:
        """Every informer this controller reads, to run in the manager's cache group."""
        found = [self.jobsets, self.jobs, self.services, self.pvcs]
        return found + ([self.pods] if self.pods is not None else [])

    def observe(self, key: informers.Key) -> observed.Observed | None:
        """The snapshot of one JobSet from the caches; None when the JobSet is gone."""
        jobset = self.jobsets.reader.get(key.namespace, key.name)
        if jobset is None:
            return None
        meta = jobset.get("metadata", {})
        uid = str(meta.get("uid", ""))
        service = self.services.reader.get(key.namespace, names.service_name(key.name, (jobset.get("spec") or {}).get("network")))
        pvc_names = {names.pvc_name(str(t.get("metadata", {}).get("name", "")), key.name)
                     for policy in (jobset.get("spec") or {}).get("volumeClaimPolicies") or []
                     for t in policy.get("templates") or []}
        pvcs = [pvc for name in sorted(pvc_names) if (pvc := self.pvcs.reader.get(key.namespace, name)) is not None]
        pods: list[Any] = (self.pods.reader.by_index("jobset", f"{key.namespace}/{key.name}")  # see informers.by_label
                           if self.pods is not None else [])
        jobs = self.jobs.reader.by_index(OWNER_INDEX, uid)
        return observed.Observed(jobset=jobset, now=self.now(), jobs=jobs + self._expected(uid, jobs),
                                 service=service, pvcs=pvcs,
                                 pods=pods,
                                 feature_gates=self.feature_gates)

    async def reconcile(self, key: informers.Key) -> controller.Result:
        """One pass for `key` (spec §8): plan from the cache, then execute the plan."""
        snapshot = self.observe(key)
        if snapshot is None:
            return controller.Result()
        decided = reconcile.plan_pass(snapshot, self.packs)
        with logs.bind(namespace=key.namespace, name=key.name):
            for line in decided.trace:
                log.debug("plan: %s", line)
        outcome = await executor.execute(decided, dict(snapshot.jobset), self.api, now=snapshot.now)
        self._expect(str(snapshot.jobset.get("metadata", {}).get("uid", "")), outcome.created_jobs)
        if outcome.stale:
            log.debug("status of %s/%s changed meanwhile; planning again", key.namespace, key.name)
            return controller.Result(requeue_after=STALE_REQUEUE_SECONDS)
        if outcome.error is not None:
            raise ReconcileError(outcome.error)
        return controller.Result(requeue_after=None if decided.requeue_after is None
                                 else decided.requeue_after / self.time_scale)

    def _expect(self, uid: str, created: tuple[dict[str, Any], ...]) -> None:
        """Remember the Jobs just created for JobSet `uid` until the Job cache shows them."""
        now = time.monotonic()
        for stale in [key for key, jobs in self.created.items()  # JobSets deleted meanwhile
                      if all(when < now - EXPECTATION_SECONDS for when, _ in jobs.values())]:
            del self.created[stale]
        if created:
            self.created.setdefault(uid, {}).update((str(job["metadata"]["name"]), (now, job)) for job in created)

    def _expected(self, uid: str, cached: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Created Jobs of JobSet `uid` that the cache does not show yet; forgets the ones it caught up with."""
        pending = self.created.get(uid)
        if not pending:
            return []
        names = {str(job.get("metadata", {}).get("name", "")): job for job in cached}
        horizon = time.monotonic() - EXPECTATION_SECONDS
        seen = _version(self.jobs.resource_version)
        for name, (when, job) in list(pending.items()):
            meta = job["metadata"]
            shown = (names.get(name) or {}).get("metadata", {}).get("uid") == meta.get("uid")
            version = _version(meta.get("resourceVersion"))
            caught_up = seen is not None and version is not None and seen >= version  # shown, or shown and gone
            if shown or caught_up or when < horizon:
                del pending[name]
        if not pending:
            del self.created[uid]
        return [job for name, (_, job) in pending.items() if name not in names]


def _version(value: object) -> int | None:
    """A resourceVersion as a number when it is one (the API server's are; others are opaque)."""
    return int(value) if isinstance(value, str) and value.isdigit() else None
