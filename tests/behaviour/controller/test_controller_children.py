"""Child objects on the real HTTP API (spec §9): Job names, labels and annotations, indexes, owner
references, coordinator, the headless Service, volume claim policies, and creation failures.

The test plays the Kubernetes Job controller; the API server's garbage collector is real.
"""

from __future__ import annotations

import hashlib
from typing import Any

import controllerharness as harness
from controllerharness import condition, eventually, jobset_manifest, wait_for_jobs

JOBSET = "jobset.sigs.k8s.io/"
SAME_ON_LABELS_AND_ANNOTATIONS = ("jobset-name", "jobset-uid", "replicatedjob-name", "replicatedjob-replicas",
                                  "global-replicas", "job-index", "job-global-index", "job-key", "group-name",
                                  "group-replicas", "job-group-index", "restart-attempt")


def grouped_manifest(name: str) -> dict[str, Any]:
    """Replicated jobs rjob1 (group-a, 1), rjob2 (group-b, 2), rjob3 (group-a, 3): the example of spec §9.3."""
    manifest = jobset_manifest(name, ("rjob1", 1), ("rjob2", 2), ("rjob3", 3))
    for rj, group in zip(manifest["spec"]["replicatedJobs"], ("group-a", "group-b", "group-a")):
        rj["groupName"] = group
    return manifest


def test_index_and_group_labels_follow_the_spec_example_section_9_3(cluster: harness.Cluster, namespace: str) -> None:
    """§9.3: global index, group index and replica sums, on the Job and its pod template alike."""
    cluster.create_jobset(namespace, grouped_manifest("grp"))
    jobs = wait_for_jobs(cluster, namespace, "grp", ["grp-rjob1-0", "grp-rjob2-0", "grp-rjob2-1",
                                                      "grp-rjob3-0", "grp-rjob3-1", "grp-rjob3-2"])
    job = jobs["grp-rjob3-1"]
    wanted = {"replicatedjob-name": "rjob3", "replicatedjob-replicas": "3", "global-replicas": "6",
              "job-index": "1", "job-global-index": "4", "group-name": "group-a", "group-replicas": "4",
              "job-group-index": "2", "restart-attempt": "0"}
    for where in (job["metadata"], job["spec"]["template"]["metadata"]):
        assert {key: where["labels"][JOBSET + key] for key in wanted} == wanted
        assert {key: where["annotations"][JOBSET + key] for key in wanted} == wanted
    assert jobs["grp-rjob2-1"]["metadata"]["labels"][JOBSET + "job-group-index"] == "1"
    assert jobs["grp-rjob2-1"]["metadata"]["labels"][JOBSET + "job-global-index"] == "2"


def test_identity_labels_job_key_and_owner_reference_section_9_2(cluster: harness.Cluster, namespace: str) -> None:
    """§9.2 steps 2 and 8, §9.3, §16.1: jobset-name/uid, a SHA-1 job-key, a controller ownerReference."""
    cluster.create_jobset(namespace, jobset_manifest("ident", ("workers", 2)))
    jobs = wait_for_jobs(cluster, namespace, "ident", ["ident-workers-0", "ident-workers-1"])
    uid = cluster.jobset(namespace, "ident")["metadata"]["uid"]
    for name, job in jobs.items():
        meta = job["metadata"]
        assert meta["labels"][JOBSET + "jobset-uid"] == uid
        assert meta["labels"][JOBSET + "job-key"] == hashlib.sha1(f"{namespace}/{name}".encode()).hexdigest()
        for key in SAME_ON_LABELS_AND_ANNOTATIONS:
            assert meta["labels"][JOBSET + key] == meta["annotations"][JOBSET + key], key
        assert meta["ownerReferences"] == [{"apiVersion": "jobset.x-k8s.io/v1alpha2", "kind": "JobSet",
                                            "name": "ident", "uid": uid, "controller": True,
                                            "blockOwnerDeletion": True}]
        assert job["spec"]["suspend"] is False


