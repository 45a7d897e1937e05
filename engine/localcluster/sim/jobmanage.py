"""Which pods a running (unfinished, not failing) Job should create or delete now.

Owns: `manage(...)`: parallelism and remaining completions (NonIndexed, work-queue and
Indexed), duplicate and out-of-range indexes, suspension (delete all active pods),
podReplacementPolicy (wait for terminating pods), and the exponential re-creation back-off
(global, or per index with backoffLimitPerIndex). Pure.
Called by: `sim.jobcontroller`.
Must not import: anything in `engine` outside `localcluster`.
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any, Mapping

from engine.localcluster.sim import jobpods, jobpolicy, podstate


@dataclasses.dataclass
class Manage:
    """Pods to create and delete, and when to look again (back-off still running)."""

    create: list[podstate.Obj] = dataclasses.field(default_factory=list)
    delete: list[podstate.Obj] = dataclasses.field(default_factory=list)
    requeue_after: float | None = None


def manage(job: Mapping[str, Any], pods: list[Mapping[str, Any]], succeeded_indexes: set[int],
           failed_indexes: set[int], *, succeeded: int, now: datetime.datetime,
           settings: jobpolicy.Settings) -> Manage:
    """Create or delete pods so the Job runs as many as it should."""
    spec = job.get("spec", {})
    active = [p for p in pods if podstate.is_active(p)]
    if spec.get("suspend"):
        return Manage(delete=[dict(p) for p in active])
    parallelism = int(spec.get("parallelism", 1))
    waiting = _replacement_waits(spec, pods)
    if spec.get("completionMode") == "Indexed":
        return _indexed(job, pods, active, succeeded_indexes | failed_indexes, parallelism,
                        waiting, now, settings)
    completions = spec.get("completions")
    if completions is None:
        want = len(active) if succeeded > 0 else parallelism
    else:
        want = max(0, min(parallelism, int(completions) - succeeded))
    result = Manage(delete=[dict(p) for p in _removal_order(active)[:max(0, len(active) - want)]])
    missing = want - len(active) - waiting
    if missing <= 0:
        return result
    delay = _global_backoff(job, pods, now, settings)
    if delay > 0:
        result.requeue_after = delay
        return result
    result.create = [jobpods.new_pod(job, index=None) for _ in range(missing)]
    return result


def _replacement_waits(spec: Mapping[str, Any], pods: list[Mapping[str, Any]]) -> int:
    """Terminating pods still count as active when only Failed pods may be replaced."""
    if spec.get("podReplacementPolicy") != "Failed" and not spec.get("podFailurePolicy"):
        return 0
    return sum(1 for p in pods if podstate.is_deleting(p) and not podstate.is_terminal(p))


def _indexed(job: Mapping[str, Any], pods: list[Mapping[str, Any]],
             active: list[Mapping[str, Any]], closed: set[int], parallelism: int,
             waiting: int, now: datetime.datetime, settings: jobpolicy.Settings) -> Manage:
    completions = int(job.get("spec", {}).get("completions") or 0)
    result = Manage()
    kept: dict[int, Mapping[str, Any]] = {}
    for pod in sorted(active, key=lambda p: (not podstate.is_ready(p), _created(p))):
        index = podstate.completion_index(pod)
        if index is None or index >= completions or index in kept or index in closed:
            result.delete.append(dict(pod))
        else:
            kept[index] = pod
    want = max(0, min(parallelism, completions - len(closed)))
    if len(kept) > want:
        extra = sorted(kept, reverse=True)[:len(kept) - want]
        result.delete += [dict(kept.pop(ix)) for ix in extra]
    busy = set(kept) | closed
    if waiting:
        busy |= {podstate.completion_index(p) for p in pods
                 if podstate.is_deleting(p) and not podstate.is_terminal(p)} - {None}
    slots = want - len(kept) - waiting
    per_index = job.get("spec", {}).get("backoffLimitPerIndex") is not None
    delay = 0.0 if per_index else _global_backoff(job, pods, now, settings)
    if slots > 0 and delay > 0:
        result.requeue_after = delay
        return result
    delays: list[float] = []
    histories: dict[int | None, list[Mapping[str, Any]]] = {}
    for pod in pods:
        histories.setdefault(podstate.completion_index(pod), []).append(pod)
    for index in (i for i in range(completions) if i not in busy):
        if slots <= 0:
            break
        failures, ignored, left = _index_history(job, histories.get(index, []), now, settings)
        if per_index and left > 0:
            delays.append(left)
            continue
        result.create.append(jobpods.new_pod(job, index=index, failures=failures,
                                             ignored=ignored))
        slots -= 1
    result.requeue_after = min(delays) if delays else None
    return result


def _index_history(job: Mapping[str, Any], history: list[Mapping[str, Any]],
                   now: datetime.datetime, settings: jobpolicy.Settings,
                   ) -> tuple[int, int, float]:
    """(failure count, ignored count, back-off left) for the next pod of one index."""
    failures = ignored = 0
    last_end: datetime.datetime | None = None
    for pod in history:
        counted, skipped = jobpods.index_counts(pod)
        if jobpolicy.is_failed(job, pod):
            verdict = jobpolicy.judge_failure(job, pod)
            counted, skipped = counted + verdict.counts, skipped + (not verdict.counts)
            end = podstate.parse_time(jobpolicy.finished_at(pod))
            if end is not None and (last_end is None or end > last_end):
                last_end = end
        failures, ignored = max(failures, counted), max(ignored, skipped)
    wait = jobpolicy.backoff_seconds(failures, base=settings.backoff_base,
                                     cap=settings.backoff_cap)
    left = wait - (now - last_end).total_seconds() if last_end else 0.0
    return failures, ignored, max(0.0, left)


def _global_backoff(job: Mapping[str, Any], pods: list[Mapping[str, Any]],
                    now: datetime.datetime, settings: jobpolicy.Settings) -> float:
    """Back-off left after the counted failures that followed the last success."""
    successes = [jobpolicy.finished_at(p) for p in pods if podstate.phase(p) == "Succeeded"]
    since = max(successes) if successes else ""
    ends = [jobpolicy.finished_at(p) for p in pods if jobpolicy.is_failed(job, p)
            and jobpolicy.judge_failure(job, p).counts]
    ends = [e for e in ends if e > since]
    if not ends:
        return 0.0
    wait = jobpolicy.backoff_seconds(len(ends), base=settings.backoff_base,
                                     cap=settings.backoff_cap)
    last = podstate.parse_time(max(ends))
    return max(0.0, wait - (now - last).total_seconds()) if last else 0.0


def _created(pod: Mapping[str, Any]) -> str:
    return str(pod.get("metadata", {}).get("creationTimestamp") or "")


def _removal_order(active: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Pods to remove first: unscheduled, then pending, then not ready, then the newest."""
    def rank(pod: Mapping[str, Any]) -> tuple[bool, bool, bool]:
        return (bool(pod.get("spec", {}).get("nodeName")), podstate.phase(pod) == "Running",
                podstate.is_ready(pod))
    newest_first = sorted(active, key=_created, reverse=True)
    return sorted(newest_first, key=rank)
