"""Startup gating of replicated jobs: dependsOn (spec §10.11) and InOrder (spec §10.12).

Owns: `Gate` and `gates`, which builds the `progress` subject (each replicated job with its
replicas, dependsOn and freshly computed counters), lets the `status`-phase pack
rules/jobset-startup (phase `status`) mark `dependenciesMet` and `allReplicasStarted`, and reads the marks.
Called by: the children step (creation) and the suspend step (resume).
Must not import: `engine.kube`, the steps.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from engine.planner import context, packs

PACK = "jobset-startup"


@dataclasses.dataclass(frozen=True)
class Gate:
    """What the startup pack decided for one replicated job."""

    dependencies_met: bool
    all_replicas_started: bool


def in_order(ctx: context.Context) -> bool:
    """Whether the JobSet asks for `startupPolicyOrder: InOrder`."""
    return (ctx.spec.get("startupPolicy") or {}).get("startupPolicyOrder") == "InOrder"


def gates(ctx: context.Context) -> dict[str, Gate]:
    """The gate of every replicated job, by name."""
    counters = {entry.get("name"): entry for entry in ctx.status.get("replicatedJobsStatus") or []}
    progress: dict[str, Any] = {"replicatedJobs": [_progress(rj, counters.get(rj["name"]))
                                                   for rj in ctx.spec.get("replicatedJobs") or []]}
    derived = ctx.packs.derive(PACK, subject="progress", inputs={"progress": progress})
    found = {entry.get("name"): Gate(bool(entry.get("dependenciesMet")), bool(entry.get("allReplicasStarted")))
             for entry in derived.get("replicatedJobs") or []}
    missing = [entry["name"] for entry in progress["replicatedJobs"] if entry["name"] not in found]
    if missing:
        raise packs.DecisionError(f"{PACK}: progress lost replicated job(s) {', '.join(missing)}")
    return found


def _progress(rj: dict[str, Any], counters: dict[str, Any] | None) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": rj["name"], "replicas": int(rj.get("replicas", 1)),
                             "dependsOn": list(rj.get("dependsOn") or [])}
    if counters is not None:
        entry["counters"] = {key: counters.get(key, 0) for key in ("ready", "succeeded", "failed")}
    return entry
