"""Applying a `planner.plan.Plan` to the API: the only place a reconcile pass writes.

Owns: `execute(plan, jobset, client) -> Outcome`. Order of writes (docs/crash-safety.md):
child deletions and creations first (idempotent: deterministic names, AlreadyExists and
NotFound ignored), then the one status write with the JobSet's resourceVersion as a
precondition, then the events queued for after that write (spec §8, §10.6). Up to 50
creations or deletions run concurrently (spec §7); their errors are aggregated. Jobs are
created replicated job by replicated job and creation stops after the first one with a
failure (spec §8 step 14); PVCs policy by policy, a failure ending its policy but not the
others (spec §9.8). The `*CreationFailed` Warnings are emitted at once (spec §9.1, §9.7,
§9.8). The Jobs created are returned, so the controller can count them as existing before
its cache shows them.
Called by: `kube.jobsets` (the JobSet controller).
Must not import: `engine.rules`, `engine.webhook`, `engine.localcluster`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from engine.kube import client as client_
from engine.kube import errors, events, resources
from engine.metrics import metrics
from engine.planner import plan

MAX_IN_FLIGHT = 50
log = logging.getLogger("jobset.executor")


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What execution did: the error to retry on (None when all writes succeeded)."""

    error: str | None
    status_written: bool
    events_sent: int
    stale: bool = False  # the status write lost a race with a newer JobSet: re-plan, nothing failed
    created_jobs: tuple[dict[str, Any], ...] = ()  # as the API server answered the creations


class ExecutionError(Exception):
    """One or more writes of a pass failed; the pass is retried with back-off."""


async def execute(decided: plan.Plan, jobset: dict[str, Any], api: client_.Client, *,
                  now: datetime.datetime | None = None) -> Outcome:
    """Run the plan's actions in order, grouping consecutive creations/deletions."""
    problems: list[str] = []
    created: list[dict[str, Any]] = []
    for batch in _batches(decided.actions):
        first = batch[0]
        if isinstance(first, (plan.WriteStatus, plan.Emit, plan.Record)):
            continue
        try:
            await _run_batch(batch, jobset, api, created)
        except ExecutionError as error:
            problems.append(str(error))
            break
    outcome = await _finish(decided, jobset, api, problems, now=now)
    return dataclasses.replace(outcome, created_jobs=tuple(created))


async def _finish(decided: plan.Plan, jobset: dict[str, Any], api: client_.Client, problems: list[str], *,
                  now: datetime.datetime | None) -> Outcome:
    """Events not waiting for status, the status write, then the events and records waiting for it."""
    sent = 0
    if decided.error is not None:
        problems.append(decided.error)
    for event in decided.of_type(plan.Emit):
        if not event.after_status:
            sent += await emit(api, jobset, type_=event.type, reason=event.reason, message=event.message, now=now)
    if problems:
        return Outcome(error="; ".join(problems), status_written=False, events_sent=sent)
    status_written = False
    status = decided.status
    if status is not None:
        try:
            await _write_status(jobset, status, api)
            status_written = True
        except errors.Conflict as error:
            return Outcome(error=f"status update lost a race: {error}", status_written=False, events_sent=sent,
                           stale=True)
        except errors.NotFound:
            return Outcome(error=None, status_written=False, events_sent=sent)  # the JobSet is gone: nothing to do
        except errors.APIError as error:
            return Outcome(error=f"status update failed: {error}", status_written=False, events_sent=sent)
    for event in decided.of_type(plan.Emit):
        if event.after_status:
            sent += await emit(api, jobset, type_=event.type, reason=event.reason, message=event.message, now=now)
    for record in decided.of_type(plan.Record):
        _record(jobset, record)
    return Outcome(error=None, status_written=status_written, events_sent=sent)


def _record(jobset: dict[str, Any], record: plan.Record) -> None:
    """A metric increment the planner decided, applied once its status write succeeded (spec §10.15)."""
    meta = jobset["metadata"]
    if record.metric == "completed":
        metrics.record_completed(namespace=meta["namespace"], name=meta["name"])
    elif record.metric == "failed":
        metrics.record_failed(namespace=meta["namespace"], name=meta["name"])
    elif record.metric == "restart":
        metrics.record_restart(rule=record.rule)


def _batches(actions: Sequence[plan.Action]) -> list[list[plan.Action]]:
    """Consecutive deletions, creations of one replicated job's Jobs, or PVC creations form one
    batch; other actions run alone."""
    batches: list[list[plan.Action]] = []
    for action in actions:
        last = batches[-1][0] if batches else None
        if isinstance(action, plan.CreateJob):
            joins = isinstance(last, plan.CreateJob) and last.group == action.group
        else:
            joins = isinstance(action, (plan.DeleteJob, plan.CreatePVC)) and type(last) is type(action)
        if joins:
            batches[-1].append(action)
        else:
            batches.append([action])
    return batches


