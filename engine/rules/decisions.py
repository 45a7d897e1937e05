"""What an evaluation decided: patches, field errors, typed actions and a trace.

Owns: `Result` (patched subject, absolute RFC 6902 `Operation`s, `FieldError`s, `Action`s,
`TraceEntry`s) and `Outcome`. Every value carries its origin, `pack@version/rule`.
Called by: `engine.rules.evaluating` (builds results), `engine.rules.registry` (merges them),
and every caller of the engine (webhook, planner, lint, `jobset rules test`).
Must not import: anything in `engine`.
"""

from __future__ import annotations

import dataclasses
import enum
import typing
from collections.abc import Iterable
from typing import Any


class Outcome(enum.StrEnum):
    """What one rule did for one element."""

    APPLIED = "applied"   # a patch was applied or an action chosen
    SKIPPED = "skipped"   # `when` was false, nothing matched, or the assertion held
    FAILED = "failed"     # an assertion failed: field errors were produced
    ERROR = "error"       # a runtime error (CEL, patch target, budget)


@dataclasses.dataclass(frozen=True, slots=True)
class FieldError:
    """A validation error in Kubernetes' shape; `field` is in dotted notation."""

    field: str
    message: str
    reason: str
    origin: str

    def to_json(self) -> dict[str, str]:
        """`{field, message, reason}`, as an admission denial lists its causes."""
        return {"field": self.field, "message": self.message, "reason": self.reason}


class Operation(typing.NamedTuple):
    """One absolute RFC 6902 operation (add, replace or remove); a named tuple, cheap to make."""

    op: str
    path: str
    value: Any
    origin: str

    def to_json(self) -> dict[str, Any]:
        """The RFC 6902 object (no `value` for remove)."""
        if self.op == "remove":
            return {"op": self.op, "path": self.path}
        return {"op": self.op, "path": self.path, "value": self.value}


@dataclasses.dataclass(frozen=True, slots=True)
class Action:
    """A typed action chosen by a decision rule; params are plain data."""

    type: str
    params: dict[str, Any]
    origin: str

    def to_json(self) -> dict[str, Any]:
        """`{type, params, origin}`."""
        return {"type": self.type, "params": self.params, "origin": self.origin}


class TraceEntry(typing.NamedTuple):
    """One rule on one element (`path` is '' for the subject root); a named tuple, so that
    the hundreds an evaluation records cost little to make."""

    origin: str
    outcome: Outcome
    path: str = ""
    detail: str = ""
    ref: str = ""

    @property
    def rule(self) -> str:
        """The rule name, without `pack@version/`."""
        return self.origin.rsplit("/", 1)[-1]

    def __str__(self) -> str:
        where = f" at {self.path}" if self.path else ""
        detail = f": {self.detail}" if self.detail else ""
        ref = f" ({self.ref})" if self.ref else ""
        return f"{self.origin}{ref}{where}: {self.outcome}{detail}"


@dataclasses.dataclass(frozen=True)
class Result:
    """Everything one pack (or one phase of packs) decided."""

    subject: Any
    operations: tuple[Operation, ...] = ()
    errors: tuple[FieldError, ...] = ()
    actions: tuple[Action, ...] = ()
    trace: tuple[TraceEntry, ...] = ()

    @property
    def fired(self) -> tuple[str, ...]:
        """Origins of the rules that produced something (applied or failed), in order."""
        seen: dict[str, None] = {}
        for entry in self.trace:
            if entry.outcome in (Outcome.APPLIED, Outcome.FAILED):
                seen.setdefault(entry.origin)
        return tuple(seen)

    @property
    def allowed(self) -> bool:
        """True when no field error was produced."""
        return not self.errors

    def patch(self) -> list[dict[str, Any]]:
        """The RFC 6902 JSONPatch document for all operations."""
        return [operation.to_json() for operation in self.operations]

    def to_json(self) -> dict[str, Any]:
        """A JSON view (used by `-o json` and by `jobset explain`)."""
        return {
            "subject": self.subject,
            "operations": [dict(o.to_json(), origin=o.origin) for o in self.operations],
            "errors": [dict(e.to_json(), origin=e.origin) for e in self.errors],
            "actions": [a.to_json() for a in self.actions],
            "trace": [t._asdict() for t in self.trace],
        }


def combine(results: Iterable[Result], subject: Any) -> Result:
    """Concatenate results in order; `subject` is the final (chained) subject."""
    operations: list[Operation] = []
    errors: list[FieldError] = []
    actions: list[Action] = []
    trace: list[TraceEntry] = []
    for result in results:
        operations += result.operations
        errors += result.errors
        actions += result.actions
        trace += result.trace
    return Result(subject, tuple(operations), tuple(errors), tuple(actions), tuple(trace))