def test_template_metadata_is_kept_and_jobset_keys_win_section_9_2(cluster: harness.Cluster, namespace: str) -> None:
    """§9.2 steps 2-3, §3: Job-level template labels stay on the Job only; pod labels stay on the pod
    template; a user value under a JobSet key is overwritten."""
    manifest = jobset_manifest("meta", ("workers", 1))
    template = manifest["spec"]["replicatedJobs"][0]["template"]
    template["metadata"] = {"labels": {"tier": "job", JOBSET + "job-index": "99"}, "annotations": {"note": "job"}}
    harness.pod_template(manifest)["metadata"] = {"labels": {"app": "trainer"}}
    cluster.create_jobset(namespace, manifest)
    job = wait_for_jobs(cluster, namespace, "meta", ["meta-workers-0"])["meta-workers-0"]
    assert job["metadata"]["labels"]["tier"] == "job" and job["metadata"]["annotations"]["note"] == "job"
    assert job["metadata"]["labels"][JOBSET + "job-index"] == "0"
    pod_labels = job["spec"]["template"]["metadata"]["labels"]
    assert pod_labels["app"] == "trainer" and "tier" not in pod_labels


def test_coordinator_label_and_annotation_on_every_job_section_9_6(cluster: harness.Cluster, namespace: str) -> None:
    """§9.6: `<js>-<rj>-<job>-<pod>.<subdomain>` as label and annotation on all Jobs and pod templates."""
    manifest = jobset_manifest("coord", ("leader", 1), ("workers", 2),
                               coordinator={"replicatedJob": "leader", "jobIndex": 0, "podIndex": 0})
    manifest["spec"]["replicatedJobs"][0]["template"]["spec"].update(completions=1, parallelism=1)
    cluster.create_jobset(namespace, manifest)
    jobs = wait_for_jobs(cluster, namespace, "coord", ["coord-leader-0", "coord-workers-0", "coord-workers-1"])
    for job in jobs.values():
        for where in (job["metadata"], job["spec"]["template"]["metadata"]):
            assert where["labels"][JOBSET + "coordinator"] == "coord-leader-0-0.coord"
            assert where["annotations"][JOBSET + "coordinator"] == "coord-leader-0-0.coord"


def test_one_headless_service_per_jobset_section_9_7(cluster: harness.Cluster, namespace: str) -> None:
    """§9.7: one Service named after the JobSet for all its Jobs: headless, selector on jobset-name,
    publishNotReadyAddresses defaulted true (§5.2), no ports, owned by the JobSet."""
    cluster.create_jobset(namespace, jobset_manifest("svc", ("leader", 1), ("workers", 3)))
    wait_for_jobs(cluster, namespace, "svc", ["svc-leader-0", "svc-workers-0", "svc-workers-1", "svc-workers-2"])
    services = eventually(lambda: cluster.core.list_namespaced_service(namespace).items, what="service")
    assert [s.metadata.name for s in services] == ["svc"]
    assert cluster.jobset(namespace, "svc")["spec"]["network"] == {"enableDNSHostnames": True,
                                                                   "publishNotReadyAddresses": True}
    service = services[0]
    assert service.spec.cluster_ip == "None" and service.spec.publish_not_ready_addresses is True
    assert service.spec.selector == {JOBSET + "jobset-name": "svc"} and not service.spec.ports
    owner = service.metadata.owner_references[0]
    assert (owner.kind, owner.name, owner.controller, owner.block_owner_deletion) == ("JobSet", "svc", True, True)


def test_network_subdomain_names_the_service_and_the_pods_section_9_7(cluster: harness.Cluster,
                                                                      namespace: str) -> None:
    """§9.2 step 4, §9.7: network.subdomain names the Service and every pod's subdomain;
    publishNotReadyAddresses false is carried to the Service."""
    cluster.create_jobset(namespace, jobset_manifest("net", ("workers", 2), network={
        "subdomain": "fabric", "publishNotReadyAddresses": False}))
    jobs = wait_for_jobs(cluster, namespace, "net", ["net-workers-0", "net-workers-1"])
    assert {job["spec"]["template"]["spec"]["subdomain"] for job in jobs.values()} == {"fabric"}
    service = harness.appears(lambda: cluster.core.read_namespaced_service("fabric", namespace), what="service fabric")
    assert service.spec.publish_not_ready_addresses is False
    assert service.spec.selector == {JOBSET + "jobset-name": "net"}


