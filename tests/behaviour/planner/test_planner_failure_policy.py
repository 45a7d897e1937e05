"""Failure policy actions, reasons, budgets and restart mechanics (spec §10.8, §10.9, §16)."""

from __future__ import annotations

import pytest
from planworld import World, events, job_names, make_jobset

from engine.planner import plan


def started(world: World) -> World:
    world.run()
    world.ready()
    world.run()
    return world


def test_no_failure_policy_fails_with_failed_jobs_and_no_creation_section_10_8() -> None:
    world = started(World(make_jobset(("w", 2))))
    world.finish("js-w-1", "Failed", after=1)
    world.finish("js-w-0", "Failed", after=2)
    del world.jobs["js-w-0"]  # and a missing Job is not recreated in a failure pass
    result = world.run()
    failed = world.condition("Failed")
    assert (failed["reason"], failed["message"]) == (
        "FailedJobs", "jobset failed due to one or more job failures (first failed job: js-w-1)")
    assert world.jobset["status"]["terminalState"] == "Failed"
    assert result.of_type(plan.CreateJob) == []
    assert events(result) == [("Warning", "FailedJobs", failed["message"])]
    assert result.of_type(plan.Record) == [plan.Record("failed")]  # §10.15


def test_empty_failure_policy_fails_with_reached_max_restarts_section_16_5() -> None:
    world = started(World(make_jobset(("w", 1), failurePolicy={})))
    world.finish("js-w-0", "Failed")
    world.run()
    assert world.condition("Failed")["reason"] == "ReachedMaxRestarts"
    assert world.condition("Failed")["message"] == (
        "jobset failed due to reaching max number of restarts (first failed job: js-w-0)")


def test_restart_jobset_recreates_every_job_until_budget_runs_out_section_10_9() -> None:
    world = started(World(make_jobset(("w", 2), failurePolicy={"maxRestarts": 1})))
    world.finish("js-w-0", "Failed")
    result = world.run()
    assert (world.jobset["status"]["restarts"], world.jobset["status"]["restartsCountTowardsMax"]) == (1, 1)
    restarting = world.condition("RestartingJobSet")
    assert (restarting["status"], restarting["reason"]) == ("True", "DefaultFailurePolicy")
    assert events(result) == [
        ("Warning", "RestartJobSetFailurePolicyAction",
         "applying RestartJobSet failure policy action (first failed job: js-w-0)"),
        ("Warning", "DefaultFailurePolicy", "applying RestartJobSet failure policy action (first failed job: js-w-0)")]
    assert result.of_type(plan.CreateJob) == [] and result.of_type(plan.DeleteJob) == []
    result = world.run()
    assert job_names(result, plan.DeleteJob) == ["js-w-0", "js-w-1"]
    assert job_names(result, plan.CreateJob) == []  # the old objects were still visible
    assert job_names(world.run(), plan.CreateJob) == ["js-w-0", "js-w-1"]
    assert world.jobs["js-w-0"]["metadata"]["labels"]["jobset.sigs.k8s.io/restart-attempt"] == "1"
    world.ready()
    world.run()
    assert (world.condition("RestartingJobSet")["status"], world.condition("RestartingJobSet")["reason"]) == (
        "False", "JobsReady")
    world.finish("js-w-1", "Failed")
    world.run()
    assert world.condition("Failed")["reason"] == "ReachedMaxRestarts"
    assert world.condition("RestartingJobSet")["reason"] == "JobSetFailed"


def test_recreate_waits_for_the_old_object_blocking_recreate_waits_for_all_section_16_8() -> None:
    for strategy, created_while_one_remains in (("Recreate", ["js-w-0"]), ("BlockingRecreate", [])):
        world = started(World(make_jobset(("w", 2), failurePolicy={"maxRestarts": 3,
                                                                     "restartStrategy": strategy})))
        world.keep_deleted = True
        world.finish("js-w-0", "Failed")
        world.run()
        assert job_names(world.run(), plan.CreateJob) == []
        del world.jobs["js-w-0"]
        assert job_names(world.run(), plan.CreateJob) == created_while_one_remains, strategy
        world.gc()
        assert job_names(world.run(), plan.CreateJob) == (["js-w-1"] if strategy == "Recreate"
                                                         else ["js-w-0", "js-w-1"])


RULES_POLICY = {"maxRestarts": 5, "rules": [
    {"name": "fatal", "action": "FailJobSet", "onJobFailureReasons": ["PodFailurePolicy"]},
    {"name": "oom", "action": "RestartJobSetAndIgnoreMaxRestarts", "onJobFailureMessagePatterns": ["OOM(Killed)?"]},
    {"name": "workers", "action": "RestartJobSet", "targetReplicatedJobs": ["workers"]},
]}


@pytest.mark.parametrize(("rj", "reason", "message", "expected"), [
    ("workers", "PodFailurePolicy", "", ("Failed", "FailJobSetFailurePolicyAction")),
    ("driver", "BackoffLimitExceeded", "container OOMKilled", ("RestartingJobSet", "FailurePolicy_oom")),
    ("workers", "BackoffLimitExceeded", "boom", ("RestartingJobSet", "FailurePolicy_workers")),
    ("driver", "DeadlineExceeded", "boom", ("RestartingJobSet", "DefaultFailurePolicy")),
])
def test_first_matching_rule_decides_the_action_section_10_8(rj: str, reason: str, message: str,
                                                              expected: tuple[str, str]) -> None:
    world = started(World(make_jobset(("driver", 1), ("workers", 1), failurePolicy=RULES_POLICY)))
    world.finish(f"js-{rj}-0", "Failed", reason=reason, message=message)
    world.run()
    assert world.condition(expected[0])["reason"] == expected[1]
    counted = world.jobset["status"].get("restartsCountTowardsMax", 0)
    assert counted == (0 if expected[1] in ("FailurePolicy_oom", "FailJobSetFailurePolicyAction") else 1)


