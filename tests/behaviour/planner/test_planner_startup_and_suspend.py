"""dependsOn, InOrder startup, suspend and resume (spec §10.10, §10.11, §10.12, §16.9, §16.10)."""

from __future__ import annotations

from planworld import World, events, job_names, make_jobset

from engine.planner import plan


def depends(world_spec: dict, rj: int, name: str, status: str) -> dict:
    world_spec["spec"]["replicatedJobs"][rj]["dependsOn"] = [{"name": name, "status": status}]
    return world_spec


def test_depends_on_ready_waits_for_every_dependency_job_section_10_11() -> None:
    world = World(depends(make_jobset(("init", 2), ("main", 1)), 1, "init", "Ready"))
    assert job_names(world.run(), plan.CreateJob) == ["js-init-0", "js-init-1"]
    world.ready("js-init-0")
    assert job_names(world.run(), plan.CreateJob) == []
    world.ready("js-init-1")
    created = world.run().of_type(plan.CreateJob)  # the gate reads this pass's fresh counters
    assert [c.job["metadata"]["name"] for c in created] == ["js-main-0"]
    assert created[0].job["spec"]["suspend"] is False


def test_depends_on_complete_needs_every_dependency_job_succeeded_section_10_11() -> None:
    world = World(depends(make_jobset(("init", 1), ("main", 1)), 1, "init", "Complete"))
    world.run()
    world.ready()
    world.run()
    assert "js-main-0" not in world.jobs
    world.finish("js-init-0", "Complete")
    world.run()
    assert "js-main-0" in world.jobs


def test_self_dependency_never_runs_section_16_12() -> None:
    world = World(depends(make_jobset(("a", 1), ("b", 1)), 1, "b", "Complete"))
    world.settle()
    assert sorted(world.jobs) == ["js-a-0"]


def test_in_order_creates_one_replicated_job_at_a_time_then_completes_section_10_12() -> None:
    world = World(make_jobset(("a", 1), ("b", 2), startupPolicy={"startupPolicyOrder": "InOrder"}))
    result = world.run()
    assert job_names(result, plan.CreateJob) == ["js-a-0"]
    assert events(result) == [("Normal", "InOrderStartupPolicyInProgress", "in order startup policy is in progress")]
    world.ready("js-a-0")
    assert job_names(world.run(), plan.CreateJob) == ["js-b-0", "js-b-1"]
    world.ready()
    world.settle()
    assert world.condition("StartupPolicyCompleted")["status"] == "True"
    assert world.condition("StartupPolicyInProgress")["status"] == "False"


def test_suspended_jobset_creates_suspended_jobs_ignoring_in_order_section_16_9() -> None:
    world = World(make_jobset(("a", 1), ("b", 1), suspend=True, startupPolicy={"startupPolicyOrder": "InOrder"}))
    result = world.run()
    assert job_names(result, plan.CreateJob) == ["js-a-0", "js-b-0"]
    assert all(c.job["spec"]["suspend"] for c in result.of_type(plan.CreateJob))
    assert world.condition("Suspended")["reason"] == "SuspendedJobs"
    assert world.condition("StartupPolicyInProgress") is None


def test_suspended_jobset_still_honours_depends_on_section_10_11() -> None:
    world = World(depends(make_jobset(("a", 1), ("b", 1), suspend=True), 1, "a", "Ready"))
    world.settle()
    assert sorted(world.jobs) == ["js-a-0"]


def test_never_suspended_jobset_has_no_suspended_condition_section_16_2() -> None:
    world = World(make_jobset(("a", 1)))
    world.settle()
    assert world.condition("Suspended") is None and world.condition("RestartingJobSet") is None


