"""The condition update engine (spec §10.4)."""

from __future__ import annotations

import datetime

from engine.planner import conditions

T0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
T1 = T0 + datetime.timedelta(minutes=5)


def cond(kind: str, status: str, reason: str = "R", message: str = "m") -> conditions.Condition:
    return conditions.Condition(kind, status, reason, message)


def test_false_condition_is_never_created_from_nothing_section_16_2() -> None:
    status, event = conditions.apply({}, cond("Suspended", "False"), now=T0)
    assert status == {} and event is None


def test_status_change_resets_transition_time_reason_change_keeps_it_section_10_4() -> None:
    status, first = conditions.apply({}, cond("Suspended", "True"), now=T0)
    assert first is not None and status["conditions"][0]["lastTransitionTime"] == "2026-01-01T00:00:00Z"
    kept, event = conditions.apply(status, cond("Suspended", "True", reason="Other"), now=T1)
    assert event is not None and kept["conditions"][0]["lastTransitionTime"] == "2026-01-01T00:00:00Z"
    assert kept["conditions"][0]["reason"] == "Other"
    flipped, _ = conditions.apply(kept, cond("Suspended", "False"), now=T1)
    assert flipped["conditions"][0]["lastTransitionTime"] == "2026-01-01T00:05:00Z"


def test_identical_condition_is_no_change_and_no_event_section_10_4() -> None:
    status, _ = conditions.apply({}, cond("Suspended", "True"), now=T0)
    again, event = conditions.apply(status, cond("Suspended", "True"), now=T1)
    assert again == status and event is None


def test_startup_conditions_exclude_each_other_status_only_section_10_4() -> None:
    status, _ = conditions.apply({}, cond("StartupPolicyInProgress", "True", "A", "a"), now=T0)
    status, _ = conditions.apply(status, cond("StartupPolicyCompleted", "True", "B", "b"), now=T1)
    in_progress = conditions.find(status, "StartupPolicyInProgress")
    assert in_progress == {"type": "StartupPolicyInProgress", "status": "False", "reason": "A", "message": "a",
                           "lastTransitionTime": "2026-01-01T00:00:00Z"}
    assert conditions.is_true(status, "StartupPolicyCompleted")
