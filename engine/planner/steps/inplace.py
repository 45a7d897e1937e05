"""Step 16 of spec §8: in-place restart bookkeeping (gate `InPlaceRestart`, spec §11.1).

Called by: `engine.planner.reconcile`, when the restart strategy is `InPlaceRestart`.
Reads the associated Pods of `Observed.pods`. Consults rules/jobset-status (situation
`InPlaceRestartsExceeded`).
Must not import: `engine.kube`, other steps.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.model import keys
from engine.planner import context, observed, plan

ORIGIN = "step inplace (§11.1)"


def run(ctx: context.Context) -> context.StepOutcome:
    """Fail on exceeded restarts, else publish the current or previous in-place attempt."""
    policy = ctx.spec.get("failurePolicy") or {}
    if policy.get("restartStrategy") != "InPlaceRestart":
        return context.StepOutcome()
    if not ctx.observed.gate(keys.GATE_IN_PLACE_RESTART):
        return context.StepOutcome(trace=("inplace: gate InPlaceRestart is off, nothing done (§8 step 16)",))
    pods = [pod for pod in ctx.observed.pods if observed.labels_of(pod).get(keys.JOBSET_NAME) == ctx.name]
    max_restarts = int(policy.get("maxRestarts", 0))
    if max((_restart_count(pod) for pod in pods), default=0) > max_restarts:
        return _fail(ctx, "container restarts")
    try:
        attempts = [attempt for pod in pods if (attempt := _attempt(pod)) is not None]
        expected = _expected_pods(ctx)
    except ValueError as error:
        return context.StepOutcome(error=str(error))
    free = int(ctx.status.get("restarts", 0)) - int(ctx.status.get("restartsCountTowardsMax", 0))
    if max(attempts, default=0) - free > max_restarts:
        return _fail(ctx, "in-place attempts")
    return _bookkeeping(ctx, attempts=attempts, expected=expected)


def _bookkeeping(ctx: context.Context, *, attempts: list[int], expected: int) -> context.StepOutcome:
    """Steps 5-7 of spec §11.1."""
    if attempts and len(attempts) == expected and len(set(attempts)) == 1:
        return _store(ctx, field="currentInPlaceRestartAttempt", value=attempts[0])
    if not attempts or max(attempts) == 0:
        return context.StepOutcome()
    candidate, stored = max(attempts) - 1, ctx.status.get("previousInPlaceRestartAttempt")
    if stored is not None and candidate <= stored:
        return context.StepOutcome()
    return _store(ctx, field="previousInPlaceRestartAttempt", value=candidate)


def _store(ctx: context.Context, *, field: str, value: int) -> context.StepOutcome:
    if ctx.status.get(field) == value:
        return context.StepOutcome()
    return context.StepOutcome(status={**ctx.status, field: value},
                               trace=(f"inplace: {field} = {value} (§11.1)",))


def _fail(ctx: context.Context, what: str) -> context.StepOutcome:
    status, events = context.enter(ctx, "InPlaceRestartsExceeded", origin=ORIGIN)
    status["terminalState"] = keys.CONDITION_FAILED
    return context.StepOutcome(actions=events + (plan.Record("failed"),), status=status,
                               trace=(f"inplace: {what} exceed maxRestarts (§11.1)",))


def _restart_count(pod: Mapping[str, Any]) -> int:
    status = pod.get("status") or {}
    counts = [s.get("restartCount", 0) for key in ("initContainerStatuses", "containerStatuses")
              for s in status.get(key) or []]
    return max(counts, default=0)


def _attempt(pod: Mapping[str, Any]) -> int | None:
    """The Pod's in-place attempt annotation; None when absent or the Pod failed."""
    value = (pod.get("metadata", {}).get("annotations") or {}).get(keys.IN_PLACE_RESTART_ATTEMPT)
    if value is None or (pod.get("status") or {}).get("phase") == "Failed":
        return None
    if not value.isdigit():
        raise ValueError(f'pod "{observed.name_of(pod)}": annotation {keys.IN_PLACE_RESTART_ATTEMPT}={value!r} '
                         "is not a non-negative integer")
    return int(value)


def _expected_pods(ctx: context.Context) -> int:
    total = 0
    for rj in ctx.spec.get("replicatedJobs") or []:
        spec = (rj.get("template") or {}).get("spec") or {}
        if spec.get("parallelism") is None or spec.get("parallelism") != spec.get("completions"):
            raise ValueError(f"replicated job {rj['name']!r}: in-place restart needs completions == parallelism, both set")
        total += int(rj.get("replicas", 1)) * int(spec["parallelism"])
    return total
