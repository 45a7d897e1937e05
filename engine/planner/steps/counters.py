"""Step 5 of spec §8: `status.replicatedJobsStatus` from the classified Jobs (spec §10.3).

Called by: `engine.planner.reconcile`. Consults no pack: the counting rules are mechanics.
Must not import: `engine.kube`, other steps.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.model import keys
from engine.planner import context, observed

CARRIED = ("jobRestarts", "jobRestartsCountTowardsMax")


def run(ctx: context.Context) -> context.StepOutcome:
    """Store freshly computed counters when they differ (ignoring order) from the stored ones."""
    fresh = compute(ctx)
    stored = list(ctx.status.get("replicatedJobsStatus") or [])
    if _by_name(fresh) == _by_name(stored) and len(fresh) == len(stored):
        return context.StepOutcome()
    return context.StepOutcome(status={**ctx.status, "replicatedJobsStatus": fresh},
                               trace=("counters: replicatedJobsStatus changed (§10.3)",))


def compute(ctx: context.Context) -> list[dict[str, Any]]:
    """One entry per replicated job of the spec, in spec order (spec §10.3)."""
    names = [rj["name"] for rj in ctx.spec.get("replicatedJobs") or []]
    entries = {name: {"name": name, "ready": 0, "succeeded": 0, "failed": 0, "active": 0, "suspended": 0}
               for name in names}
    for job in ctx.children.active:
        entry = entries.get(observed.labels_of(job).get(keys.REPLICATED_JOB_NAME, ""))
        if entry is not None:
            _count_active(entry, job)
    for bucket, field in ((ctx.children.successful, "succeeded"), (ctx.children.failed, "failed")):
        for job in bucket:
            entry = entries.get(observed.labels_of(job).get(keys.REPLICATED_JOB_NAME, ""))
            if entry is not None:
                entry[field] += 1
    if ctx.observed.gate(keys.GATE_RESTART_JOB):
        _carry_job_restarts(entries, ctx.status)
    return [entries[name] for name in names]


def _count_active(entry: dict[str, Any], job: Mapping[str, Any]) -> None:
    spec, status = job.get("spec") or {}, job.get("status") or {}
    pods = spec.get("parallelism", 1)
    if spec.get("completions") is not None and spec["completions"] < pods:
        pods = spec["completions"]
    entry["ready"] += int(status.get("succeeded", 0) + (status.get("ready") or 0) >= pods)
    entry["active"] += int(status.get("active", 0) > 0)
    entry["suspended"] += int(bool(spec.get("suspend")))


def _carry_job_restarts(entries: dict[str, dict[str, Any]], status: Mapping[str, Any]) -> None:
    for stored in status.get("replicatedJobsStatus") or []:
        entry = entries.get(stored.get("name"))
        for field in CARRIED:
            if entry is not None and stored.get(field) is not None:
                entry[field] = list(stored[field])


def _by_name(entries: list[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    return {entry.get("name", ""): entry for entry in entries}
