"""Startup gating on the real HTTP API: `dependsOn` (spec §10.11, §16.12) and the `InOrder` startup
policy (spec §10.12, §16.9), with their conditions and events; the test plays the Job controller.

A replicated job's counters in the status are the barrier before asserting what was *not* created:
the controller writes the status after the creations of the same pass.
"""

from __future__ import annotations

from typing import Any

import controllerharness as harness
from controllerharness import condition, counters_reach, jobset_manifest, ready_jobs, wait_for_jobs

IN_ORDER = {"startupPolicyOrder": "InOrder"}
ZERO = {"ready": 0, "succeeded": 0, "failed": 0, "active": 0, "suspended": 0}


def depending(name: str, *replicated: tuple[str, int, list[dict[str, str]]], **spec: Any) -> dict[str, Any]:
    """A JobSet whose replicated jobs (name, replicas, dependsOn) run one pod per Job."""
    manifest = jobset_manifest(name, *((rj, replicas) for rj, replicas, _ in replicated), **spec)
    for entry, (_, _, depends_on) in zip(manifest["spec"]["replicatedJobs"], replicated):
        if depends_on:
            entry["dependsOn"] = depends_on
    return manifest


def names(jobset: str, rj: str, replicas: int) -> list[str]:
    return [f"{jobset}-{rj}-{index}" for index in range(replicas)]


def test_depends_on_ready_creates_the_dependent_once_the_dependency_is_ready_section_10_11(
        cluster: harness.Cluster, namespace: str) -> None:
    """§10.11: rjob-b depends on rjob-a Ready: its 3 Jobs appear, unsuspended, once rjob-a's Job is ready."""
    cluster.create_jobset(namespace, depending("dr", ("rjob-a", 1, []),
                                               ("rjob-b", 3, [{"name": "rjob-a", "status": "Ready"}])))
    wait_for_jobs(cluster, namespace, "dr", ["dr-rjob-a-0"])
    counters_reach(cluster, namespace, "dr", **{"rjob-b": ZERO})
    assert sorted(harness.live_jobs(cluster, namespace, "dr")) == ["dr-rjob-a-0"]
    ready_jobs(cluster, namespace, "dr", "rjob-a")
    jobs = wait_for_jobs(cluster, namespace, "dr", names("dr", "rjob-a", 1) + names("dr", "rjob-b", 3))
    assert not any(job["spec"]["suspend"] for job in jobs.values())
    ready_jobs(cluster, namespace, "dr", "rjob-b")
    counters_reach(cluster, namespace, "dr", **{"rjob-a": {"ready": 1, "active": 1},
                                                "rjob-b": {"ready": 3, "active": 3}})


def test_depends_on_chain_complete_then_ready_section_10_11(cluster: harness.Cluster, namespace: str) -> None:
    """§10.11: rjob-b waits for rjob-a Complete, rjob-c for rjob-b Ready; then everything completes."""
    cluster.create_jobset(namespace, depending("chain", ("rjob-a", 1, []),
                                               ("rjob-b", 1, [{"name": "rjob-a", "status": "Complete"}]),
                                               ("rjob-c", 3, [{"name": "rjob-b", "status": "Ready"}])))
    wait_for_jobs(cluster, namespace, "chain", ["chain-rjob-a-0"])
    cluster.make_ready(namespace, "chain-rjob-a-0")
    counters_reach(cluster, namespace, "chain", **{"rjob-a": {"ready": 1}})
    assert sorted(harness.live_jobs(cluster, namespace, "chain")) == ["chain-rjob-a-0"]
    cluster.complete_job(namespace, "chain-rjob-a-0")
    wait_for_jobs(cluster, namespace, "chain", ["chain-rjob-a-0", "chain-rjob-b-0"])
    counters_reach(cluster, namespace, "chain", **{"rjob-a": {"succeeded": 1}})
    ready_jobs(cluster, namespace, "chain", "rjob-b")
    every = ["chain-rjob-a-0", "chain-rjob-b-0"] + names("chain", "rjob-c", 3)
    wait_for_jobs(cluster, namespace, "chain", every)
    for name in every[1:]:
        cluster.complete_job(namespace, name)
    jobset = counters_reach(cluster, namespace, "chain", **{"rjob-a": {"succeeded": 1}, "rjob-b": {"succeeded": 1},
                                                             "rjob-c": {"succeeded": 3}})
    harness.condition_is(cluster, namespace, "chain", "Completed", "True")
    assert jobset["status"]["replicatedJobsStatus"]


