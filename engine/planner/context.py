"""What every planner step receives and returns (spec §8; aesthetics §8.3).

Owns: `Context` (the snapshot, its classified children, the decision packs and the status
drafted so far) and `StepOutcome` (actions, the new draft status, "end the pass", requeue,
error, trace), plus `enter` and `set_conditions`, the way steps write conditions.
Called by: the planner steps and `engine.planner.reconcile`.
Must not import: `engine.kube`, `engine.webhook`, `engine.localcluster`, any step.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from engine.planner import conditions, observed, packs, plan


@dataclasses.dataclass(frozen=True)
class Context:
    """The inputs of one step. `status` is the draft status after the earlier steps."""

    observed: observed.Observed
    children: observed.Children
    packs: packs.Packs
    status: Mapping[str, Any]

    @property
    def jobset(self) -> Mapping[str, Any]:
        """The observed JobSet."""
        return self.observed.jobset

    @property
    def spec(self) -> Mapping[str, Any]:
        """The JobSet's spec."""
        return self.observed.jobset.get("spec") or {}

    @property
    def name(self) -> str:
        """The JobSet's name."""
        return observed.name_of(self.observed.jobset)


@dataclasses.dataclass(frozen=True)
class StepOutcome:
    """What one step decided. `status` is the whole new draft (None: unchanged);
    `stop` ends the pass (spec §8: "end the pass"); `halt` ends it without a status write."""

    actions: tuple[plan.Action, ...] = ()
    status: Mapping[str, Any] | None = None
    stop: bool = False
    halt: bool = False
    requeue_after: float | None = None
    error: str | None = None
    trace: tuple[str, ...] = ()


def enter(ctx: Context, situation: str, *, origin: str, reason: str = "", message: str = "",
          base: Mapping[str, Any] | None = None) -> tuple[dict[str, Any], tuple[plan.Emit, ...]]:
    """Apply the conditions of `situation` (rules/jobset-status) to `base` (default: the draft)."""
    desired = conditions.for_situation(ctx.packs, situation, origin=origin, reason=reason, message=message)
    return set_conditions(ctx, desired, base=base)


def set_conditions(ctx: Context, desired: Iterable[conditions.Condition], *,
                   base: Mapping[str, Any] | None = None) -> tuple[dict[str, Any], tuple[plan.Emit, ...]]:
    """Apply conditions in order to `base` (default: the draft); returns status and events."""
    status = dict(ctx.status if base is None else base)
    events: list[plan.Emit] = []
    for condition in desired:
        status, event = conditions.apply(status, condition, now=ctx.observed.now)
        if event is not None:
            events.append(event)
    return status, tuple(events)