def test_dns_hostnames_disabled_means_no_service_and_the_users_subdomain_section_9_7(cluster: harness.Cluster,
                                                                                     namespace: str) -> None:
    """§9.2 step 4, §9.7: enableDNSHostnames false: no Service, the template's own subdomain is left alone."""
    manifest = jobset_manifest("nodns", ("workers", 1), network={"enableDNSHostnames": False})
    harness.pod_template(manifest)["spec"]["subdomain"] = "mine"
    cluster.create_jobset(namespace, manifest)
    cluster.create_jobset(namespace, jobset_manifest("withdns", ("workers", 1)))
    job = wait_for_jobs(cluster, namespace, "nodns", ["nodns-workers-0"])["nodns-workers-0"]
    assert job["spec"]["template"]["spec"]["subdomain"] == "mine"
    harness.appears(lambda: cluster.core.read_namespaced_service("withdns", namespace),
                    what="the other JobSet's service")
    assert [s.metadata.name for s in cluster.core.list_namespaced_service(namespace).items] == ["withdns"]


def test_deleted_service_is_recreated_section_9_7(cluster: harness.Cluster, namespace: str) -> None:
    """§9.7: Services are watched as owned objects; a deleted one comes back on the next pass."""
    cluster.create_jobset(namespace, jobset_manifest("again", ("workers", 1)))
    first = harness.appears(lambda: cluster.core.read_namespaced_service("again", namespace), what="service")
    cluster.core.delete_namespaced_service("again", namespace)
    second = eventually(lambda: (s := harness.found(lambda: cluster.core.read_namespaced_service("again", namespace)))
                        and s.metadata.uid != first.metadata.uid and s, what="a new service")
    assert second.spec.selector == {JOBSET + "jobset-name": "again"}


def test_existing_service_of_that_name_is_never_updated_section_9_7(cluster: harness.Cluster,
                                                                    namespace: str) -> None:
    """§9.7: a Service already named like the subdomain is left as it is (not updated, not adopted)."""
    cluster.core.create_namespaced_service(namespace, {"metadata": {"name": "taken"}, "spec": {
        "selector": {"app": "other"}, "ports": [{"port": 80}]}})
    cluster.create_jobset(namespace, jobset_manifest("taken", ("workers", 1)))
    wait_for_jobs(cluster, namespace, "taken", ["taken-workers-0"])
    service = cluster.core.read_namespaced_service("taken", namespace)
    assert service.spec.selector == {"app": "other"} and not service.metadata.owner_references


def test_generate_name_gives_the_service_the_generated_name_section_9_7(cluster: harness.Cluster,
                                                                        namespace: str) -> None:
    """§9.7, §9.1: with generateName the Service and the Jobs are named after the generated name."""
    manifest = jobset_manifest("", ("workers", 1))
    manifest["metadata"] = {"generateName": "gen-"}
    name = cluster.create_jobset(namespace, manifest)["metadata"]["name"]
    assert name.startswith("gen-") and len(name) > len("gen-")
    harness.appears(lambda: cluster.core.read_namespaced_service(name, namespace), what="service named like the JobSet")
    job = wait_for_jobs(cluster, namespace, name, [f"{name}-workers-0"])[f"{name}-workers-0"]
    assert job["spec"]["template"]["spec"]["subdomain"] == name


def test_generated_names_are_checked_with_the_generated_suffix_section_16_11(cluster: harness.Cluster,
                                                                            namespace: str) -> None:
    """§16.11, §6.0, §6.1 V-9: with generateName the Job names are checked as the API server will generate
    them (prefix cut to 58 + 5 characters): a 56-character prefix gives 71-character Job names."""
    manifest = jobset_manifest("", ("workers", 1))
    manifest["metadata"] = {"generateName": "g" * 55 + "-"}
    error = harness.rejected(lambda: cluster.create_jobset(namespace, manifest))
    assert error.status == 422 and "spec.replicatedJobs[0].name" in error.body and "job names generated" in error.body
    manifest["metadata"] = {"generateName": "g" * 40 + "-"}
    assert cluster.create_jobset(namespace, manifest)["metadata"]["name"].startswith("g" * 40 + "-")


