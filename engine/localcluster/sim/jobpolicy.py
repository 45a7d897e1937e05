"""The rule-like parts of batch/v1 Job semantics, as pure functions.

Owns: completed/failed index sets and their compressed text form ("1,3-5,7"),
podFailurePolicy matching (FailJob, Ignore, Count, FailIndex; onExitCodes,
onPodConditions) with Kubernetes' exact messages, successPolicy matching, and the
exponential pod re-creation back-off.
Called by: `sim.jobcontroller`.
Must not import: anything in `engine` outside `localcluster`.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Iterable, Mapping

from engine.localcluster.sim import podstate


def format_indexes(indexes: Iterable[int]) -> str:
    """The compressed form of a set of indexes: "0,2-4,7" (two in a row stay "5,6")."""
    ordered = sorted(set(indexes))
    parts: list[str] = []
    start = prev = None
    for ix in ordered + [None]:
        if start is not None and (ix is None or ix != prev + 1):
            gap = prev - start
            parts.append(str(start) if gap == 0 else f"{start},{prev}" if gap == 1
                         else f"{start}-{prev}")
            start = None
        if ix is not None and start is None:
            start = ix
        prev = ix
    return ",".join(parts)


def parse_indexes(text: str | None, *, limit: int) -> set[int]:
    """The indexes below `limit` named by a compressed form; malformed parts are skipped."""
    found: set[int] = set()
    for part in (text or "").split(","):
        first, _, last = part.strip().partition("-")
        if not first.isdigit() or (last and not last.isdigit()):
            continue
        found.update(range(int(first), min(int(last or first), limit - 1) + 1))
    return found


@dataclasses.dataclass(frozen=True)
class FailureVerdict:
    """How one failed pod counts: `action` None means no rule matched (counts as Count)."""

    counts: bool
    action: str | None = None
    message: str | None = None


def judge_failure(job: Mapping[str, Any], pod: Mapping[str, Any]) -> FailureVerdict:
    """Apply the Job's podFailurePolicy to a failed pod: first matching rule wins."""
    policy = job.get("spec", {}).get("podFailurePolicy")
    if not policy:
        return FailureVerdict(counts=True)
    meta = pod.get("metadata", {})
    who = f"{meta.get('namespace')}/{meta.get('name')}"
    for position, rule in enumerate(policy.get("rules") or []):
        action = rule.get("action", "Count")
        detail = _match_rule(rule, pod, who)
        if detail is None:
            continue
        message = f"{detail} matching {action} rule at index {position}" \
            if action == "FailJob" else None
        return FailureVerdict(counts=action != "Ignore", action=action, message=message)
    return FailureVerdict(counts=True)


def _match_rule(rule: Mapping[str, Any], pod: Mapping[str, Any], who: str) -> str | None:
    status = pod.get("status") or {}
    on_exit = rule.get("onExitCodes")
    if on_exit:
        name = on_exit.get("containerName")
        values = {int(v) for v in on_exit.get("values") or []}
        inside = on_exit.get("operator", "In") == "In"
        for entry in (status.get("initContainerStatuses") or []) + \
                (status.get("containerStatuses") or []):
            done = (entry.get("state") or {}).get("terminated")
            if not done or (name and entry.get("name") != name) or done.get("exitCode") == 0:
                continue
            if (int(done.get("exitCode")) in values) == inside:
                return (f"Container {entry.get('name')} for pod {who} failed with exit code "
                        f"{done.get('exitCode')}")
        return None
    for pattern in rule.get("onPodConditions") or []:
        for cond in status.get("conditions") or []:
            if cond.get("type") == pattern.get("type") and \
                    cond.get("status") == pattern.get("status", "True"):
                return f"Pod {who} has condition {cond.get('type')}"
    return None


def match_success_policy(job: Mapping[str, Any], succeeded: set[int]) -> str | None:
    """The SuccessPolicy message ("Matched rules at index N") once a rule holds, else None."""
    spec = job.get("spec", {})
    rules = (spec.get("successPolicy") or {}).get("rules") or []
    completions = int(spec.get("completions") or 0)
    if not succeeded:
        return None
    for position, rule in enumerate(rules):
        wanted_count = rule.get("succeededCount")
        if rule.get("succeededIndexes") is not None:
            required = parse_indexes(rule["succeededIndexes"], limit=completions)
            if not required:
                continue
            done = len(required & succeeded)
            if done and done >= (len(required) if wanted_count is None else int(wanted_count)):
                return f"Matched rules at index {position}"
        elif wanted_count is not None and len(succeeded) >= int(wanted_count):
            return f"Matched rules at index {position}"
    return None


@dataclasses.dataclass(frozen=True)
class Settings:
    """Tunables of the Job controller: the pod re-creation back-off base and cap, in seconds."""

    backoff_base: float = 10.0
    backoff_cap: float = 360.0


def backoff_seconds(failures: int, *, base: float, cap: float) -> float:
    """Delay before re-creating a pod after `failures` consecutive failures (0 when none)."""
    if failures <= 0:
        return 0.0
    return min(cap, base * (2 ** (failures - 1)))


def finished_at(pod: Mapping[str, Any]) -> str:
    """When a terminal pod's last container finished (its deletion time, else empty)."""
    ends = [((e.get("state") or {}).get("terminated") or {}).get("finishedAt", "")
            for e in (pod.get("status") or {}).get("containerStatuses") or []]
    ends = [e for e in ends if e]
    return max(ends) if ends else str(pod.get("metadata", {}).get("deletionTimestamp") or "")


def restart_count(pod: Mapping[str, Any]) -> int:
    """Container restarts of a pod (init and regular containers)."""
    status = pod.get("status") or {}
    return sum(int(e.get("restartCount", 0)) for e in
               (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or []))


def is_failed(job: Mapping[str, Any], pod: Mapping[str, Any]) -> bool:
    """Whether a pod counts as failed: phase Failed, or deleted before finishing unless the
    Job's podReplacementPolicy is Failed."""
    if podstate.phase(pod) == "Failed":
        return True
    if job.get("spec", {}).get("podReplacementPolicy") == "Failed" or \
            job.get("spec", {}).get("podFailurePolicy"):
        return False
    return podstate.is_deleting(pod) and podstate.phase(pod) != "Succeeded"