def test_depends_on_two_complete_dependencies_needs_both_section_10_11(cluster: harness.Cluster,
                                                                       namespace: str) -> None:
    """§10.11: every dependsOn entry must hold: rjob-c waits for both rjob-a and rjob-b to complete."""
    cluster.create_jobset(namespace, depending("both", ("rjob-a", 1, []), ("rjob-b", 1, []), ("rjob-c", 3, [
        {"name": "rjob-a", "status": "Complete"}, {"name": "rjob-b", "status": "Complete"}])))
    wait_for_jobs(cluster, namespace, "both", ["both-rjob-a-0", "both-rjob-b-0"])
    cluster.complete_job(namespace, "both-rjob-a-0")
    counters_reach(cluster, namespace, "both", **{"rjob-a": {"succeeded": 1}})
    assert sorted(harness.live_jobs(cluster, namespace, "both")) == ["both-rjob-a-0", "both-rjob-b-0"]
    cluster.complete_job(namespace, "both-rjob-b-0")
    wait_for_jobs(cluster, namespace, "both", ["both-rjob-a-0", "both-rjob-b-0"] + names("both", "rjob-c", 3))


def test_depends_on_ready_and_complete_of_two_dependencies_section_10_11(cluster: harness.Cluster,
                                                                         namespace: str) -> None:
    """§10.11: rjob-c needs rjob-a Ready and rjob-b Complete; a ready rjob-b is not enough."""
    cluster.create_jobset(namespace, depending("mixed", ("rjob-a", 1, []), ("rjob-b", 1, []), ("rjob-c", 3, [
        {"name": "rjob-a", "status": "Ready"}, {"name": "rjob-b", "status": "Complete"}])))
    wait_for_jobs(cluster, namespace, "mixed", ["mixed-rjob-a-0", "mixed-rjob-b-0"])
    ready_jobs(cluster, namespace, "mixed", "rjob-a")
    ready_jobs(cluster, namespace, "mixed", "rjob-b")
    counters_reach(cluster, namespace, "mixed", **{"rjob-a": {"ready": 1}, "rjob-b": {"ready": 1}})
    assert sorted(harness.live_jobs(cluster, namespace, "mixed")) == ["mixed-rjob-a-0", "mixed-rjob-b-0"]
    cluster.complete_job(namespace, "mixed-rjob-b-0")
    wait_for_jobs(cluster, namespace, "mixed", ["mixed-rjob-a-0", "mixed-rjob-b-0"] + names("mixed", "rjob-c", 3))


def test_self_dependency_is_admitted_and_never_runs_section_16_12(cluster: harness.Cluster, namespace: str) -> None:
    """§16.12: a replicated job depending on itself passes admission and is never created; the others are."""
    cluster.create_jobset(namespace, depending("selfish", ("free", 1, []),
                                               ("loop", 2, [{"name": "loop", "status": "Ready"}])))
    wait_for_jobs(cluster, namespace, "selfish", ["selfish-free-0"])
    cluster.make_ready(namespace, "selfish-free-0")
    counters_reach(cluster, namespace, "selfish", free={"ready": 1}, loop=ZERO)
    assert sorted(harness.live_jobs(cluster, namespace, "selfish")) == ["selfish-free-0"]


def test_resume_with_depends_on_creates_the_dependent_after_its_dependency_is_ready_section_10_11(
        cluster: harness.Cluster, namespace: str) -> None:
    """§10.10, §10.11: suspended, only rjob-a exists (suspended); resumed, rjob-a runs, and rjob-b is
    created unsuspended once rjob-a is ready."""
    cluster.create_jobset(namespace, depending("later", ("rjob-a", 1, []),
                                               ("rjob-b", 3, [{"name": "rjob-a", "status": "Ready"}]), suspend=True))
    wait_for_jobs(cluster, namespace, "later", ["later-rjob-a-0"])
    counters_reach(cluster, namespace, "later", **{"rjob-a": {"suspended": 1}, "rjob-b": ZERO})
    harness.update_jobset(cluster, namespace, "later", lambda js: js["spec"].update(suspend=False))
    counters_reach(cluster, namespace, "later", **{"rjob-a": {"suspended": 0}})
    assert sorted(harness.live_jobs(cluster, namespace, "later")) == ["later-rjob-a-0"]
    ready_jobs(cluster, namespace, "later", "rjob-a")
    jobs = wait_for_jobs(cluster, namespace, "later", ["later-rjob-a-0"] + names("later", "rjob-b", 3))
    assert not any(job["spec"]["suspend"] for job in jobs.values())
    harness.condition_is(cluster, namespace, "later", "Suspended", "False")


