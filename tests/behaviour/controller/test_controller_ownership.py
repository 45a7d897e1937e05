"""Who acts on a JobSet, on the real HTTP API: `managedBy` another controller (spec §8 step 3, §6.2)
and deletion after `ttlSecondsAfterFinished` (spec §10.13); the test plays the Job controller.

A JobSet of ours, reconciled after each step, is the barrier before asserting that nothing happened.
"""

from __future__ import annotations

from typing import Any

import kubernetes

import controllerharness as harness
from controllerharness import condition, jobset_manifest, wait_for_jobs

OTHER = "example.com/other-controller"


def barrier(cluster: harness.Cluster, namespace: str, name: str, ready: int) -> None:
    """Mark Job `ready - 1` of our JobSet ready and wait for the controller to count it."""
    cluster.make_ready(namespace, f"{name}-workers-{ready - 1}")
    harness.counters_reach(cluster, namespace, name, workers={"ready": ready})


def test_foreign_jobset_gets_no_jobs_suspended_or_resumed_section_8(cluster: harness.Cluster, namespace: str) -> None:
    """§8 step 3: managedBy another controller: no Jobs, Service or status while suspended, nor once
    resumed (suspend stays mutable, §6.2)."""
    cluster.create_jobset(namespace, jobset_manifest("foreign", ("workers", 1), managedBy=OTHER, suspend=True))
    cluster.create_jobset(namespace, jobset_manifest("ours", ("workers", 3)))
    wait_for_jobs(cluster, namespace, "ours", ["ours-workers-0", "ours-workers-1", "ours-workers-2"])
    barrier(cluster, namespace, "ours", 1)
    assert cluster.jobs(namespace, "foreign") == {} and not cluster.jobset(namespace, "foreign").get("status")
    harness.update_jobset(cluster, namespace, "foreign", lambda js: js["spec"].update(suspend=False))
    barrier(cluster, namespace, "ours", 2)
    assert cluster.jobs(namespace, "foreign") == {} and not cluster.jobset(namespace, "foreign").get("status")
    assert harness.found(lambda: cluster.core.read_namespaced_service("foreign", namespace)) is None


def test_status_written_by_the_other_controller_is_kept_section_8(cluster: harness.Cluster, namespace: str) -> None:
    """§8 step 3: the status the managing controller writes stays exactly as written."""
    cluster.create_jobset(namespace, jobset_manifest("kept", ("workers", 1), managedBy=OTHER))
    cluster.create_jobset(namespace, jobset_manifest("mine", ("workers", 1)))
    written: dict[str, Any] = {
        "conditions": [{"type": "Failed", "status": "False", "reason": "ByTest", "message": "",
                        "lastTransitionTime": harness.now()}],
        "restarts": 1,
        "replicatedJobsStatus": [{"name": "workers", "ready": 2, "succeeded": 3, "failed": 4, "active": 5,
                                  "suspended": 6}]}
    jobset = cluster.jobset(namespace, "kept")
    jobset["status"] = written
    cluster.custom.replace_namespaced_custom_object_status(harness.GROUP, harness.VERSION, namespace, harness.PLURAL,
                                                          "kept", jobset)
    wait_for_jobs(cluster, namespace, "mine", ["mine-workers-0"])
    cluster.make_ready(namespace, "mine-workers-0")
    harness.counters_reach(cluster, namespace, "mine", workers={"ready": 1})
    assert cluster.jobset(namespace, "kept")["status"] == written


def test_managed_by_is_immutable_and_our_own_name_is_reconciled_section_6_2(cluster: harness.Cluster,
                                                                            namespace: str) -> None:
    """§6.2 rule 1, §8 step 3: managedBy cannot be set, changed or removed after creation; naming
    this controller (jobset.sigs.k8s.io/jobset-controller) reconciles as usual."""
    cluster.create_jobset(namespace, jobset_manifest("self", ("workers", 1),
                                                     managedBy="jobset.sigs.k8s.io/jobset-controller"))
    wait_for_jobs(cluster, namespace, "self", ["self-workers-0"])
    for value in (OTHER, None):
        body = harness.refused_update(cluster, namespace, "self", lambda js: js["spec"].update(managedBy=value))
        assert "spec.managedBy" in body and "field is immutable" in body


def test_ttl_deletes_the_finished_jobset_after_its_delay_and_only_that_one_section_10_13(
        cluster: harness.Cluster, namespace: str) -> None:
    """§10.13, §8 step 6: failed with TTL 2 s, its active Job is deleted at once, the JobSet itself
    only after the delay; a completed JobSet without TTL stays."""
    cluster.create_jobset(namespace, jobset_manifest("short", ("workers", 2), ttlSecondsAfterFinished=2))
    cluster.create_jobset(namespace, jobset_manifest("long", ("workers", 1)))
    wait_for_jobs(cluster, namespace, "short", ["short-workers-0", "short-workers-1"])
    wait_for_jobs(cluster, namespace, "long", ["long-workers-0"])
    cluster.complete_job(namespace, "long-workers-0")
    cluster.fail_job(namespace, "short-workers-0")
    harness.condition_is(cluster, namespace, "short", "Failed", "True")
    harness.eventually(lambda: "short-workers-1" not in harness.live_jobs(cluster, namespace, "short"),
                       what="the active Job deleted")
    assert cluster.jobset(namespace, "short")["metadata"]["name"] == "short"

    def gone() -> bool:
        try:
            return bool(cluster.jobset(namespace, "short")["metadata"].get("deletionTimestamp"))
        except kubernetes.client.ApiException as error:
            return error.status == 404
    harness.eventually(gone, what="JobSet deleted by its TTL")
    long = cluster.jobset(namespace, "long")
    assert condition(long, "Completed")["status"] == "True" and not long["metadata"].get("deletionTimestamp")


def test_a_jobset_being_deleted_gets_no_new_jobs_section_8(cluster: harness.Cluster, namespace: str) -> None:
    """§8 step 2: while a foreground deletion of the JobSet waits for a Job held by a finalizer, the
    garbage collector's removal of the other Job is not undone by the controller."""
    cluster.create_jobset(namespace, jobset_manifest("leaving", ("workers", 2)))
    wait_for_jobs(cluster, namespace, "leaving", ["leaving-workers-0", "leaving-workers-1"])
    harness.hold(cluster, namespace, "leaving-workers-0")
    cluster.custom.delete_namespaced_custom_object(harness.GROUP, harness.VERSION, namespace, harness.PLURAL,
                                                   "leaving", propagation_policy="Foreground")
    harness.eventually(lambda: sorted(cluster.jobs(namespace, "leaving")) == ["leaving-workers-0"],
                       what="the unheld Job removed by the garbage collector")
    harness.quiet()
    assert sorted(cluster.jobs(namespace, "leaving")) == ["leaving-workers-0"]
    assert cluster.jobset(namespace, "leaving")["metadata"]["deletionTimestamp"]
    harness.release(cluster, namespace, "leaving-workers-0")
    harness.eventually(lambda: harness.found(lambda: cluster.jobset(namespace, "leaving")) is None,
                       what="the JobSet gone")
