"""The `Observed` snapshot one reconcile pass plans from, and the classification of child Jobs.

Owns: `Observed` (the JobSet, its child Jobs, Service, PVCs, Pods, `now`, feature gates),
`Children` (the four buckets of spec §10.1), `classify`, `ClassificationError`, and the
small readers of Job facts (conditions, labels, timestamps) the planner steps share.
Called by: `engine.planner.reconcile` and the planner steps; the controller and
`jobset render` build an `Observed` from the cache or from files.
Must not import: `engine.kube`, `engine.webhook`, `engine.localcluster`.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping, Sequence
from typing import Any

from engine.model import keys

RawObject = Mapping[str, Any]



class ClassificationError(Exception):
    """A child Job whose labels make the pass fail (spec §10.1); names the Job and label."""


@dataclasses.dataclass(frozen=True)
class Observed:
    """Everything one pass may read. `now` is the only clock the planner sees.

    `jobs`: Jobs in the JobSet's namespace (only those whose controller owner has the
    JobSet's UID count); `service`: the Service named after the effective subdomain, if
    it exists; `pvcs`: existing PVCs of the JobSet's namespace; `pods`: Pods labelled with
    the JobSet name (needed only for in-place restart); `feature_gates`: name -> bool.
    """

    jobset: RawObject
    now: datetime.datetime
    jobs: Sequence[RawObject] = ()
    service: RawObject | None = None
    pvcs: Sequence[RawObject] = ()
    pods: Sequence[RawObject] = ()
    feature_gates: Mapping[str, bool] = dataclasses.field(default_factory=dict)

    def gate(self, name: str) -> bool:
        """Whether feature gate `name` is on (unset means off)."""
        return bool(self.feature_gates.get(name, False))


@dataclasses.dataclass(frozen=True)
class Children:
    """Child Jobs of this JobSet, each in exactly one bucket (spec §10.1)."""

    previous: tuple[RawObject, ...] = ()
    active: tuple[RawObject, ...] = ()
    successful: tuple[RawObject, ...] = ()
    failed: tuple[RawObject, ...] = ()

    def all(self) -> tuple[RawObject, ...]:
        """Every owned Job, whatever its bucket."""
        return self.previous + self.active + self.successful + self.failed


def name_of(obj: RawObject) -> str:
    """`metadata.name` ('' when absent)."""
    return str(obj.get("metadata", {}).get("name", ""))


def labels_of(obj: RawObject) -> Mapping[str, str]:
    """`metadata.labels` (empty when absent)."""
    return obj.get("metadata", {}).get("labels") or {}


def status_of(jobset: RawObject) -> Mapping[str, Any]:
    """The JobSet's `.status` (empty when absent)."""
    return jobset.get("status") or {}


def parse_time(value: str | None) -> datetime.datetime | None:
    """An RFC 3339 timestamp as an aware datetime; None for absent or empty."""
    if not value:
        return None
    return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))


def format_time(moment: datetime.datetime) -> str:
    """RFC 3339 with second precision in UTC, as Kubernetes serialises `metav1.Time`."""
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def finished_condition(job: RawObject) -> Mapping[str, Any] | None:
    """The first `Failed=True` or `Complete=True` condition of a Job, in list order."""
    for condition in job.get("status", {}).get("conditions") or []:
        if condition.get("status") == "True" and condition.get("type") in ("Failed", "Complete"):
            return condition
    return None


def owned_jobs(observed: Observed) -> list[RawObject]:
    """Jobs whose controller ownerReference carries this JobSet's UID."""
    uid = observed.jobset.get("metadata", {}).get("uid")
    return [job for job in observed.jobs if _controller_uid(job) == uid]


def _controller_uid(job: RawObject) -> str | None:
    for ref in job.get("metadata", {}).get("ownerReferences") or []:
        if ref.get("controller") and ref.get("kind") == "JobSet":
            return ref.get("uid")
    return None


def int_label(job: RawObject, key: str) -> int:
    """An integer label of a Job; raises `ClassificationError` naming Job and label."""
    value = labels_of(job).get(key)
    if value is None:
        raise ClassificationError(f'job "{name_of(job)}": label {key} is missing')
    try:
        return int(value)
    except ValueError:
        raise ClassificationError(f'job "{name_of(job)}": label {key}={value!r} is not an integer') from None


def job_restarts(jobset: RawObject, replicated_job: str) -> list[int]:
    """`jobRestarts` of a replicated job, or zeros of length `replicas` when absent or empty."""
    for entry in status_of(jobset).get("replicatedJobsStatus") or []:
        if entry.get("name") == replicated_job and entry.get("jobRestarts"):
            return list(entry["jobRestarts"])
    for rj in jobset.get("spec", {}).get("replicatedJobs") or []:
        if rj.get("name") == replicated_job:
            return [0] * int(rj.get("replicas", 1))
    return []


def classify(observed: Observed) -> Children:
    """Sort owned Jobs into previous, active, successful and failed (spec §10.1)."""
    restarts = int(status_of(observed.jobset).get("restarts", 0))
    buckets: dict[str, list[RawObject]] = {"previous": [], "active": [], "successful": [], "failed": []}
    for job in owned_jobs(observed):
        buckets[_bucket(observed, job, restarts=restarts)].append(job)
    return Children(**{key: tuple(value) for key, value in buckets.items()})


def _bucket(observed: Observed, job: RawObject, *, restarts: int) -> str:
    if int_label(job, keys.RESTART_ATTEMPT) < restarts:
        return "previous"
    if observed.gate(keys.GATE_RESTART_JOB) and _previous_by_job_attempt(observed.jobset, job):
        return "previous"
    condition = finished_condition(job)
    if condition is None:
        return "active"
    return "failed" if condition["type"] == "Failed" else "successful"


def _previous_by_job_attempt(jobset: RawObject, job: RawObject) -> bool:
    """Per-job attempt check of spec §10.1 step 2 (gate `RestartJob`)."""
    replicated_job = labels_of(job).get(keys.REPLICATED_JOB_NAME)
    if not replicated_job:
        raise ClassificationError(f'job "{name_of(job)}": label {keys.REPLICATED_JOB_NAME} is missing')
    index = int_label(job, keys.JOB_INDEX)
    if keys.JOB_RESTART_ATTEMPT not in labels_of(job):
        return False
    attempt = int_label(job, keys.JOB_RESTART_ATTEMPT)
    targets = job_restarts(jobset, replicated_job)
    if index >= len(targets):
        raise ClassificationError(
            f'job "{name_of(job)}": job-index {index} is out of range for {len(targets)} jobRestarts entries')
    return attempt < targets[index]
