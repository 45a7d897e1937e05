"""The JobSet controller: informers feed keys; each key is planned, then executed.

Owns: `JobSetController`: the informers it needs (JobSets; Jobs, Services and PVCs indexed
by controller owner; Pods only with gate `InPlaceRestart`), the wiring of their events to
JobSet keys (spec §7), and `reconcile(key)`: build `planner.observed.Observed` from the
cache, `planner.plan_pass`, `executor.execute`, turn the outcome into a `controller.Result`.
Called by: the manager composer (`jobset controller`, `jobset up`).
Must not import: `engine.webhook`, `engine.localcluster`, `engine.cli`.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Mapping
from typing import Any

from engine.kube import client as client_
from engine.kube import controller, executor, handlers, informers, logs, resources
from engine.model import keys, names
from engine.planner import observed, packs, reconcile

log = logging.getLogger("jobset.controller")
OWNER_INDEX = "jobset-owner"
STALE_REQUEUE_SECONDS = 0.2  # after a lost status race, re-plan once the cache has caught up
JOBSET_GROUP = "jobset.x-k8s.io"


class ReconcileError(Exception):
    """A pass whose plan or writes failed; the key is retried with back-off."""


def _utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


class JobSetController:
    """Reconciles every JobSet the API server has; `informers` and `controller` go to a manager."""

    def __init__(self, *, api: client_.Client, decision_packs: packs.Packs, feature_gates: Mapping[str, bool],
                 workers: int = 4, now: Callable[[], datetime.datetime] = _utcnow) -> None:
        self.api = api
        self.packs = decision_packs
        self.feature_gates = dict(feature_gates)
        self.now = now
        owner_index = {OWNER_INDEX: informers.by_controller_uid(group=JOBSET_GROUP, kind="JobSet")}
        self.jobsets = informers.Informer(client=api, resource=resources.JOBSETS)
        self.jobs = informers.Informer(client=api, resource=resources.JOBS, indexers=owner_index)
        self.services = informers.Informer(client=api, resource=resources.SERVICES)
        self.pvcs = informers.Informer(client=api, resource=resources.PERSISTENT_VOLUME_CLAIMS)
        self.pods = (informers.Informer(client=api, resource=resources.PODS,
                                        label_selector=keys.JOBSET_NAME,
                                        indexers={"jobset": informers.by_label(keys.JOBSET_NAME)})
                     if self.feature_gates.get("InPlaceRestart") else None)
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
        pods: list[Any] = self.pods.reader.by_index("jobset", key.name) if self.pods is not None else []
        return observed.Observed(jobset=jobset, now=self.now(), jobs=self.jobs.reader.by_index(OWNER_INDEX, uid),
                                 service=service, pvcs=pvcs,
                                 pods=[pod for pod in pods if pod.get("metadata", {}).get("namespace") == key.namespace],
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
        outcome = await executor.execute(decided, dict(snapshot.jobset), self.api)
        if outcome.stale:
            log.debug("status of %s/%s changed meanwhile; planning again", key.namespace, key.name)
            return controller.Result(requeue_after=STALE_REQUEUE_SECONDS)
        if outcome.error is not None:
            raise ReconcileError(outcome.error)
        return controller.Result(requeue_after=decided.requeue_after)
