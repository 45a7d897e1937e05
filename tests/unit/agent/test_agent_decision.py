"""The in-place restart agent's decision table, row by row (spec §11.2)."""

from __future__ import annotations

from typing import Any

import pytest

from engine.agent import decision
from engine.model import keys


def _jobset(current: int | None = None, previous: int | None = None, *, strategy: str | None = "InPlaceRestart",
            annotations: dict[str, str] | None = None) -> dict[str, Any]:
    status = {name: value for name, value in (("currentInPlaceRestartAttempt", current),
                                                ("previousInPlaceRestartAttempt", previous)) if value is not None}
    spec: dict[str, Any] = {"replicatedJobs": []}
    if strategy is not None:
        spec["failurePolicy"] = {"maxRestarts": 3, "restartStrategy": strategy}
    return {"metadata": {"name": "js", "annotations": annotations or {}}, "spec": spec, "status": status}


# current / previous / mine before => annotate, exit, lift (the §11.2 table)
TABLE = [
    (None, None, None, decision.Decision(annotate=0)),
    (0, None, None, decision.Decision(annotate=1)),
    (1, 0, None, decision.Decision(annotate=2)),
    (0, 0, None, decision.Decision(annotate=1)),
    (0, 0, 0, decision.Decision(exit=True)),
    (0, None, 0, decision.Decision(lift=True)),
    (1, 0, 1, decision.Decision(lift=True)),
]


@pytest.mark.parametrize(("current", "previous", "mine", "expected"), TABLE,
                         ids=["-/-/- annotate 0", "0/-/- annotate 1", "1/0/- annotate 2", "0/0/- annotate 1 only",
                              "0/0/0 exit", "0/-/0 lift", "1/0/1 lift"])
def test_section_11_2_decision_table_row(current: int | None, previous: int | None, mine: int | None,
                                         expected: decision.Decision) -> None:
    """§11.2: each row of the agent's decision table, with the barrier still up."""
    assert decision.decide(decision.State(mine=mine), _jobset(current, previous)) == expected


@pytest.mark.parametrize(("current", "previous", "mine"), [(0, None, 0), (1, 0, 1), (2, 1, 2)])
def test_section_11_2_barrier_already_lifted_means_nothing(current: int, previous: int | None, mine: int) -> None:
    """§11.2: once the barrier is down, a JobSet whose attempts agree changes nothing."""
    assert decision.decide(decision.State(mine=mine, barrier=False), _jobset(current, previous)) == decision.Decision()


def test_section_11_2_an_outdated_attempt_exits_even_after_the_barrier_was_lifted() -> None:
    """§11.2 step 3 does not depend on the barrier: a running worker is restarted too."""
    assert decision.decide(decision.State(mine=0, barrier=False), _jobset(0, 0)).exit


def test_section_11_2_startup_then_restart_request_in_one_reconcile() -> None:
    """§11.2 steps 2 then 3: the written attempt is compared at once (1 <= previous 1 exits)."""
    assert decision.decide(decision.State(), _jobset(0, 1)) == decision.Decision(annotate=1, exit=True)


def test_section_11_2_startup_then_lift_in_one_reconcile_is_impossible() -> None:
    """§11.2: a fresh agent writes current + 1 (or 0 when current is unset), never equal to current."""
    assert not decision.decide(decision.State(), _jobset(0)).lift
    assert not decision.decide(decision.State(), _jobset()).lift


@pytest.mark.parametrize("jobset", [
    _jobset(0, 0, annotations={keys.DISABLE_IN_PLACE_RESTART: ""}),
    _jobset(strategy="Recreate"),
    _jobset(strategy="BlockingRecreate"),
    _jobset(strategy=None),
], ids=["disable annotation", "Recreate", "BlockingRecreate", "no failure policy"])
def test_section_11_2_bypass_lifts_the_barrier_once_and_writes_nothing(jobset: dict[str, Any]) -> None:
    """§11.2 step 1: opted-out JobSets lift the barrier without any annotation; then nothing."""
    first = decision.decide(decision.State(), jobset)
    assert first == decision.Decision(lift=True, bypass=True)
    after = first.applied(decision.State())
    assert after == decision.State(mine=None, barrier=False)
    assert decision.decide(after, jobset) == decision.Decision(bypass=True)


def test_applied_keeps_the_written_attempt_and_lowers_the_barrier() -> None:
    state = decision.Decision(annotate=3).applied(decision.State())
    assert state == decision.State(mine=3, barrier=True)
    assert decision.Decision(lift=True).applied(state) == decision.State(mine=3, barrier=False)
