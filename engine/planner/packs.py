"""The seam between the planner and the rule-pack engine: decisions in, typed params out.

Owns: `Decision` (one action a decision pack yielded, with the `pack@version/rule` that
yielded it), the `Packs` protocol the steps call, `RegistryPacks` (that protocol over an
`engine.rules.registry.Registry`), `load` and `DecisionError` (a pack that could not
decide: runtime CEL error under failurePolicy Fail, or a budget overrun).
Called by: the planner steps (through `context.Context.packs`) and `engine.planner.reconcile`.
Must not import: `engine.kube`, `engine.webhook`, `engine.localcluster`.

Phases the planner asks for and the action types it understands (the vocabulary each pack
declares in `spec.actions`):
* `failure` (rules/jobset-failure): `FailJobSet{reason, message}`,
  `RestartJobSet{countsTowardsMax, reason, message, eventReason}`,
  `RestartJob{job, countsTowardsMax, message, eventReason}`, `Refuse{message}`.
* `success` (rules/jobset-success): `CompleteJobSet{reason, message}`.
Patch phase `construct` (rules/jobset-construct, then operator packs) turns the skeletons
of `engine.model.builders` into the Jobs, Service and PVCs to create (spec §9).
Patch packs the planner evaluates by name (phase `status`, one subject each):
* rules/jobset-startup patches `progress` (`{replicatedJobs: [{name, replicas, dependsOn,
  counters?}]}`) with `dependenciesMet` and `allReplicasStarted` (spec §10.11, §10.12).
* rules/jobset-status patches `transition` (`{situation, reason?, message?}`) with the
  `conditions` that situation sets (spec §10.5).
"""

from __future__ import annotations

import dataclasses
import pathlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from engine.rules import decisions, evaluating, loading, problems, registry


class DecisionError(Exception):
    """A decision pack failed to decide; the pass fails with this message."""


@dataclasses.dataclass(frozen=True)
class Decision:
    """One action yielded by a decision pack; `origin` is `pack@version/rule`."""

    type: str
    params: Mapping[str, Any]
    origin: str

    def param(self, name: str) -> Any:
        """One parameter; DecisionError naming the rule when the pack did not set it."""
        if name not in self.params:
            raise DecisionError(f"{self.origin}: action {self.type} has no parameter {name}")
        return self.params[name]


class Packs(Protocol):
    """What the planner asks of the loaded rule packs."""

    def decide(self, phase: str, inputs: Mapping[str, Any]) -> tuple[Decision, ...]:
        """The actions of a decision phase (`success`, `failure`): operator packs first, then
        the built-in one; the first pack that yields an action decides."""
        ...

    def derive(self, pack: str, *, subject: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """The `subject` input as patched by the active pack named `pack`."""
        ...

    def apply_phase(self, phase: str, *, subject: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """The `subject` input as patched by every pack of `phase` (`construct`), in load order."""
        ...

    def apply_phase_many(self, phase: str, *, subject: str, shared: Mapping[str, Any],
                         each: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """`apply_phase` for every request of `each` (inputs `{**shared, **request}`), in order;
        what reads only `shared` is evaluated once for all of them."""
        ...


class RegistryPacks:
    """`Packs` over the active packs of a rules registry (hot reload stays the registry's job)."""

    def __init__(self, rules: registry.Registry) -> None:
        self.registry = rules

    def decide(self, phase: str, inputs: Mapping[str, Any]) -> tuple[Decision, ...]:
        """The actions of the first pack of `phase` that yields any (see `Packs.decide`)."""
        result = self._evaluate(phase, subject="jobset", inputs=inputs)
        return tuple(Decision(a.type, a.params, a.origin) for a in result.actions)

    def derive(self, pack: str, *, subject: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """The `subject` input as patched by the active pack named `pack`."""
        compiled = self.registry.snapshot.get(pack)
        if compiled is None:
            raise DecisionError(f"rule pack {pack} is not loaded")
        try:
            result = evaluating.evaluate(compiled, inputs)
        except ValueError as error:
            raise DecisionError(str(error)) from None
        patched: dict[str, Any] = _checked(result).subject
        return patched

    def apply_phase(self, phase: str, *, subject: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """The `subject` input as patched by every pack of `phase`, in load order."""
        patched: dict[str, Any] = self._evaluate(phase, subject=subject, inputs=inputs).subject
        return patched

    def apply_phase_many(self, phase: str, *, subject: str, shared: Mapping[str, Any],
                         each: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """The subjects of `each` as patched by every pack of `phase`, sharing `shared`."""
        try:
            return [_checked(result).subject
                    for result in self.registry.evaluate_phase_many(phase, shared, each, subject=subject)]
        except ValueError as error:
            raise DecisionError(f"phase {phase}: {error}") from None

    def _evaluate(self, phase: str, *, subject: str, inputs: Mapping[str, Any]) -> decisions.Result:
        try:
            return _checked(self.registry.evaluate_phase(phase, inputs, subject=subject))
        except ValueError as error:
            raise DecisionError(f"phase {phase}: {error}") from None


def _checked(result: decisions.Result) -> decisions.Result:
    """The result, or DecisionError listing its runtime errors."""
    if result.errors:
        raise DecisionError("; ".join(f"{e.origin}: {e.message}" for e in result.errors))
    return result


def load(directories: Sequence[pathlib.Path] = ()) -> tuple[RegistryPacks, list[problems.Problem]]:
    """Packs from the built-in `rules/` then `directories`; also returns every load problem."""
    rules = registry.Registry()
    found = rules.load([loading.builtin_directory(), *directories])
    return RegistryPacks(rules), found
