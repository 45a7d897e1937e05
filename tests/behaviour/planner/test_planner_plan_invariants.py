"""Invariants every plan keeps, over generated JobSets and Job states (spec §8, §9.1, §10.6, §16.4)."""

from __future__ import annotations

import copy

from planworld import World, make_jobset
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.planner import plan

STATES = st.sampled_from(["pending", "ready", "complete", "failed"])
SHAPES = st.lists(st.integers(min_value=0, max_value=3), min_size=1, max_size=3)
POLICIES = st.sampled_from([None, {}, {"maxRestarts": 2}, {"maxRestarts": 1, "restartStrategy": "BlockingRecreate"},
                            {"maxRestarts": 1, "rules": [{"name": "r", "action": "FailJobSet",
                                                          "targetReplicatedJobs": ["rj1"]}]}])


def build(shape: list[int], policy: dict | None, suspend: bool, states: list[str]) -> World:
    spec = {"suspend": suspend} | ({"failurePolicy": policy} if policy is not None else {})
    world = World(make_jobset(*((f"rj{i}", r) for i, r in enumerate(shape)), **spec))
    world.run()
    for job, state in zip(sorted(world.jobs), states):
        if state == "ready":
            world.ready(job)
        elif state != "pending":
            world.finish(job, "Complete" if state == "complete" else "Failed")
    return world


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shape=SHAPES, policy=POLICIES, suspend=st.booleans(), states=st.lists(STATES, max_size=9))
def test_plans_are_deterministic_ordered_and_never_duplicate_jobs(shape: list[int], policy: dict | None,
                                                                  suspend: bool, states: list[str]) -> None:
    world = build(shape, policy, suspend, states)
    before = copy.deepcopy(world.jobs)
    result = world.plan()
    assert result == world.plan()  # pure: same snapshot, same plan
    kinds = [type(a) for a in result.actions]
    assert kinds.count(plan.WriteStatus) <= 1
    if plan.WriteStatus in kinds:
        tail = kinds[kinds.index(plan.WriteStatus) + 1:]
        assert all(kind in (plan.Emit, plan.Record) for kind in tail)  # §10.6
    created = [a.job["metadata"]["name"] for a in result.of_type(plan.CreateJob)]
    assert len(created) == len(set(created)) and not set(created) & set(before)  # §9.1
    if "failed" in states[:len(before)]:
        assert created == []  # a failure pass never creates Jobs (§16.4)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shape=SHAPES, policy=POLICIES, suspend=st.booleans(), states=st.lists(STATES, max_size=9))
def test_repeated_passes_reach_a_fixpoint(shape: list[int], policy: dict | None, suspend: bool,
                                          states: list[str]) -> None:
    world = build(shape, policy, suspend, states)
    last = world.settle(passes=8)
    assert last.actions == () or last.of_type(plan.DeleteJobSet) or last.requeue_after is not None
