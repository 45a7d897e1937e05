"""Suspend and resume on the real HTTP API (spec §10.10, §9.5, §6.2, §16.2, §16.10): Jobs created
suspended, suspending a running JobSet, what resume carries to existing Jobs, the `Suspended`
condition and its events, and which template fields may change; the test plays the Job controller.
"""

from __future__ import annotations

from typing import Any

import controllerharness as harness
from controllerharness import condition, counters_reach, jobset_manifest, pod_template, wait_for_jobs

JOBSET = "jobset.sigs.k8s.io/"


def test_created_suspended_jobs_counters_condition_and_event_section_9_5(cluster: harness.Cluster,
                                                                         namespace: str) -> None:
    """§9.5, §10.3, §10.5: every Job created suspended, counted as suspended; Suspended=True with
    SuspendedJobs / "jobset is suspended" and a Normal event."""
    cluster.create_jobset(namespace, jobset_manifest("idle", ("rjob-a", 1), ("rjob-b", 3), suspend=True))
    jobs = wait_for_jobs(cluster, namespace, "idle", ["idle-rjob-a-0", "idle-rjob-b-0", "idle-rjob-b-1",
                                                       "idle-rjob-b-2"])
    assert all(job["spec"]["suspend"] is True for job in jobs.values())
    counters_reach(cluster, namespace, "idle", **{"rjob-a": {"suspended": 1, "active": 0},
                                                  "rjob-b": {"suspended": 3, "active": 0}})
    suspended = harness.condition_is(cluster, namespace, "idle", "Suspended", "True")
    assert (suspended["reason"], suspended["message"]) == ("SuspendedJobs", "jobset is suspended")
    events = harness.recorded(cluster, namespace, "idle", "SuspendedJobs")
    assert ("Normal", "SuspendedJobs", "jobset is suspended") in events


def test_suspending_a_running_jobset_suspends_its_jobs_section_10_10(cluster: harness.Cluster,
                                                                     namespace: str) -> None:
    """§10.10, §16.2: a never-suspended JobSet has no Suspended condition; setting suspend true
    suspends every active Job and sets Suspended=True."""
    cluster.create_jobset(namespace, jobset_manifest("busy", ("workers", 2)))
    wait_for_jobs(cluster, namespace, "busy", ["busy-workers-0", "busy-workers-1"])
    for name in ("busy-workers-0", "busy-workers-1"):
        cluster.make_ready(namespace, name)
    jobset = counters_reach(cluster, namespace, "busy", workers={"ready": 2})
    assert condition(jobset, "Suspended") is None
    harness.update_jobset(cluster, namespace, "busy", lambda js: js["spec"].update(suspend=True))
    harness.eventually(lambda: all(job["spec"]["suspend"] for job in cluster.jobs(namespace, "busy").values()),
                       what="jobs suspended")
    assert harness.condition_is(cluster, namespace, "busy", "Suspended", "True")["reason"] == "SuspendedJobs"


