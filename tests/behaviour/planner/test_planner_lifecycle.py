"""Creation, counters, success and TTL of a plain JobSet (spec §8, §9.1, §10.3, §10.7, §10.13)."""

from __future__ import annotations

from planworld import World, events, job_names, make_jobset

from engine.planner import plan


def test_first_pass_creates_service_and_every_job_and_zero_counters_section_8() -> None:
    world = World(make_jobset(("leader", 1), ("workers", 2)))
    result = world.run()
    assert job_names(result, plan.CreateJob) == ["js-leader-0", "js-workers-0", "js-workers-1"]
    assert result.of_type(plan.CreateService)[0].service["spec"]["clusterIP"] == "None"
    assert result.status == {"restarts": 0, "replicatedJobsStatus": [
        {"name": "leader", "ready": 0, "succeeded": 0, "failed": 0, "active": 0, "suspended": 0},
        {"name": "workers", "ready": 0, "succeeded": 0, "failed": 0, "active": 0, "suspended": 0}]}
    assert isinstance(result.actions[-1], plan.WriteStatus)
    assert world.run().actions == ()


def test_ready_counts_min_of_parallelism_and_completions_section_10_3() -> None:
    world = World(make_jobset(("w", 2)))
    world.run()
    job = world.jobs["js-w-0"]
    job["spec"].update(parallelism=4, completions=2)
    job["status"] = {"ready": 1, "succeeded": 1, "active": 1}
    world.jobs["js-w-1"]["status"] = {"ready": 0, "active": 1}
    world.run()
    assert world.rj_status("w") == {"name": "w", "ready": 1, "succeeded": 0, "failed": 0, "active": 2,
                                    "suspended": 0}


def test_all_jobs_succeeded_completes_and_finished_pass_deletes_active_section_10_7() -> None:
    world = World(make_jobset(("a", 1), ("b", 1)))
    world.run()
    world.finish("js-a-0", "Complete")
    assert world.run().status["replicatedJobsStatus"][0]["succeeded"] == 1
    assert world.condition("Completed") is None
    world.finish("js-b-0", "Complete")
    result = world.run()
    assert world.condition("Completed")["reason"] == "AllJobsCompleted"
    assert world.jobset["status"]["terminalState"] == "Completed"
    assert events(result) == [("Normal", "AllJobsCompleted", "jobset completed successfully")]
    assert result.of_type(plan.Record) == [plan.Record("completed")]  # §10.15


def test_success_any_with_targets_section_10_7() -> None:
    world = World(make_jobset(("driver", 1), ("workers", 3),
                              successPolicy={"operator": "Any", "targetReplicatedJobs": ["driver"]}))
    world.run()
    world.finish("js-workers-0", "Complete")
    world.run()
    assert world.condition("Completed") is None
    world.finish("js-driver-0", "Complete")
    world.run()
    assert world.condition("Completed")["status"] == "True"
    result = world.run()
    assert job_names(result, plan.DeleteJob) == ["js-workers-1", "js-workers-2"]
    assert result.of_type(plan.WriteStatus) == []


def test_success_all_with_targets_ignores_other_replicated_jobs_section_10_7() -> None:
    world = World(make_jobset(("driver", 1), ("workers", 2),
                              successPolicy={"operator": "All", "targetReplicatedJobs": ["workers"]}))
    world.run()
    world.finish("js-workers-0", "Complete")
    world.run()
    assert world.condition("Completed") is None
    world.finish("js-workers-1", "Complete")
    world.run()
    assert world.condition("Completed")["status"] == "True"


def test_zero_replicas_never_completes_section_16_13() -> None:
    world = World(make_jobset(("w", 0)))
    world.settle()
    assert world.jobs == {} and world.condition("Completed") is None


def test_ttl_requeues_then_deletes_the_jobset_section_10_13() -> None:
    world = World(make_jobset(("w", 1), ttlSecondsAfterFinished=5))
    world.run()
    world.finish("js-w-0", "Complete")
    world.run()
    world.tick(2)
    assert world.run().requeue_after == 3
    world.tick(3)
    assert world.run().of_type(plan.DeleteJobSet) == [plan.DeleteJobSet(name="js")]


def test_ttl_zero_deletes_on_first_finished_pass_section_10_13() -> None:
    world = World(make_jobset(("w", 1), ttlSecondsAfterFinished=0))
    world.run()
    world.finish("js-w-0", "Complete")
    world.run()
    assert world.run().of_type(plan.DeleteJobSet) == [plan.DeleteJobSet(name="js")]


def test_managed_by_another_controller_or_deleting_does_nothing_section_8() -> None:
    foreign = World(make_jobset(("w", 1), managedBy="kueue.x-k8s.io/multikueue"))
    assert foreign.run() == plan.Plan(trace=foreign.history[0].trace)
    assert foreign.history[0].actions == () and foreign.jobs == {}
    deleting = World(make_jobset(("w", 1)))
    deleting.jobset["metadata"]["deletionTimestamp"] = "2026-03-01T12:00:00Z"
    assert deleting.run().actions == ()


def test_own_controller_name_in_managed_by_is_reconciled_section_8() -> None:
    world = World(make_jobset(("w", 1), managedBy="jobset.sigs.k8s.io/jobset-controller"))
    assert job_names(world.run(), plan.CreateJob) == ["js-w-0"]


def test_malformed_restart_attempt_label_fails_the_pass_section_10_1() -> None:
    world = World(make_jobset(("w", 1)))
    world.run()
    world.jobs["js-w-0"]["metadata"]["labels"]["jobset.sigs.k8s.io/restart-attempt"] = "x"
    result = world.run()
    assert result.error is not None and "js-w-0" in result.error and result.actions == ()
