"""The condition update engine of spec §10.4.

Owns: `Condition` (a desired condition with the event it raises), `for_situation` (the
conditions rules/jobset-status lists for a situation such as `Suspended`, spec §10.5) and
`apply`, which folds one desired condition into a status dict: status changes reset
`lastTransitionTime`, reason/message changes keep it, a False condition is never created
from nothing, and the two startup-policy conditions exclude each other (only the other's
status flips).
Called by: the planner steps.
Must not import: `engine.kube`, `engine.webhook`, `engine.localcluster`.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping
from typing import Any

from engine.model import keys
from engine.planner import observed as observed_mod
from engine.planner import packs, plan

STATUS_PACK = "jobset-status"

EXCLUSIVE = {
    keys.CONDITION_STARTUP_IN_PROGRESS: keys.CONDITION_STARTUP_COMPLETED,
    keys.CONDITION_STARTUP_COMPLETED: keys.CONDITION_STARTUP_IN_PROGRESS,
}


@dataclasses.dataclass(frozen=True)
class Condition:
    """A desired JobSet condition; `event_type` and `origin` describe the event it raises."""

    type: str
    status: str
    reason: str
    message: str
    event_type: str = "Normal"
    origin: str = ""


def find(status: Mapping[str, Any], condition_type: str) -> Mapping[str, Any] | None:
    """The condition of that type in a status, if any."""
    for condition in status.get("conditions") or []:
        if condition.get("type") == condition_type:
            return condition
    return None


def is_true(status: Mapping[str, Any], condition_type: str) -> bool:
    """Whether the status carries `condition_type=True`."""
    condition = find(status, condition_type)
    return condition is not None and condition.get("status") == "True"


def apply(status: Mapping[str, Any], desired: Condition, *,
          now: datetime.datetime) -> tuple[dict[str, Any], plan.Emit | None]:
    """Fold `desired` into a copy of `status`; returns it and the event, None when unchanged."""
    conditions = [dict(c) for c in status.get("conditions") or []]
    fresh = {"type": desired.type, "status": desired.status, "reason": desired.reason,
             "message": desired.message, "lastTransitionTime": observed_mod.format_time(now)}
    position = next((i for i, c in enumerate(conditions) if c.get("type") == desired.type), None)
    if position is None:
        if desired.status != "True":
            return dict(status), None
        conditions.append(fresh)
    elif conditions[position].get("status") != desired.status:
        conditions[position] = fresh
    elif (conditions[position].get("reason"), conditions[position].get("message")) != (desired.reason, desired.message):
        conditions[position].update(reason=desired.reason, message=desired.message)
    else:
        return dict(status), None
    if desired.status == "True" and desired.type in EXCLUSIVE:
        for other in conditions:
            if other.get("type") == EXCLUSIVE[desired.type] and other.get("status") == "True":
                other["status"] = "False"
    event = plan.Emit(type=desired.event_type, reason=desired.reason, message=desired.message,
                      origin=desired.origin)
    return {**status, "conditions": conditions}, event


def for_situation(decision_packs: packs.Packs, situation: str, *, origin: str, reason: str = "",
                  message: str = "") -> list[Condition]:
    """The conditions the status pack lists for `situation`, in the order to apply them."""
    transition = {"situation": situation, "reason": reason, "message": message}
    derived = decision_packs.derive(STATUS_PACK, subject="transition", inputs={"transition": transition})
    if "conditions" not in derived:
        raise packs.DecisionError(f"{STATUS_PACK}: no rule sets the conditions of situation {situation}")
    try:
        return [Condition(c["type"], c["status"], c["reason"], c["message"], c.get("eventType", "Normal"), origin)
                for c in derived["conditions"]]
    except (KeyError, TypeError):
        raise packs.DecisionError(f"{STATUS_PACK}: situation {situation}: every condition needs "
                                  "type, status, reason and message") from None