def test_suspend_then_resume_merges_template_and_resets_start_time_section_10_10() -> None:
    world = World(make_jobset(("w", 1)))
    world.run()
    world.jobs["js-w-0"]["status"] = {"startTime": "2026-03-01T12:00:00Z", "active": 1}
    world.jobset["spec"]["suspend"] = True
    result = world.run()
    assert [u.job["spec"]["suspend"] for u in result.of_type(plan.UpdateJob)] == [True]
    pod = world.jobs["js-w-0"]["spec"]["template"]
    pod["metadata"]["labels"]["mine"] = "kept"
    pod["spec"]["tolerations"] = [{"key": "old", "operator": "Exists"}]
    template = world.jobset["spec"]["replicatedJobs"][0]["template"]["spec"]["template"]
    template.setdefault("metadata", {})["labels"] = {"kueue": "flavor-a", "mine": "overridden"}
    template["spec"].update(nodeSelector={"pool": "a"}, tolerations=[{"key": "new", "operator": "Exists"}],
                            schedulingGates=[{"name": "gate"}])
    world.jobset["spec"]["suspend"] = False
    result = world.run()
    (update,) = result.of_type(plan.UpdateJob)
    assert update.reset_start_time and update.job["spec"]["suspend"] is False
    pod = update.job["spec"]["template"]
    assert pod["metadata"]["labels"]["kueue"] == "flavor-a" and pod["metadata"]["labels"]["mine"] == "overridden"
    assert pod["metadata"]["labels"]["jobset.sigs.k8s.io/jobset-name"] == "js"
    assert pod["spec"]["nodeSelector"] == {"pool": "a"}
    assert pod["spec"]["tolerations"] == [{"key": "old", "operator": "Exists"}, {"key": "new", "operator": "Exists"}]
    assert pod["spec"]["schedulingGates"] == [{"name": "gate"}]
    assert (world.condition("Suspended")["status"], world.condition("Suspended")["reason"]) == ("False", "ResumeJobs")


def test_suspend_after_restart_flips_restarting_condition_section_10_10() -> None:
    world = World(make_jobset(("w", 1), failurePolicy={"maxRestarts": 2}))
    world.run()
    world.finish("js-w-0", "Failed")
    world.run()
    world.jobset["spec"]["suspend"] = True
    world.settle()
    assert world.condition("RestartingJobSet")["reason"] == "JobSetSuspended"
    assert world.condition("RestartingJobSet")["status"] == "False"


def test_resume_with_in_order_keeps_suspended_true_until_all_started_section_16_9() -> None:
    world = World(make_jobset(("a", 1), ("b", 1), suspend=True, startupPolicy={"startupPolicyOrder": "InOrder"}))
    world.settle()
    world.jobset["spec"]["suspend"] = False
    result = world.run()
    assert job_names(result, plan.UpdateJob) == ["js-a-0"]
    assert world.condition("Suspended")["status"] == "True"
    assert world.condition("StartupPolicyInProgress")["status"] == "True"
    world.ready("js-a-0")
    assert job_names(world.run(), plan.UpdateJob) == ["js-b-0"]
    world.ready("js-b-0")
    world.settle()
    assert world.condition("Suspended")["status"] == "False"
    assert world.condition("StartupPolicyCompleted")["status"] == "True"


def test_in_order_runs_again_after_a_global_restart_section_10_12() -> None:
    world = World(make_jobset(("a", 1), ("b", 1), startupPolicy={"startupPolicyOrder": "InOrder"},
                              failurePolicy={"maxRestarts": 1}))
    for name in ("js-a-0", "js-b-0"):
        world.run()
        world.ready(name)
    world.settle()
    assert world.condition("StartupPolicyCompleted")["status"] == "True"
    world.finish("js-b-0", "Failed")
    world.settle()
    assert sorted(world.jobs) == ["js-a-0"]
    assert world.condition("StartupPolicyInProgress")["status"] == "True"
    assert world.condition("StartupPolicyCompleted")["status"] == "False"
    world.ready("js-a-0")
    world.run()
    assert sorted(world.jobs) == ["js-a-0", "js-b-0"]
    assert world.jobs["js-b-0"]["metadata"]["labels"]["jobset.sigs.k8s.io/restart-attempt"] == "1"
