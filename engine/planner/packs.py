"""The seam between the planner and the rule-pack engine: decisions in, typed params out.

Owns: `Decision` (one action a decision pack yielded, with the `pack@version/rule` that
yielded it), the `Packs` protocol the steps call, and `DecisionError` (a pack that could not
decide: runtime CEL error under failurePolicy Fail, or a budget overrun).
Called by: the planner steps (through `context.Context.packs`) and `engine.planner.reconcile`.
Must not import: `engine.kube`, `engine.webhook`, `engine.localcluster`.

Phases the planner asks for and the action types it understands (the vocabulary each pack
declares in `spec.actions`):
* `failure` (rules/jobset-failure): `FailJobSet{reason, message}`,
  `RestartJobSet{countsTowardsMax, reason, message, eventReason}`,
  `RestartJob{job, countsTowardsMax, message, eventReason}`, `Refuse{message}`.
* `success` (rules/jobset-success): `CompleteJobSet{reason, message}`.
* `status` (rules/jobset-startup): no actions; it patches the subject `progress`
  (`{replicatedJobs: [{name, replicas, dependsOn, ready, succeeded, failed}]}`) with
  `dependenciesMet` and `allReplicasStarted` per replicated job (spec §10.11, §10.12).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Protocol


class DecisionError(Exception):
    """A decision pack failed to decide; the pass fails with this message."""


@dataclasses.dataclass(frozen=True)
class Decision:
    """One action yielded by a decision pack; `origin` is `pack@version/rule`."""

    type: str
    params: Mapping[str, Any]
    origin: str


class Packs(Protocol):
    """Runs every loaded pack of one phase against named inputs."""

    def decide(self, phase: str, inputs: Mapping[str, Any]) -> tuple[Decision, ...]:
        """The actions of a decision phase (`success`, `failure`), in rule order."""
        ...

    def derive(self, phase: str, subject: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """The subject input as patched by every pack of a patch phase (`status`, `construct`)."""
        ...
