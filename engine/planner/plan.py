"""The values a reconcile pass produces: `Plan` and its `Action`s.

Owns: the action types (`CreateJob`, `DeleteJob`, `UpdateJob`, `PatchJobScaling`,
`CreateService`, `CreatePVC`, `DeleteJobSet`, `WriteStatus`, `Emit`, `Record`) and `Plan`.
Called by: the planner steps (which build actions), `engine.planner.reconcile` (which folds
them), the executor and `jobset render` (which read them).
Must not import: `engine.kube`, `engine.webhook`, `engine.localcluster`.

Execution contract (spec §8, §10.6): actions run in list order; `WriteStatus`, when present,
is the last API write and carries the whole new status; `Emit` actions with
`after_status=True` and `Record` actions come after it and run only if that write succeeds. The executor itself emits the
immediate `JobCreationFailed`, `HeadlessServiceCreationFailed` and `PVCCreationFailed`
Warnings (spec §9.1, §9.7, §9.8), since only it sees the API errors.
"""

from __future__ import annotations

import dataclasses
from typing import Any

FOREGROUND = "Foreground"


@dataclasses.dataclass(frozen=True)
class CreateJob:
    """Create one child Job (spec §9.1); `job` is the full object."""

    job: dict[str, Any]
    origin: str = ""
    group: str = ""  # its replicated job: creation stops after the first one with a failure (spec §8 step 14)


@dataclasses.dataclass(frozen=True)
class DeleteJob:
    """Delete a child Job with foreground propagation; NotFound is ignored."""

    name: str
    reason: str
    propagation: str = FOREGROUND


@dataclasses.dataclass(frozen=True)
class UpdateJob:
    """Replace a child Job with `job` (suspend or resume, spec §10.10).

    With `reset_start_time`, first clear `status.startTime` with a Job status update.
    """

    name: str
    job: dict[str, Any]
    reset_start_time: bool = False


@dataclasses.dataclass(frozen=True)
class PatchJobScaling:
    """Merge-patch `spec.parallelism` and `spec.completions` of a Job (spec §10.14)."""

    name: str
    parallelism: int | None
    completions: int | None


@dataclasses.dataclass(frozen=True)
class CreateService:
    """Create the headless Service (spec §9.7)."""

    service: dict[str, Any]


@dataclasses.dataclass(frozen=True)
class CreatePVC:
    """Create a PVC of a volume claim policy; AlreadyExists is ignored (spec §9.8)."""

    pvc: dict[str, Any]
    policy: int = 0  # index of its volume claim policy: a failure ends that policy only (spec §9.8)


@dataclasses.dataclass(frozen=True)
class DeleteJobSet:
    """Delete the JobSet itself with foreground propagation (TTL, spec §10.13)."""

    name: str
    propagation: str = FOREGROUND


@dataclasses.dataclass(frozen=True)
class WriteStatus:
    """Replace `.status` with `status` (one write per pass, last)."""

    status: dict[str, Any]


@dataclasses.dataclass(frozen=True)
class Emit:
    """One Event on the JobSet; `origin` names the pack rule or step that caused it."""

    type: str
    reason: str
    message: str
    origin: str
    after_status: bool = True


@dataclasses.dataclass(frozen=True)
class Record:
    """A metric increment (spec §10.15), recorded with the events after the status write.

    `metric` is `completed`, `failed` or `restart`; `rule` is the pack rule behind a restart.
    """

    metric: str
    rule: str = ""


Action = CreateJob | DeleteJob | UpdateJob | PatchJobScaling | CreateService | CreatePVC | DeleteJobSet | WriteStatus | Emit | Record


@dataclasses.dataclass(frozen=True)
class Plan:
    """What one pass decided. `error` set means the pass fails (retry with back-off):
    the actions before the failure still run, but no status is written and no event is sent."""

    actions: tuple[Action, ...] = ()
    requeue_after: float | None = None
    error: str | None = None
    trace: tuple[str, ...] = ()

    def of_type(self, kind: type) -> list[Any]:
        """The actions of one type, in order."""
        return [action for action in self.actions if isinstance(action, kind)]

    @property
    def status(self) -> dict[str, Any] | None:
        """The status this plan writes, if any."""
        writes = self.of_type(WriteStatus)
        return writes[0].status if writes else None
