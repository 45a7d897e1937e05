"""One reconcile pass as a pure function: `plan_pass(observed, packs) -> Plan` (spec §8).

Owns: the ordered step list and the fold of step outcomes into one `plan.Plan`: actions in
step order, then `WriteStatus` when the status changed, then the events queued by
conditions and restart actions (spec §10.6). An error keeps the actions decided before it
but drops the status write and the queued events.
Called by: the controller (with an `Observed` built from its cache), `jobset render` and tests.
Must not import: `engine.kube`, `engine.webhook`, `engine.localcluster`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from engine.planner import context, observed, packs, plan
from engine.planner.steps import (children, counters, failure, finished, guards, inplace, previous, pvcs,
                                  restarting, scaling, service, success, suspend)

STEPS = (counters, finished, previous, restarting, failure, success, service, pvcs, scaling, children,
         suspend, inplace)


def plan_pass(snapshot: observed.Observed, decision_packs: packs.Packs) -> plan.Plan:
    """Run the steps of spec §8 in order and fold them into one Plan."""
    stored = dict(observed.status_of(snapshot.jobset))
    ctx = context.Context(observed=snapshot, children=observed.Children(), packs=decision_packs, status=stored)
    guard = guards.run(ctx)
    if guard.halt:
        return plan.Plan(trace=guard.trace)
    try:
        ctx = dataclasses.replace(ctx, children=observed.classify(snapshot))
    except observed.ClassificationError as error:
        return plan.Plan(error=str(error), trace=("classify: " + str(error) + " (§10.1)",))
    return _fold(ctx, stored)


def _fold(ctx: context.Context, stored: dict[str, Any]) -> plan.Plan:
    actions: list[plan.Action] = []
    events: list[plan.Action] = []
    trace: list[str] = []
    requeue: float | None = None
    for step in STEPS:
        try:
            outcome = step.run(ctx)
        except packs.DecisionError as error:
            outcome = context.StepOutcome(error=str(error))
        trace.extend(outcome.trace)
        actions.extend(a for a in outcome.actions if not _after_status(a))
        if outcome.error is not None:
            return plan.Plan(actions=tuple(actions), error=outcome.error, trace=tuple(trace))
        events.extend(a for a in outcome.actions if _after_status(a))
        if outcome.status is not None:
            ctx = dataclasses.replace(ctx, status=outcome.status)
        if outcome.requeue_after is not None:
            requeue = outcome.requeue_after if requeue is None else min(requeue, outcome.requeue_after)
        if outcome.stop:
            break
    if ctx.status != stored:
        actions.append(plan.WriteStatus(status={"restarts": 0, **ctx.status}))
    return plan.Plan(actions=tuple(actions) + tuple(events), requeue_after=requeue, trace=tuple(trace))


def _after_status(action: plan.Action) -> bool:
    """Events and metric records wait for the status write (spec §10.6)."""
    return isinstance(action, plan.Record) or (isinstance(action, plan.Emit) and action.after_status)