async def _run_batch(batch: list[plan.Action], jobset: dict[str, Any], api: client_.Client,
                     created: list[dict[str, Any]]) -> None:
    namespace = jobset["metadata"]["namespace"]
    first = batch[0]
    if isinstance(first, plan.CreateJob):
        failures = await _bounded([lambda a=a: _create_job(api, namespace, a, created) for a in batch])
        if failures:
            text = "\n".join(failures)
            await emit(api, jobset, type_="Warning", reason="JobCreationFailed", message=text)
            raise ExecutionError(text)
    elif isinstance(first, plan.DeleteJob):
        failures = await _bounded([lambda a=a: _delete_job(api, namespace, a) for a in batch])
        if failures:
            raise ExecutionError("; ".join(failures))
    elif isinstance(first, plan.CreateService):
        await _create_owned(api, jobset, resources.SERVICES, first.service, "HeadlessServiceCreationFailed")
    elif isinstance(first, plan.CreatePVC):
        await _create_pvcs(api, jobset, batch)
    elif isinstance(first, plan.UpdateJob):
        await _guard(_update_job(api, namespace, first), f"job {first.name!r} update failed")
    elif isinstance(first, plan.PatchJobScaling):
        patch = {"spec": {"parallelism": first.parallelism, "completions": first.completions}}
        await _guard(api.patch(resources.JOBS, first.name, patch, namespace=namespace,
                               patch_type=client_.PatchType.MERGE), f"job {first.name!r} scaling patch failed")
    elif isinstance(first, plan.DeleteJobSet):
        await _guard(_ignore_not_found(api.delete(resources.JOBSETS, first.name, namespace=namespace,
                                                  propagation=first.propagation)),
                     f"jobset {first.name!r} deletion failed")


async def _bounded(calls: list[Callable[[], Awaitable[str | None]]]) -> list[str]:
    """Run calls with at most MAX_IN_FLIGHT at once; return their error texts."""
    gate = asyncio.Semaphore(MAX_IN_FLIGHT)

    async def one(call: Callable[[], Awaitable[str | None]]) -> str | None:
        async with gate:
            return await call()

    results = await asyncio.gather(*(one(call) for call in calls))
    return [result for result in results if result]


async def _create_job(api: client_.Client, namespace: str, action: plan.CreateJob,
                      created: list[dict[str, Any]]) -> str | None:
    name = action.job["metadata"]["name"]
    try:
        created.append(await api.create(resources.JOBS, action.job, namespace=namespace))
    except errors.AlreadyExists:
        return None
    except errors.APIError as error:
        return f'job "{name}" creation failed with error: {error.message or error}'
    return None


async def _delete_job(api: client_.Client, namespace: str, action: plan.DeleteJob) -> str | None:
    try:
        await api.delete(resources.JOBS, action.name, namespace=namespace, propagation=action.propagation)
    except errors.NotFound:
        return None
    except errors.APIError as error:
        return f'job "{action.name}" deletion failed with error: {error.message or error}'
    return None


async def _update_job(api: client_.Client, namespace: str, action: plan.UpdateJob) -> None:
    job = action.job
    if action.reset_start_time:
        current = await api.get(resources.JOBS, action.name, namespace=namespace)
        if (current.get("status") or {}).get("startTime"):
            current["status"].pop("startTime")
            current = await api.update_status(resources.JOBS, current)
        job = {**job, "metadata": {**job["metadata"],
                                   "resourceVersion": current["metadata"]["resourceVersion"]}}
    await api.update(resources.JOBS, job)


async def _create_owned(api: client_.Client, jobset: dict[str, Any], resource: resources.Resource,
                        body: dict[str, Any], failure_reason: str) -> None:
    try:
        await api.create(resource, body, namespace=jobset["metadata"]["namespace"])
    except errors.AlreadyExists:
        return
    except errors.APIError as error:
        await emit(api, jobset, type_="Warning", reason=failure_reason, message=error.message or str(error))
        raise ExecutionError(f"{resource.kind} {body['metadata'].get('name')!r} creation failed: {error}") from None


async def _create_pvcs(api: client_.Client, jobset: dict[str, Any], batch: list[plan.Action]) -> None:
    """Each policy's PVCs in order; a failure ends its policy, the others still run (spec §9.8)."""
    failures: list[str] = []
    failed_policies: set[int] = set()
    for action in batch:
        assert isinstance(action, plan.CreatePVC)
        if action.policy in failed_policies:
            continue
        try:
            await _create_owned(api, jobset, resources.PERSISTENT_VOLUME_CLAIMS, action.pvc, "PVCCreationFailed")
        except ExecutionError as error:
            failed_policies.add(action.policy)
            failures.append(str(error))
    if failures:
        raise ExecutionError("\n".join(failures))


async def _guard(call: Awaitable[Any], what: str) -> None:
    try:
        await call
    except errors.APIError as error:
        raise ExecutionError(f"{what}: {error}") from None


async def _ignore_not_found(call: Awaitable[Any]) -> None:
    try:
        await call
    except errors.NotFound:
        return


async def _write_status(jobset: dict[str, Any], status: dict[str, Any], api: client_.Client) -> None:
    """Replace `.status`, with the observed resourceVersion as precondition (409 when stale)."""
    body = {"apiVersion": jobset.get("apiVersion", resources.JOBSETS.api_version), "kind": "JobSet",
            "metadata": {"name": jobset["metadata"]["name"], "namespace": jobset["metadata"]["namespace"],
                         "resourceVersion": jobset["metadata"].get("resourceVersion")},
            "spec": jobset.get("spec"), "status": status}
    await api.update_status(resources.JOBSETS, body)


async def emit(api: client_.Client, jobset: dict[str, Any], *, type_: str, reason: str, message: str,
               now: datetime.datetime | None = None) -> int:
    """Record one core/v1 Event on the JobSet (repeats fold into a count); failures are logged,
    never raised. Returns 1 if written."""
    meta = jobset["metadata"]
    involved = {"apiVersion": resources.JOBSETS.api_version, "kind": "JobSet", "name": meta["name"],
                "namespace": meta["namespace"], "uid": meta.get("uid", ""),
                "resourceVersion": meta.get("resourceVersion", "")}
    written = await events.RECORDER.record(api, involved, type_=type_, reason=reason, message=message,
                                           action="Reconciling", now=now)
    return int(written)