def test_jobs_owned_by_another_uid_are_ignored_section_10_1(cluster: harness.Cluster, namespace: str) -> None:
    """§10.1: a Job naming the JobSet as controller owner with another UID is not a child: its failure
    is not counted nor acted on, and the JobSet completes without it. (The garbage collector deletes
    it, its owner UID being unknown; a finalizer keeps it visible.)"""
    cluster.create_jobset(namespace, jobset_manifest("owned", ("workers", 2)))
    wait_for_jobs(cluster, namespace, "owned", ["owned-workers-0", "owned-workers-1"])
    cluster.batch.create_namespaced_job(namespace, {
        "metadata": {"name": "impostor", "finalizers": ["example.com/keep"],
                     "labels": {JOBSET + "jobset-name": "owned", JOBSET + "replicatedjob-name": "workers",
                                JOBSET + "restart-attempt": "0"},
                     "ownerReferences": [{"apiVersion": "jobset.x-k8s.io/v1alpha2", "kind": "JobSet", "name": "owned",
                                          "uid": "12345678-1234-1234-1234-123456789abc", "controller": True}]},
        "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "bash"}]}}}})
    cluster.fail_job(namespace, "impostor")
    for name in ("owned-workers-0", "owned-workers-1"):
        cluster.complete_job(namespace, name)
    jobset = harness.condition_is(cluster, namespace, "owned", "Completed", "True") and \
        cluster.jobset(namespace, "owned")
    assert harness.counters(jobset)["workers"]["succeeded"] == 2 and harness.counters(jobset)["workers"]["failed"] == 0
    assert condition(jobset, "Failed") is None


def test_job_creation_failure_is_a_repeated_warning_event_section_9_1(cluster: harness.Cluster,
                                                                      namespace: str) -> None:
    """§9.1, §10.5: the API server refuses the Job (no image): Warning JobCreationFailed with
    `job "<name>" creation failed with error: ...`, again on each retry (counted on one Event)."""
    manifest = jobset_manifest("broken", ("workers", 1))
    harness.pod_template(manifest)["spec"]["containers"][0]["image"] = ""
    cluster.create_jobset(namespace, manifest)

    def failures() -> list[dict[str, Any]]:
        return [e for e in cluster.events(namespace, "broken") if e["reason"] == "JobCreationFailed"]
    found = eventually(lambda: sum(e["count"] for e in failures()) >= 2 and failures(),
                       what="JobCreationFailed twice (one Event, count 2)")
    assert all(e["type"] == "Warning" for e in found)
    assert found[0]["message"].startswith('job "broken-workers-0" creation failed with error: ')
    assert "image" in found[0]["message"]
    assert cluster.jobs(namespace, "broken") == {}


def test_a_refused_replicated_job_holds_back_the_replicated_jobs_after_it_section_8(cluster: harness.Cluster,
                                                                                   namespace: str) -> None:
    """§8 step 14, §9.1: Jobs are created replicated job by replicated job; `bad`'s Job is refused, so
    `good`, after it, gets no Job either, pass after pass (as upstream, which returns at the first failure)."""
    manifest = jobset_manifest("halted", ("bad", 1), ("good", 2))
    harness.pod_template(manifest)["spec"]["containers"][0]["image"] = ""
    cluster.create_jobset(namespace, manifest)

    def failures() -> list[dict[str, Any]]:
        return [e for e in cluster.events(namespace, "halted") if e["reason"] == "JobCreationFailed"]
    eventually(lambda: sum(e["count"] for e in failures()) >= 2, what="JobCreationFailed twice")
    assert cluster.jobs(namespace, "halted") == {}


VOLUME_SPEC = {"accessModes": ["ReadWriteMany"], "resources": {"requests": {"storage": "1Gi"}}}


def volume_manifest(name: str, *policies: tuple[str, str], mounts: tuple[str, ...], **spec: Any) -> dict[str, Any]:
    """A JobSet with one volume claim policy per (template, whenDeleted), mounting `mounts`."""
    manifest = jobset_manifest(name, ("worker", 1), volumeClaimPolicies=[
        {"templates": [{"metadata": {"name": template, "labels": {"disk": template}}, "spec": VOLUME_SPEC}],
         "retentionPolicy": {"whenDeleted": when}} for template, when in policies], **spec)
    harness.pod_template(manifest)["spec"]["containers"][0]["volumeMounts"] = [
        {"name": mount, "mountPath": f"/{mount}"} for mount in mounts]
    return manifest


def test_volume_claims_are_created_before_the_jobs_and_mounted_section_9_8(cluster: harness.Cluster,
                                                                           namespace: str) -> None:
    """§9.8, §9.2 step 7: PVC `<template>-<jobset>` per template, labelled with the JobSet, owned only
    under whenDeleted Delete, created before the Jobs; mounted templates become pod volumes."""
    cluster.create_jobset(namespace, volume_manifest("vol", ("data", "Delete"), ("keep", "Retain"),
                                                     mounts=("data", "keep")))
    job = wait_for_jobs(cluster, namespace, "vol", ["vol-worker-0"])["vol-worker-0"]
    pvcs = {p.metadata.name: p for p in cluster.core.list_namespaced_persistent_volume_claim(namespace).items}
    assert sorted(pvcs) == ["data-vol", "keep-vol"]
    assert pvcs["data-vol"].metadata.labels == {"disk": "data", JOBSET + "jobset-name": "vol"}
    assert [o.name for o in pvcs["data-vol"].metadata.owner_references] == ["vol"]
    assert not pvcs["keep-vol"].metadata.owner_references
    # the embedded API server's resourceVersions are one increasing counter
    assert all(int(p.metadata.resource_version) < int(job["metadata"]["resourceVersion"]) for p in pvcs.values())
    assert job["spec"]["template"]["spec"]["volumes"] == [
        {"name": "data", "persistentVolumeClaim": {"claimName": "data-vol"}},
        {"name": "keep", "persistentVolumeClaim": {"claimName": "keep-vol"}}]


def test_retained_claim_survives_the_jobset_and_serves_the_next_one_section_9_8(cluster: harness.Cluster,
                                                                                namespace: str) -> None:
    """§9.8: completion keeps both PVCs; on deletion the garbage collector removes the Delete PVC only; a new
    JobSet with the same Retain template finds its PVC already there and runs to completion."""
    cluster.create_jobset(namespace, volume_manifest("first", ("scratch", "Delete"), ("ckpt", "Retain"),
                                                     mounts=("scratch", "ckpt")))
    wait_for_jobs(cluster, namespace, "first", ["first-worker-0"])
    cluster.complete_job(namespace, "first-worker-0")
    harness.condition_is(cluster, namespace, "first", "Completed", "True")
    assert sorted(p.metadata.name for p in cluster.core.list_namespaced_persistent_volume_claim(namespace).items) == [
        "ckpt-first", "scratch-first"]
    cluster.custom.delete_namespaced_custom_object(harness.GROUP, harness.VERSION, namespace, harness.PLURAL, "first")
    eventually(lambda: [p.metadata.name for p in cluster.core.list_namespaced_persistent_volume_claim(namespace).items]
               == ["ckpt-first"], what="only the retained PVC")
    retained = cluster.core.read_namespaced_persistent_volume_claim("ckpt-first", namespace)
    cluster.create_jobset(namespace, volume_manifest("first", ("ckpt", "Retain"), mounts=("ckpt",)))
    wait_for_jobs(cluster, namespace, "first", ["first-worker-0"])
    cluster.complete_job(namespace, "first-worker-0")
    harness.condition_is(cluster, namespace, "first", "Completed", "True")
    again = cluster.core.read_namespaced_persistent_volume_claim("ckpt-first", namespace)
    assert again.metadata.uid == retained.metadata.uid


def test_suspended_jobset_still_creates_its_claims_section_9_8(cluster: harness.Cluster, namespace: str) -> None:
    """§8 (steps 11-14 run while suspended), §9.8: PVCs and the Service exist for a suspended JobSet."""
    cluster.create_jobset(namespace, volume_manifest("parked", ("data", "Delete"), mounts=("data",), suspend=True))
    harness.appears(lambda: cluster.core.read_namespaced_persistent_volume_claim("data-parked", namespace), what="PVC")
    harness.appears(lambda: cluster.core.read_namespaced_service("parked", namespace), what="service")
    job = wait_for_jobs(cluster, namespace, "parked", ["parked-worker-0"])["parked-worker-0"]
    assert job["spec"]["suspend"] is True


def test_existing_claim_is_left_untouched_section_9_8(cluster: harness.Cluster, namespace: str) -> None:
    """§9.8: AlreadyExists is ignored: the PVC keeps its labels and gets no owner."""
    cluster.core.create_namespaced_persistent_volume_claim(namespace, {
        "metadata": {"name": "data-pre", "labels": {"made": "by-hand"}}, "spec": VOLUME_SPEC})
    cluster.create_jobset(namespace, volume_manifest("pre", ("data", "Retain"), mounts=("data",)))
    wait_for_jobs(cluster, namespace, "pre", ["pre-worker-0"])
    pvc = cluster.core.read_namespaced_persistent_volume_claim("data-pre", namespace)
    assert pvc.metadata.labels == {"made": "by-hand"} and not pvc.metadata.owner_references



def test_volume_claim_policies_are_immutable_and_claims_stay_in_the_namespace_section_6_2(
        cluster: harness.Cluster, namespace: str) -> None:
    """§6.1 S-7, §6.2: a claim template naming a namespace is refused; the policies cannot change later."""
    manifest = volume_manifest("elsewhere", ("data", "Delete"), mounts=("data",))
    manifest["spec"]["volumeClaimPolicies"][0]["templates"][0]["metadata"]["namespace"] = "other"
    error = harness.rejected(lambda: cluster.create_jobset(namespace, manifest))
    assert error.status == 422 and "spec.volumeClaimPolicies[0]" in error.body
    cluster.create_jobset(namespace, volume_manifest("fixed", ("data", "Delete"), mounts=("data",)))
    body = harness.refused_update(cluster, namespace, "fixed", lambda js: js["spec"]["volumeClaimPolicies"][0].update(
        retentionPolicy={"whenDeleted": "Retain"}))
    assert "spec.volumeClaimPolicies" in body


def test_service_creation_failure_is_a_warning_then_retried_section_9_7(cluster: harness.Cluster,
                                                                        namespace: str) -> None:
    """§9.7, §10.5: the API server refuses the Service twice: Warning HeadlessServiceCreationFailed with
    the error text, the pass retried, the Service created once the server accepts it."""
    from engine.localcluster import faults

    refusal = cluster.environment.cluster.faults.add(faults.Rule(
        verb="create", resource="services", namespace=namespace, code=403, times=2, message="services quota exceeded"))
    try:
        cluster.create_jobset(namespace, jobset_manifest("quota", ("workers", 1)))
        harness.appears(lambda: cluster.core.read_namespaced_service("quota", namespace), what="the service at last")
    finally:
        cluster.environment.cluster.faults.remove(refusal)
    events = harness.recorded(cluster, namespace, "quota", "HeadlessServiceCreationFailed")
    assert ("Warning", "HeadlessServiceCreationFailed", "services quota exceeded") in events
    wait_for_jobs(cluster, namespace, "quota", ["quota-workers-0"])


def test_claim_creation_failure_is_a_warning_and_holds_back_the_jobs_section_9_8(cluster: harness.Cluster,
                                                                                  namespace: str) -> None:
    """§9.8, §10.5, §8 step 12: the API server refuses the PVC of policy `data` (a label it will not store):
    Warning PVCCreationFailed with the error text, again on each retry; the PVC of the policy before it
    exists; the pass fails before step 14, so no Job is created."""
    manifest = volume_manifest("disks", ("logs", "Delete"), ("data", "Delete"), mounts=("data", "logs"))
    manifest["spec"]["volumeClaimPolicies"][1]["templates"][0]["metadata"]["labels"]["tier"] = "not a label value!"
    cluster.create_jobset(namespace, manifest)

    def failures() -> list[dict[str, Any]]:
        return [e for e in cluster.events(namespace, "disks") if e["reason"] == "PVCCreationFailed"]
    found = eventually(lambda: sum(e["count"] for e in failures()) >= 2 and failures(),
                       what="PVCCreationFailed twice (one Event, count 2)")
    assert found[0]["type"] == "Warning" and "data-disks" in found[0]["message"]
    assert "metadata.labels" in found[0]["message"]
    assert [p.metadata.name for p in cluster.core.list_namespaced_persistent_volume_claim(namespace).items] == [
        "logs-disks"]
    assert cluster.jobs(namespace, "disks") == {}
