"""What the in-place restart agent does on one reconcile of its JobSet (spec §11.2 table).

Owns: `State` (the attempt this run of the agent wrote, whether its barrier is still up),
`Decision` and `decide(state, jobset)`, `bypassed(jobset)`. Pure: no I/O.
Called by: `engine.agent.runner`; the unit tests of the §11.2 table.
Must not import: anything in `engine` outside `engine.model`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from engine.model import keys

IN_PLACE_RESTART = "InPlaceRestart"


@dataclasses.dataclass(frozen=True)
class State:
    """What the agent holds in memory: `mine` (unset until its annotation was written) and the barrier."""

    mine: int | None = None
    barrier: bool = True


@dataclasses.dataclass(frozen=True)
class Decision:
    """In order: write `annotate` to the Pod's attempt annotation; then exit with the restart
    code (`exit`) or lift the barrier (`lift`). `bypass` says the JobSet opted out."""

    annotate: int | None = None
    exit: bool = False
    lift: bool = False
    bypass: bool = False

    def applied(self, state: State) -> State:
        """The agent's state once this decision was carried out."""
        mine = self.annotate if self.annotate is not None else state.mine
        return State(mine=mine, barrier=state.barrier and not self.lift)


def bypassed(jobset: Mapping[str, Any]) -> bool:
    """Step 1: the JobSet disables in-place restart, or its restart strategy is another one."""
    annotations = (jobset.get("metadata") or {}).get("annotations") or {}
    if keys.DISABLE_IN_PLACE_RESTART in annotations:
        return True
    policy = (jobset.get("spec") or {}).get("failurePolicy") or {}
    return policy.get("restartStrategy") != IN_PLACE_RESTART


def decide(state: State, jobset: Mapping[str, Any]) -> Decision:
    """Steps 1-4 of spec §11.2 for one observed `jobset`."""
    if bypassed(jobset):
        return Decision(lift=state.barrier, bypass=True)
    status = jobset.get("status") or {}
    current = status.get("currentInPlaceRestartAttempt")
    previous = status.get("previousInPlaceRestartAttempt")
    annotate = None
    mine = state.mine
    if mine is None:
        annotate = mine = 0 if current is None else int(current) + 1
    if previous is not None and mine <= int(previous):
        return Decision(annotate=annotate, exit=True)
    return Decision(annotate=annotate, lift=state.barrier and current is not None and mine == int(current))