def test_in_order_waits_for_every_replica_to_be_ready_not_just_active_section_10_12(cluster: harness.Cluster,
                                                                                    namespace: str) -> None:
    """§10.12: rjob-b is created after rjob-a is ready; active-but-not-ready rjob-b Jobs keep
    StartupPolicyInProgress; all ready completes the startup, with its events."""
    cluster.create_jobset(namespace, jobset_manifest("order", ("rjob-a", 1), ("rjob-b", 3), startupPolicy=IN_ORDER))
    wait_for_jobs(cluster, namespace, "order", ["order-rjob-a-0"])
    harness.condition_is(cluster, namespace, "order", "StartupPolicyInProgress", "True")
    ready_jobs(cluster, namespace, "order", "rjob-a")
    wait_for_jobs(cluster, namespace, "order", ["order-rjob-a-0"] + names("order", "rjob-b", 3))
    for name in names("order", "rjob-b", 3):
        cluster.set_job_status(namespace, name, {"startTime": harness.now(), "active": 1, "ready": 0})
    jobset = counters_reach(cluster, namespace, "order", **{"rjob-b": {"active": 3, "ready": 0}})
    assert condition(jobset, "StartupPolicyInProgress")["status"] == "True"
    assert condition(jobset, "StartupPolicyCompleted") is None
    ready_jobs(cluster, namespace, "order", "rjob-b")
    completed = harness.condition_is(cluster, namespace, "order", "StartupPolicyCompleted", "True")
    assert (completed["reason"], completed["message"]) == ("InOrderStartupPolicyCompleted",
                                                           "in order startup policy has completed")
    progress = condition(cluster.jobset(namespace, "order"), "StartupPolicyInProgress")
    assert (progress["status"], progress["reason"]) == ("False", "InOrderStartupPolicyInProgress")
    events = harness.recorded(cluster, namespace, "order", "InOrderStartupPolicyCompleted")
    assert ("Normal", "InOrderStartupPolicyInProgress", "in order startup policy is in progress") in events
    assert ("Normal", "InOrderStartupPolicyCompleted", "in order startup policy has completed") in events


def test_in_order_runs_again_after_a_restart_section_10_12(cluster: harness.Cluster, namespace: str) -> None:
    """§10.12, §10.9: after a global restart only rjob-a comes back first, InProgress is True again,
    and the sequence completes again with every Job of attempt 1."""
    cluster.create_jobset(namespace, jobset_manifest("rerun", ("rjob-a", 1), ("rjob-b", 2), startupPolicy=IN_ORDER,
                                                     failurePolicy={"maxRestarts": 1}))
    wait_for_jobs(cluster, namespace, "rerun", ["rerun-rjob-a-0"])
    ready_jobs(cluster, namespace, "rerun", "rjob-a")
    wait_for_jobs(cluster, namespace, "rerun", ["rerun-rjob-a-0", "rerun-rjob-b-0", "rerun-rjob-b-1"])
    ready_jobs(cluster, namespace, "rerun", "rjob-b")
    harness.condition_is(cluster, namespace, "rerun", "StartupPolicyCompleted", "True")
    cluster.fail_job(namespace, "rerun-rjob-b-1")
    harness.eventually(lambda: harness.restart_attempts(cluster, namespace, "rerun") == {"rerun-rjob-a-0": "1"},
                       what="only rjob-a of attempt 1")
    harness.condition_is(cluster, namespace, "rerun", "StartupPolicyInProgress", "True")
    assert condition(cluster.jobset(namespace, "rerun"), "StartupPolicyCompleted")["status"] == "False"
    ready_jobs(cluster, namespace, "rerun", "rjob-a")
    harness.eventually(lambda: len(harness.restart_attempts(cluster, namespace, "rerun")) == 3, what="rjob-b again")
    ready_jobs(cluster, namespace, "rerun", "rjob-b")
    harness.condition_is(cluster, namespace, "rerun", "StartupPolicyCompleted", "True")
    assert set(harness.restart_attempts(cluster, namespace, "rerun").values()) == {"1"}


def test_in_order_is_not_applied_while_suspended_section_16_9(cluster: harness.Cluster, namespace: str) -> None:
    """§16.9, §10.12: suspended + InOrder: every Job is created suspended and no startup condition appears."""
    cluster.create_jobset(namespace, jobset_manifest("parked", ("rjob-a", 1), ("rjob-b", 3), startupPolicy=IN_ORDER,
                                                     suspend=True))
    jobs = wait_for_jobs(cluster, namespace, "parked", ["parked-rjob-a-0"] + names("parked", "rjob-b", 3))
    assert all(job["spec"]["suspend"] for job in jobs.values())
    jobset = counters_reach(cluster, namespace, "parked", **{"rjob-a": {"suspended": 1}, "rjob-b": {"suspended": 3}})
    harness.condition_is(cluster, namespace, "parked", "Suspended", "True")
    assert condition(jobset, "StartupPolicyInProgress") is None and condition(jobset, "StartupPolicyCompleted") is None