def test_fail_jobset_message_names_the_earliest_applicable_job_section_16_6() -> None:
    policy = {"rules": [{"name": "r", "action": "FailJobSet", "targetReplicatedJobs": ["b"]}]}
    world = started(World(make_jobset(("a", 1), ("b", 2), failurePolicy=policy)))
    world.finish("js-a-0", "Failed", after=1)
    world.finish("js-b-1", "Failed", after=3)
    world.finish("js-b-0", "Failed", after=5)
    world.run()
    assert world.condition("Failed")["message"] == (
        "applying FailJobSet failure policy action (first failed job: js-b-1)")


def test_ignore_max_restarts_never_exhausts_the_budget_section_10_8() -> None:
    policy = {"maxRestarts": 0, "rules": [{"name": "free", "action": "RestartJobSetAndIgnoreMaxRestarts"}]}
    world = started(World(make_jobset(("w", 1), failurePolicy=policy)))
    for attempt in range(1, 4):
        world.finish("js-w-0", "Failed")
        result = world.run()
        assert world.jobset["status"]["restarts"] == attempt
        assert "restartsCountTowardsMax" not in world.jobset["status"]
        assert events(result)[0][1] == "RestartJobSetAndIgnoreMaxRestartsFailurePolicyAction"
        world.run()
        world.run()
        world.ready()
    assert world.condition("Failed") is None


def test_restart_job_actions_need_the_gate_section_10_8() -> None:
    policy = {"maxRestarts": 2, "rules": [{"name": "one", "action": "RestartJob"}]}
    world = started(World(make_jobset(("w", 2), failurePolicy=policy)))
    world.finish("js-w-1", "Failed")
    result = world.run()
    assert result.error is not None and "RestartJob feature gate" in result.error
    assert result.status is None


def test_restart_job_restarts_only_that_job_and_counts_per_index_section_10_9() -> None:
    policy = {"maxRestarts": 2, "rules": [{"name": "one", "action": "RestartJob"}]}
    world = World(make_jobset(("w", 2), failurePolicy=policy), gates={"RestartJob": True})
    started(world)
    assert world.jobs["js-w-1"]["metadata"]["labels"]["jobset.sigs.k8s.io/job-restart-attempt"] == "0"
    world.finish("js-w-1", "Failed")
    result = world.run()
    assert events(result) == [("Warning", "RestartJobFailurePolicyAction",
                               "applying RestartJob failure policy action (first failed job: js-w-1)")]
    assert world.rj_status("w")["jobRestarts"] == [0, 1]
    assert world.rj_status("w")["jobRestartsCountTowardsMax"] == [0, 1]
    assert world.jobset["status"]["restarts"] == 0 and world.condition("RestartingJobSet") is None
    assert job_names(world.run(), plan.DeleteJob) == ["js-w-1"]
    assert job_names(world.run(), plan.CreateJob) == ["js-w-1"]
    assert world.jobs["js-w-1"]["metadata"]["labels"]["jobset.sigs.k8s.io/job-restart-attempt"] == "1"
    world.finish("js-w-0", "Failed")
    world.run()
    assert world.rj_status("w")["jobRestartsCountTowardsMax"] == [1, 1]
    world.run()
    world.run()
    world.finish("js-w-0", "Failed")
    world.run()
    assert world.condition("Failed")["reason"] == "ReachedMaxRestarts"


def test_restart_job_ignoring_budget_leaves_counted_list_absent_section_16_7() -> None:
    policy = {"maxRestarts": 0, "rules": [{"name": "free", "action": "RestartJobAndIgnoreMaxRestarts"}]}
    world = World(make_jobset(("w", 2), failurePolicy=policy), gates={"RestartJob": True})
    started(world)
    world.finish("js-w-0", "Failed")
    result = world.run()
    assert events(result)[0][1] == "RestartJobAndIgnoreMaxRestartsFailurePolicyAction"
    assert world.rj_status("w")["jobRestarts"] == [1, 0]
    assert "jobRestartsCountTowardsMax" not in world.rj_status("w")


def test_restart_jobset_budget_includes_per_job_restarts_with_gate_section_10_8() -> None:
    policy = {"maxRestarts": 1, "rules": [
        {"name": "one", "action": "RestartJob", "targetReplicatedJobs": ["a"]},
        {"name": "all", "action": "RestartJobSet"}]}
    world = World(make_jobset(("a", 1), ("b", 1), failurePolicy=policy), gates={"RestartJob": True})
    started(world)
    world.finish("js-a-0", "Failed")
    world.run()
    world.run()
    world.finish("js-b-0", "Failed")
    world.run()
    assert world.condition("Failed")["reason"] == "ReachedMaxRestarts"


def test_failure_beats_success_in_the_same_pass_section_16_4() -> None:
    world = started(World(make_jobset(("a", 1), ("b", 1))))
    world.finish("js-a-0", "Complete")
    world.finish("js-b-0", "Failed")
    world.run()
    assert world.condition("Failed") is not None and world.condition("Completed") is None


def test_failed_jobset_deletes_active_jobs_and_keeps_finished_ones_section_8() -> None:
    world = started(World(make_jobset(("a", 1), ("b", 2))))
    world.finish("js-a-0", "Failed")
    world.finish("js-b-0", "Complete")
    world.run()
    result = world.run()
    assert job_names(result, plan.DeleteJob) == ["js-b-1"]
    assert result.of_type(plan.CreateJob) == [] and result.of_type(plan.WriteStatus) == []
    assert sorted(world.jobs) == ["js-a-0", "js-b-0"]
