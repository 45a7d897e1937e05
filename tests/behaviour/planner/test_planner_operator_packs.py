"""Operator failure packs are consulted before the built-in failure policy (docs/rule-packs.md §3)."""

from __future__ import annotations

import pathlib

from planworld import World, events, make_jobset

from engine.planner import packs, plan, reconcile

EXAMPLE = pathlib.Path(__file__).resolve().parents[3] / "examples" / "operator-pack"


def test_operator_pack_restarts_a_transient_failure_without_spending_the_budget() -> None:
    operator, problems = packs.load([EXAMPLE])
    assert problems == []
    world = World(make_jobset(("w", 2), failurePolicy={"maxRestarts": 0}))
    world.run()
    world.finish("js-w-1", "Failed", message="NCCL watchdog timeout on rank 3")
    result = reconcile.plan_pass(world.observe(), operator)
    assert result.status["restarts"] == 1 and "restartsCountTowardsMax" not in result.status
    assert events(result)[0] == ("Warning", "RestartJobSetAndIgnoreMaxRestartsFailurePolicyAction",
                                 "restarting after a transient network error (first failed job: js-w-1)")
    assert result.of_type(plan.Record) == [
        plan.Record("restart", "restart-on-transient-errors@1.0.0/restart-on-network-timeout")]


def test_without_a_matching_operator_rule_the_builtin_policy_decides() -> None:
    operator, _ = packs.load([EXAMPLE])
    world = World(make_jobset(("w", 2), failurePolicy={"maxRestarts": 0}))
    world.run()
    world.finish("js-w-1", "Failed", message="segfault")
    result = reconcile.plan_pass(world.observe(), operator)
    assert [c["reason"] for c in result.status["conditions"]] == ["ReachedMaxRestarts"]
