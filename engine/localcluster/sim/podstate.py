"""Reading and writing the parts of Pod and Job objects the simulated controllers share.

Owns: phase and condition helpers, timestamps in Kubernetes' format, owner and
completion-index lookups. Pure functions on plain JSON dicts.
Called by: every module of `sim`.
Must not import: anything in `engine` outside `localcluster`.
"""

from __future__ import annotations

import datetime
from typing import Any, Mapping

from engine.localcluster import clock

TERMINAL = ("Succeeded", "Failed")
INDEX_KEY = "batch.kubernetes.io/job-completion-index"

Obj = dict[str, Any]


def stamp(moment: datetime.datetime) -> str:
    """A timestamp as the API writes it."""
    return clock.rfc3339(moment)


def parse_time(text: str | None) -> datetime.datetime | None:
    """A timestamp read back (second or sub-second precision), or None."""
    if not text:
        return None
    cleaned = text.replace("Z", "+00:00")
    return datetime.datetime.fromisoformat(cleaned)


def phase(pod: Mapping[str, Any]) -> str:
    """The pod phase, Pending when unset."""
    return str((pod.get("status") or {}).get("phase") or "Pending")


def is_terminal(pod: Mapping[str, Any]) -> bool:
    """Succeeded or Failed."""
    return phase(pod) in TERMINAL


def is_deleting(obj: Mapping[str, Any]) -> bool:
    """Whether the object carries a deletionTimestamp."""
    return bool(obj.get("metadata", {}).get("deletionTimestamp"))


def is_active(pod: Mapping[str, Any]) -> bool:
    """Neither terminal nor being deleted."""
    return not is_terminal(pod) and not is_deleting(pod)


def condition(obj: Mapping[str, Any], kind: str) -> Mapping[str, Any] | None:
    """The status condition of type `kind`, if any."""
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond.get("type") == kind:
            return cond
    return None


def condition_true(obj: Mapping[str, Any], kind: str) -> bool:
    """Whether the condition `kind` has status True."""
    cond = condition(obj, kind)
    return cond is not None and cond.get("status") == "True"


def set_condition(conditions: list[Obj], kind: str, status: str, *, now: datetime.datetime,
                  reason: str = "", message: str = "", probe: bool = False) -> bool:
    """Add or update a condition in place; True when something changed."""
    for cond in conditions:
        if cond.get("type") != kind:
            continue
        if cond.get("status") == status and cond.get("reason", "") == reason and \
                cond.get("message", "") == message:
            return False
        if cond.get("status") != status:
            cond["lastTransitionTime"] = stamp(now)
        cond.update(status=status, reason=reason, message=message)
        for field in ("reason", "message"):
            if not cond[field]:
                del cond[field]
        if probe:
            cond["lastProbeTime"] = stamp(now)
        return True
    new: Obj = {"type": kind, "status": status, "lastTransitionTime": stamp(now)}
    if probe:
        new["lastProbeTime"] = stamp(now)
    if reason:
        new["reason"] = reason
    if message:
        new["message"] = message
    conditions.append(new)
    return True


def is_ready(pod: Mapping[str, Any]) -> bool:
    """Whether the pod's Ready condition is True."""
    return condition_true(pod, "Ready")


def controller_uid(obj: Mapping[str, Any]) -> str | None:
    """The uid of the object's controlling owner, if any."""
    for ref in obj.get("metadata", {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return str(ref.get("uid"))
    return None


def completion_index(pod: Mapping[str, Any]) -> int | None:
    """The completion index of an Indexed Job's pod (annotation, then label), else None."""
    meta = pod.get("metadata", {})
    for source in (meta.get("annotations") or {}, meta.get("labels") or {}):
        text = source.get(INDEX_KEY)
        if text is not None and str(text).isdigit():
            return int(text)
    return None


def key(obj: Mapping[str, Any]) -> tuple[str, str]:
    """(namespace, name) of an object."""
    meta = obj.get("metadata", {})
    return str(meta.get("namespace") or ""), str(meta.get("name"))


def resource_version(obj: Mapping[str, Any]) -> int:
    """The resourceVersion as an integer (0 when absent or not numeric)."""
    text = str(obj.get("metadata", {}).get("resourceVersion") or "0")
    return int(text) if text.isdigit() else 0
