"""The examples of the remaining features on the simulated cluster: network, success policy,
coordinator, groups, TTL and volume claim policies (spec §9, §10.7, §10.13)."""

from __future__ import annotations

from collections.abc import Callable

import exampleharness as harness
from engine.kube import resources
from exampleharness import LABEL, condition


def test_network_names_the_service_and_pod_subdomain_after_the_subdomain(submit: Callable[[str], harness.Run]) -> None:
    """§9.4, §9.7: Service "trainers" (headless, publishNotReadyAddresses false); pods <job>-<index>.trainers."""
    run = submit("network.yaml")
    pods = harness.eventually(lambda: len(found := run.pods()) == 3 and found, what="three pods")
    service = run.objects(resources.SERVICES)["trainers"]
    assert service["spec"]["clusterIP"] == "None"
    assert service["spec"]["publishNotReadyAddresses"] is False
    assert service["spec"]["selector"] == {LABEL + "jobset-name": "network"}
    assert "network" not in run.objects(resources.SERVICES)
    assert {pod["spec"]["subdomain"] for pod in pods} == {"trainers"}
    assert sorted(pod["spec"]["hostname"] for pod in pods) == [
        "network-leader-0-0", "network-workers-0-0", "network-workers-0-1"]
    assert run.finished()["status"]["terminalState"] == "Completed"


def test_success_policy_any_completes_on_the_first_target_job(submit: Callable[[str], harness.Run]) -> None:
    """§10.7 Any with a target: warmup's success does not count; a workers Job's does; the driver is deleted."""
    run = submit("success-policy.yaml")
    jobset = run.finished()
    completed = condition(jobset, "Completed")
    assert completed["status"] == "True" and completed["reason"] == "AllJobsCompleted"
    done = run.first("JobSet", lambda js: (condition(js, "Completed") or {}).get("status") == "True")
    warmup = run.first("Job", lambda job: job["metadata"]["name"] == "success-any-warmup-0"
                       and harness.job_finished(job, "Complete"))
    worker = min(e.version for e in run.history("Job") if e.obj["metadata"]["name"].startswith("success-any-workers-")
                 and harness.job_finished(e.obj, "Complete"))
    assert warmup < worker < done
    harness.eventually(lambda: "success-any-driver-0" not in run.jobs(), what="the driver Job deleted")
    assert any(e.type == "DELETED" or e.obj["metadata"].get("deletionTimestamp")
               for e in run.history("Job") if e.obj["metadata"]["name"] == "success-any-driver-0")


def test_coordinator_address_is_on_every_job_and_pod(submit: Callable[[str], harness.Run]) -> None:
    """§9.6: label and annotation jobset.sigs.k8s.io/coordinator on all Jobs and pods of both replicated jobs."""
    run = submit("coordinator.yaml")
    expected = "coordinated-driver-0-0.coordinated"
    pods = harness.eventually(lambda: len(found := run.pods()) == 5 and found, what="five pods")
    jobs = run.jobs()
    assert sorted(jobs) == ["coordinated-driver-0", "coordinated-workers-0", "coordinated-workers-1"]
    for obj in [*jobs.values(), *pods]:
        assert obj["metadata"]["labels"][LABEL + "coordinator"] == expected
        assert obj["metadata"]["annotations"][LABEL + "coordinator"] == expected
    assert "coordinated-driver-0-0" in {pod["spec"]["hostname"] for pod in pods}
    assert run.finished()["status"]["terminalState"] == "Completed"


def test_groups_number_jobs_within_their_group(submit: Callable[[str], harness.Run]) -> None:
    """§9.3: group-name, group-replicas and job-group-index per group; global index across all."""
    run = submit("groups.yaml")
    jobs = harness.eventually(lambda: len(found := run.jobs()) == 4 and found, what="four Jobs")
    labels = {name: job["metadata"]["labels"] for name, job in jobs.items()}
    expected = {  # name: (group, group replicas, group index, global index)
        "grouped-encoders-0": ("model", "3", "0", "0"), "grouped-encoders-1": ("model", "3", "1", "1"),
        "grouped-evaluator-0": ("default", "1", "0", "2"), "grouped-decoders-0": ("model", "3", "2", "3")}
    for name, (group, replicas, index, global_index) in expected.items():
        found = labels[name]
        assert (found[LABEL + "group-name"], found[LABEL + "group-replicas"], found[LABEL + "job-group-index"],
                found[LABEL + "job-global-index"]) == (group, replicas, index, global_index), name
        assert found[LABEL + "global-replicas"] == "4"
    assert run.finished()["status"]["terminalState"] == "Completed"


def test_ttl_deletes_the_finished_jobset_and_its_children(submit: Callable[[str], harness.Run]) -> None:
    """§10.13: still there when it completes, gone ttlSecondsAfterFinished later, with its Jobs."""
    run = submit("ttl.yaml")
    assert run.finished()["status"]["terminalState"] == "Completed"
    assert run.jobset() is not None
    harness.eventually(lambda: run.jobset() is None, timeout=30, what="the JobSet deleted by its TTL")
    harness.eventually(lambda: not run.jobs(), what="its Jobs garbage-collected")


def test_volume_claims_are_created_mounted_and_retained_as_asked(submit: Callable[[str], harness.Run]) -> None:
    """§9.8: PVCs <template>-<jobset>; volumes only where mounted; Delete owned, Retain survives the JobSet."""
    run = submit("volume-claims.yaml")
    assert run.finished()["status"]["terminalState"] == "Completed"
    claims = run.objects(resources.PERSISTENT_VOLUME_CLAIMS)
    dataset, checkpoints = claims["dataset-with-volumes"], claims["checkpoints-with-volumes"]
    assert dataset["metadata"]["labels"] == {LABEL + "jobset-name": "with-volumes"}
    assert checkpoints["metadata"]["labels"] == {"purpose": "checkpoints", LABEL + "jobset-name": "with-volumes"}
    assert [ref["kind"] for ref in dataset["metadata"]["ownerReferences"]] == ["JobSet"]
    assert not checkpoints["metadata"].get("ownerReferences")
    volumes = {e.obj["metadata"]["name"]: e.obj["spec"]["template"]["spec"].get("volumes")
               for e in run.history("Job") if e.type == "ADDED"}
    assert volumes["with-volumes-loader-0"] == [
        {"name": "dataset", "persistentVolumeClaim": {"claimName": "dataset-with-volumes"}}]
    assert volumes["with-volumes-trainers-1"] == [
        {"name": "dataset", "persistentVolumeClaim": {"claimName": "dataset-with-volumes"}},
        {"name": "checkpoints", "persistentVolumeClaim": {"claimName": "checkpoints-with-volumes"}}]
    run.cluster.call(run.api.delete(resources.JOBSETS, "with-volumes", namespace=run.namespace))
    harness.eventually(lambda: "dataset-with-volumes" not in run.objects(resources.PERSISTENT_VOLUME_CLAIMS),
                       what="the Delete PVC collected with its JobSet")
    assert "checkpoints-with-volumes" in run.objects(resources.PERSISTENT_VOLUME_CLAIMS)