def _rewrite_for_kueue(jobset: dict[str, Any]) -> None:
    """What a queueing controller changes while the JobSet is suspended, then resume."""
    template = pod_template(jobset)
    template["metadata"] = {"labels": {"queue": "q1"}, "annotations": {"admitted-by": "kueue"}}
    template["spec"]["nodeSelector"] = {"zone": "b", "flavor": "gpu"}
    template["spec"]["tolerations"] = [{"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}]
    template["spec"]["schedulingGates"] = [{"name": "example.com/topology"}]
    jobset["spec"]["suspend"] = False


def test_resume_merges_the_template_into_jobs_and_clears_start_time_section_16_10(cluster: harness.Cluster,
                                                                                  namespace: str) -> None:
    """§10.10 step 3, §16.10: labels, annotations and nodeSelector merged (the JobSet's value wins, keys
    only on the Job stay), tolerations and schedulingGates united, startTime cleared first."""
    manifest = jobset_manifest("kueued", ("workers", 2), suspend=True)
    template = pod_template(manifest)
    template["metadata"] = {"labels": {"team": "a"}}
    template["spec"]["nodeSelector"] = {"zone": "a", "pool": "x"}
    template["spec"]["tolerations"] = [{"key": "spot", "operator": "Exists"}]
    cluster.create_jobset(namespace, manifest)
    wait_for_jobs(cluster, namespace, "kueued", ["kueued-workers-0", "kueued-workers-1"])
    cluster.set_job_status(namespace, "kueued-workers-0", {"startTime": harness.now()})
    harness.update_jobset(cluster, namespace, "kueued", _rewrite_for_kueue)

    def resumed() -> dict[str, Any]:
        jobs = cluster.jobs(namespace, "kueued")
        return len(jobs) == 2 and all(not job["spec"]["suspend"] for job in jobs.values()) and jobs
    for job in harness.eventually(resumed, what="jobs resumed").values():
        pod = job["spec"]["template"]
        assert pod["metadata"]["labels"]["team"] == "a" and pod["metadata"]["labels"]["queue"] == "q1"
        assert pod["metadata"]["labels"][JOBSET + "jobset-name"] == "kueued"
        assert pod["metadata"]["annotations"]["admitted-by"] == "kueue"
        assert pod["spec"]["nodeSelector"] == {"zone": "b", "pool": "x", "flavor": "gpu"}
        assert sorted(t["key"] for t in pod["spec"]["tolerations"]) == ["gpu", "spot"]
        assert pod["spec"]["schedulingGates"] == [{"name": "example.com/topology"}]
        assert not (job.get("status") or {}).get("startTime")
    resumed_condition = harness.condition_is(cluster, namespace, "kueued", "Suspended", "False")
    assert (resumed_condition["reason"], resumed_condition["message"]) == ("ResumeJobs", "jobset is resumed")
    events = harness.recorded(cluster, namespace, "kueued", "ResumeJobs")
    assert ("Normal", "ResumeJobs", "jobset is resumed") in events


def test_suspending_after_a_restart_closes_the_restarting_condition_section_10_10(cluster: harness.Cluster,
                                                                                  namespace: str) -> None:
    """§10.10, §10.5: RestartingJobSet=True after a restart flips to False, JobSetSuspended (and its
    Normal event), on suspend."""
    cluster.create_jobset(namespace, jobset_manifest("paused", ("workers", 1), failurePolicy={"maxRestarts": 2}))
    wait_for_jobs(cluster, namespace, "paused", ["paused-workers-0"])
    cluster.fail_job(namespace, "paused-workers-0")
    harness.condition_is(cluster, namespace, "paused", "RestartingJobSet", "True")
    harness.update_jobset(cluster, namespace, "paused", lambda js: js["spec"].update(suspend=True))
    restarting = harness.condition_is(cluster, namespace, "paused", "RestartingJobSet", "False")
    assert (restarting["reason"], restarting["message"]) == ("JobSetSuspended", "jobset is suspended")
    assert ("Normal", "JobSetSuspended", "jobset is suspended") in harness.recorded(cluster, namespace, "paused",
                                                                                    "JobSetSuspended")
    assert harness.condition_is(cluster, namespace, "paused", "Suspended", "True")["reason"] == "SuspendedJobs"


def _set_image(jobset: dict[str, Any]) -> None:
    pod_template(jobset)["spec"]["containers"][0]["image"] = "busybox:2"


def _set_node_selector(jobset: dict[str, Any]) -> None:
    pod_template(jobset)["spec"]["nodeSelector"] = {"zone": "b"}


def _set_replicas(jobset: dict[str, Any]) -> None:
    jobset["spec"]["replicatedJobs"][0]["replicas"] = 3


def test_only_scheduling_fields_change_and_only_while_suspended_section_6_2(cluster: harness.Cluster,
                                                                            namespace: str) -> None:
    """§6.2: suspended, the image and replicas stay immutable; running, nodeSelector is immutable too;
    toggling suspend itself is always allowed."""
    cluster.create_jobset(namespace, jobset_manifest("fixed", ("workers", 1), suspend=True))
    wait_for_jobs(cluster, namespace, "fixed", ["fixed-workers-0"])
    for change in (_set_image, _set_replicas):
        body = harness.refused_update(cluster, namespace, "fixed", change)
        assert "spec.replicatedJobs" in body and "field is immutable" in body
    harness.update_jobset(cluster, namespace, "fixed", _set_node_selector)
    harness.update_jobset(cluster, namespace, "fixed", lambda js: js["spec"].update(suspend=False))
    assert "field is immutable" in harness.refused_update(
        cluster, namespace, "fixed", lambda js: pod_template(js)["spec"].update(nodeSelector={"zone": "c"}))
    harness.update_jobset(cluster, namespace, "fixed", lambda js: js["spec"].update(suspend=True))
    harness.eventually(lambda: cluster.jobs(namespace, "fixed")["fixed-workers-0"]["spec"]["suspend"] is True,
                       what="suspended again")


def test_without_the_elastic_gate_sizes_are_immutable_section_6_2(cluster: harness.Cluster, namespace: str) -> None:
    """§4, §6.2: with gate ElasticJobSet off (this installation), parallelism/completions of an
    Indexed replicated job are immutable like the rest of the template."""
    manifest = jobset_manifest("sized", ("workers", 1))
    manifest["spec"]["replicatedJobs"][0]["template"]["spec"].update(completionMode="Indexed", parallelism=2,
                                                                     completions=2)
    cluster.create_jobset(namespace, manifest)

    def grow(jobset: dict[str, Any]) -> None:
        jobset["spec"]["replicatedJobs"][0]["template"]["spec"].update(parallelism=4, completions=4)
    body = harness.refused_update(cluster, namespace, "sized", grow)
    assert "spec.replicatedJobs" in body and "field is immutable" in body