def test_any_order_resume_unsuspends_every_job_section_10_10(cluster: harness.Cluster, namespace: str) -> None:
    """§10.10, §10.12: AnyOrder: resuming unsuspends all Jobs at once; Suspended=False, ResumeJobs; no
    startup condition ever."""
    cluster.create_jobset(namespace, jobset_manifest("any", ("rjob-a", 1), ("rjob-b", 3), suspend=True,
                                                     startupPolicy={"startupPolicyOrder": "AnyOrder"}))
    counters_reach(cluster, namespace, "any", **{"rjob-a": {"suspended": 1}, "rjob-b": {"suspended": 3}})
    harness.update_jobset(cluster, namespace, "any", lambda js: js["spec"].update(suspend=False))
    counters_reach(cluster, namespace, "any", **{"rjob-a": {"suspended": 0}, "rjob-b": {"suspended": 0}})
    resumed = harness.condition_is(cluster, namespace, "any", "Suspended", "False")
    assert (resumed["reason"], resumed["message"]) == ("ResumeJobs", "jobset is resumed")
    jobset = cluster.jobset(namespace, "any")
    assert condition(jobset, "StartupPolicyInProgress") is None and condition(jobset, "StartupPolicyCompleted") is None


def test_in_order_resume_goes_one_replicated_job_at_a_time_section_16_9(cluster: harness.Cluster,
                                                                        namespace: str) -> None:
    """§10.10 steps 2-4, §16.9: resume unsuspends rjob-a only; Suspended stays True and InProgress is
    set until rjob-b has started too; then Suspended=False and StartupPolicyCompleted=True."""
    cluster.create_jobset(namespace, jobset_manifest("seq", ("rjob-a", 1), ("rjob-b", 3), startupPolicy=IN_ORDER,
                                                     suspend=True))
    counters_reach(cluster, namespace, "seq", **{"rjob-a": {"suspended": 1}, "rjob-b": {"suspended": 3}})
    harness.update_jobset(cluster, namespace, "seq", lambda js: js["spec"].update(suspend=False))
    jobset = counters_reach(cluster, namespace, "seq", **{"rjob-a": {"suspended": 0}, "rjob-b": {"suspended": 3}})
    assert condition(jobset, "Suspended")["status"] == "True"
    harness.condition_is(cluster, namespace, "seq", "StartupPolicyInProgress", "True")
    ready_jobs(cluster, namespace, "seq", "rjob-a")
    jobset = counters_reach(cluster, namespace, "seq", **{"rjob-a": {"ready": 1}, "rjob-b": {"suspended": 0}})
    assert condition(jobset, "Suspended")["status"] == "True"
    ready_jobs(cluster, namespace, "seq", "rjob-b")
    harness.condition_is(cluster, namespace, "seq", "StartupPolicyCompleted", "True")
    resumed = harness.condition_is(cluster, namespace, "seq", "Suspended", "False")
    assert resumed["reason"] == "ResumeJobs"


def test_depends_on_goes_with_any_order_not_in_order_section_6_1(cluster: harness.Cluster, namespace: str) -> None:
    """§6.1 S-8, §10.11: dependsOn is admitted with startupPolicyOrder AnyOrder, refused with InOrder."""
    steps = (("rjob-a", 1, []), ("rjob-b", 1, [{"name": "rjob-a", "status": "Ready"}]))
    cluster.create_jobset(namespace, depending("anyorder", *steps, startupPolicy={"startupPolicyOrder": "AnyOrder"}))
    error = harness.rejected(lambda: cluster.create_jobset(namespace, depending("inorder", *steps,
                                                                                 startupPolicy=IN_ORDER)))
    assert error.status == 422 and '"field":"spec"' in error.body.replace(" ", ""), error.body


def test_depends_on_is_immutable_section_6_2(cluster: harness.Cluster, namespace: str) -> None:
    """§6.2: a replicated job's dependsOn cannot change after creation."""
    cluster.create_jobset(namespace, depending("pinned", ("rjob-a", 1, []),
                                               ("rjob-b", 1, [{"name": "rjob-a", "status": "Ready"}])))
    body = harness.refused_update(cluster, namespace, "pinned", lambda js: js["spec"]["replicatedJobs"][1].update(
        dependsOn=[{"name": "rjob-a", "status": "Complete"}]))
    assert "spec.replicatedJobs[1].dependsOn" in body
