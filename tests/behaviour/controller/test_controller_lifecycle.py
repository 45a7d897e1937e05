"""Controller behaviour on the real HTTP API, step by step (spec §8-§10): the test plays the Job controller."""

from __future__ import annotations

import controllerharness as harness
from controllerharness import condition, eventually, jobset_manifest

JOBSET = "jobset.sigs.k8s.io/"


def test_children_are_created_with_their_labels_and_the_headless_service(cluster: harness.Cluster, namespace: str) -> None:
    """§9.1, §9.2, §9.3, §9.7: Jobs <js>-<rj>-<i> in every replicated job, one headless Service."""
    cluster.create_jobset(namespace, jobset_manifest("train", ("leader", 1), ("workers", 2)))
    jobs = eventually(lambda: (found := cluster.jobs(namespace, "train")) and len(found) == 3 and found,
                      what="3 jobs")
    assert sorted(jobs) == ["train-leader-0", "train-workers-0", "train-workers-1"]
    labels = jobs["train-workers-1"]["metadata"]["labels"]
    assert labels[JOBSET + "job-global-index"] == "2" and labels[JOBSET + "restart-attempt"] == "0"
    assert jobs["train-workers-1"]["spec"]["template"]["spec"]["subdomain"] == "train"
    service = eventually(lambda: cluster.core.read_namespaced_service("train", namespace), what="service")
    assert service.spec.cluster_ip == "None"
    assert service.spec.selector == {JOBSET + "jobset-name": "train"}


def test_all_jobs_succeeding_completes_the_jobset(cluster: harness.Cluster, namespace: str) -> None:
    """§10.7 and §10.5: Completed=True, reason AllJobsCompleted, terminalState Completed, an event."""
    cluster.create_jobset(namespace, jobset_manifest("done", ("workers", 2)))
    eventually(lambda: len(cluster.jobs(namespace, "done")) == 2, what="jobs")
    for name in ("done-workers-0", "done-workers-1"):
        cluster.complete_job(namespace, name)
    jobset = eventually(lambda: (js := cluster.jobset(namespace, "done")).get("status", {}).get("terminalState") and js,
                        what="terminal state")
    assert jobset["status"]["terminalState"] == "Completed"
    completed = condition(jobset, "Completed")
    assert completed and completed["status"] == "True" and completed["reason"] == "AllJobsCompleted"
    assert completed["message"] == "jobset completed successfully"
    eventually(lambda: any(e["reason"] == "AllJobsCompleted" for e in cluster.events(namespace, "done")),
               what="AllJobsCompleted event")


def test_a_failed_job_without_failure_policy_fails_the_jobset(cluster: harness.Cluster, namespace: str) -> None:
    """§10.8: no failurePolicy -> Failed, reason FailedJobs, naming the first failed Job."""
    cluster.create_jobset(namespace, jobset_manifest("fragile", ("workers", 2)))
    eventually(lambda: len(cluster.jobs(namespace, "fragile")) == 2, what="jobs")
    cluster.fail_job(namespace, "fragile-workers-1")
    jobset = eventually(lambda: condition(cluster.jobset(namespace, "fragile"), "Failed")
                        and cluster.jobset(namespace, "fragile"), what="Failed condition")
    failed = condition(jobset, "Failed")
    assert failed["reason"] == "FailedJobs"
    assert failed["message"] == "jobset failed due to one or more job failures (first failed job: fragile-workers-1)"
    assert jobset["status"]["terminalState"] == "Failed"


def test_restart_jobset_recreates_every_job_then_gives_up_at_max_restarts(cluster: harness.Cluster,
                                                                           namespace: str) -> None:
    """§10.8, §10.9: RestartJobSet bumps restarts, Jobs come back with restart-attempt 1; at the budget, ReachedMaxRestarts."""
    cluster.create_jobset(namespace, jobset_manifest("retry", ("workers", 2), failurePolicy={"maxRestarts": 1}))
    eventually(lambda: len(cluster.jobs(namespace, "retry")) == 2, what="jobs")
    cluster.fail_job(namespace, "retry-workers-0")
    jobset = eventually(lambda: (js := cluster.jobset(namespace, "retry"))["status"].get("restarts") == 1 and js,
                        what="one restart")
    restarting = condition(jobset, "RestartingJobSet")
    assert restarting and restarting["status"] == "True" and restarting["reason"] == "DefaultFailurePolicy"
    assert jobset["status"]["restartsCountTowardsMax"] == 1

    def recreated() -> bool:
        jobs = cluster.jobs(namespace, "retry")
        return len(jobs) == 2 and all(j["metadata"]["labels"][JOBSET + "restart-attempt"] == "1"
                                      and not j["metadata"].get("deletionTimestamp") for j in jobs.values())
    eventually(recreated, what="jobs of attempt 1")
    cluster.fail_job(namespace, "retry-workers-1")
    jobset = eventually(lambda: condition(cluster.jobset(namespace, "retry"), "Failed")
                        and cluster.jobset(namespace, "retry"), what="Failed")
    assert condition(jobset, "Failed")["reason"] == "ReachedMaxRestarts"
    assert jobset["status"]["restarts"] == 1


def test_fail_jobset_rule_matches_on_the_failure_reason(cluster: harness.Cluster, namespace: str) -> None:
    """§10.8: the first matching rule decides; FailJobSet fails at once with its reason."""
    policy = {"maxRestarts": 5, "rules": [
        {"name": "deadline", "action": "FailJobSet", "onJobFailureReasons": ["DeadlineExceeded"]}]}
    cluster.create_jobset(namespace, jobset_manifest("strict", ("workers", 1), failurePolicy=policy))
    eventually(lambda: len(cluster.jobs(namespace, "strict")) == 1, what="job")
    cluster.fail_job(namespace, "strict-workers-0", reason="DeadlineExceeded",
                     message="Job was active longer than specified deadline")
    jobset = eventually(lambda: condition(cluster.jobset(namespace, "strict"), "Failed")
                        and cluster.jobset(namespace, "strict"), what="Failed")
    failed = condition(jobset, "Failed")
    assert failed["reason"] == "FailJobSetFailurePolicyAction"
    assert failed["message"] == "applying FailJobSet failure policy action (first failed job: strict-workers-0)"
    assert jobset["status"].get("restarts", 0) == 0


def test_suspended_jobset_creates_suspended_jobs_and_resume_carries_kueue_changes(cluster: harness.Cluster,
                                                                                  namespace: str) -> None:
    """§10.10 and §6.2 (the Kueue contract): create suspended, rewrite nodeSelector and tolerations, resume."""
    cluster.create_jobset(namespace, jobset_manifest("queued", ("workers", 2), suspend=True))
    jobs = eventually(lambda: (found := cluster.jobs(namespace, "queued")) and len(found) == 2 and found, what="jobs")
    assert all(job["spec"]["suspend"] is True for job in jobs.values())
    suspended = eventually(lambda: condition(cluster.jobset(namespace, "queued"), "Suspended"), what="Suspended")
    assert suspended["status"] == "True" and suspended["reason"] == "SuspendedJobs"
    jobset = cluster.jobset(namespace, "queued")
    pod_spec = jobset["spec"]["replicatedJobs"][0]["template"]["spec"]["template"]["spec"]
    pod_spec["nodeSelector"] = {"cloud.example.com/flavor": "gpu-a"}
    pod_spec["tolerations"] = [{"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}]
    jobset["spec"]["suspend"] = False
    cluster.custom.replace_namespaced_custom_object(harness.GROUP, harness.VERSION, namespace, harness.PLURAL,
                                                    "queued", jobset)

    def resumed() -> bool:
        jobs = cluster.jobs(namespace, "queued")
        return all(not j["spec"]["suspend"]
                   and j["spec"]["template"]["spec"].get("nodeSelector") == {"cloud.example.com/flavor": "gpu-a"}
                   and {"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}
                   in j["spec"]["template"]["spec"].get("tolerations", [])
                   for j in jobs.values())
    eventually(resumed, what="jobs resumed with the new scheduling directives")
    resumed_condition = eventually(lambda: (c := condition(cluster.jobset(namespace, "queued"), "Suspended"))
                                   and c["status"] == "False" and c, what="Suspended=False")
    assert resumed_condition["reason"] == "ResumeJobs"


def test_jobsets_managed_elsewhere_are_left_alone(cluster: harness.Cluster, namespace: str) -> None:
    """§8 step 3: managedBy names another controller -> no Jobs, no Service, no status."""
    cluster.create_jobset(namespace, jobset_manifest("foreign", ("workers", 1), managedBy="example.com/other"))
    cluster.create_jobset(namespace, jobset_manifest("ours", ("workers", 1)))
    eventually(lambda: len(cluster.jobs(namespace, "ours")) == 1, what="our jobs")
    assert cluster.jobs(namespace, "foreign") == {}
    assert not cluster.jobset(namespace, "foreign").get("status")


def test_ttl_after_finished_deletes_the_jobset(cluster: harness.Cluster, namespace: str) -> None:
    """§10.13: ttlSecondsAfterFinished 0 deletes the finished JobSet on its next pass."""
    import kubernetes

    cluster.create_jobset(namespace, jobset_manifest("brief", ("workers", 1), ttlSecondsAfterFinished=0))
    eventually(lambda: len(cluster.jobs(namespace, "brief")) == 1, what="job")
    cluster.complete_job(namespace, "brief-workers-0")

    def gone() -> bool:
        try:
            cluster.jobset(namespace, "brief")
        except kubernetes.client.ApiException as error:
            return error.status == 404
        return False
    eventually(gone, what="JobSet deleted by its TTL")


def test_invalid_jobset_is_rejected_by_the_validating_webhook(cluster: harness.Cluster, namespace: str) -> None:
    """§5.1, §6.1 V-8: admission over HTTPS rejects with the field and the same message as `jobset lint`."""
    import kubernetes

    manifest = jobset_manifest("bad", ("workers", 1))
    manifest["spec"]["replicatedJobs"][0]["groupName"] = "Not_A_Label"
    try:
        cluster.create_jobset(namespace, manifest)
    except kubernetes.client.ApiException as error:
        assert error.status == 422 or error.status == 400, error.body
        assert "spec.replicatedJobs[0].groupName" in error.body
    else:
        raise AssertionError("the invalid JobSet was admitted")


def test_metrics_count_completions_failures_and_restarts_by_rule(cluster: harness.Cluster, namespace: str) -> None:
    """§13, §10.15: jobset_completed_total; restarts counted by the pack rule that decided them (pack@version/rule)."""
    from engine.metrics import metrics

    policy = {"maxRestarts": 2, "rules": [{"name": "retryAll", "action": "RestartJobSet"}]}
    cluster.create_jobset(namespace, jobset_manifest("counted", ("workers", 1), failurePolicy=policy))
    eventually(lambda: len(cluster.jobs(namespace, "counted")) == 1, what="job")
    cluster.fail_job(namespace, "counted-workers-0")
    eventually(lambda: cluster.jobset(namespace, "counted")["status"].get("restarts") == 1, what="restart")
    eventually(lambda: any(value > 0 for rule, value in _restart_samples(metrics) if rule.startswith("jobset-failure@")),
               what="restart metric labelled with the deciding pack rule")
    eventually(lambda: (job := cluster.jobs(namespace, "counted").get("counted-workers-0"))
               and job["metadata"]["labels"]["jobset.sigs.k8s.io/restart-attempt"] == "1", what="attempt 1")
    cluster.complete_job(namespace, "counted-workers-0")
    eventually(lambda: metrics.value("jobset_completed_total", {"jobset_name": "counted", "namespace": namespace}) == 1,
               what="completed counter")


def _restart_samples(metrics_module: object) -> list[tuple[str, float]]:
    from engine.metrics import metrics

    return [(sample.labels.get("rule", ""), sample.value)
            for family in metrics.REGISTRY.collect() if family.name == "jobset_restarts"
            for sample in family.samples if sample.name == "jobset_restarts_total"]


def test_depends_on_complete_holds_back_the_dependent_until_its_dependency_succeeds(cluster: harness.Cluster,
                                                                                    namespace: str) -> None:
    """§10.11: `train` depends on `init` Complete: its Jobs appear only after init-0 succeeds."""
    manifest = jobset_manifest("staged", ("init", 1), ("train", 2))
    manifest["spec"]["replicatedJobs"][1]["dependsOn"] = [{"name": "init", "status": "Complete"}]
    cluster.create_jobset(namespace, manifest)
    eventually(lambda: sorted(cluster.jobs(namespace, "staged")) == ["staged-init-0"], what="only the init Job")
    cluster.make_ready(namespace, "staged-init-0")
    assert sorted(cluster.jobs(namespace, "staged")) == ["staged-init-0"]
    cluster.complete_job(namespace, "staged-init-0")
    eventually(lambda: sorted(cluster.jobs(namespace, "staged")) == ["staged-init-0", "staged-train-0", "staged-train-1"],
               what="the dependent Jobs")


def test_in_order_startup_creates_each_replicated_job_after_the_previous_is_ready(cluster: harness.Cluster,
                                                                                  namespace: str) -> None:
    """§10.12: InOrder: `workers` waits for `driver` to be ready; the startup conditions follow."""
    cluster.create_jobset(namespace, jobset_manifest("ordered", ("driver", 1), ("workers", 1),
                                                     startupPolicy={"startupPolicyOrder": "InOrder"}))
    eventually(lambda: sorted(cluster.jobs(namespace, "ordered")) == ["ordered-driver-0"], what="the driver only")
    progress = eventually(lambda: condition(cluster.jobset(namespace, "ordered"), "StartupPolicyInProgress"),
                          what="StartupPolicyInProgress")
    assert progress["status"] == "True" and progress["reason"] == "InOrderStartupPolicyInProgress"
    cluster.make_ready(namespace, "ordered-driver-0")
    eventually(lambda: "ordered-workers-0" in cluster.jobs(namespace, "ordered"), what="the workers after the driver")
    cluster.make_ready(namespace, "ordered-workers-0")
    completed = eventually(lambda: (c := condition(cluster.jobset(namespace, "ordered"), "StartupPolicyCompleted"))
                           and c["status"] == "True" and c, what="StartupPolicyCompleted")
    assert completed["reason"] == "InOrderStartupPolicyCompleted"
    assert condition(cluster.jobset(namespace, "ordered"), "StartupPolicyInProgress")["status"] == "False"


def test_restart_job_recreates_only_the_failed_job(cluster: harness.Cluster, namespace: str) -> None:
    """§10.8, §10.9 (gate RestartJob on): only the failed Job comes back, with job-restart-attempt 1;
    status.restarts does not move and the per-Job counters record the restart."""
    policy = {"maxRestarts": 3, "rules": [{"name": "justThatOne", "action": "RestartJob"}]}
    cluster.create_jobset(namespace, jobset_manifest("single", ("workers", 2), failurePolicy=policy))
    jobs = eventually(lambda: (found := cluster.jobs(namespace, "single")) and len(found) == 2 and found, what="jobs")
    untouched_uid = jobs["single-workers-0"]["metadata"]["uid"]
    cluster.fail_job(namespace, "single-workers-1")

    def recreated() -> bool:
        job = cluster.jobs(namespace, "single").get("single-workers-1")
        return bool(job) and job["metadata"]["labels"].get(JOBSET + "job-restart-attempt") == "1" \
            and not job["metadata"].get("deletionTimestamp")
    eventually(recreated, what="single-workers-1 recreated with job-restart-attempt 1")
    assert cluster.jobs(namespace, "single")["single-workers-0"]["metadata"]["uid"] == untouched_uid
    status = cluster.jobset(namespace, "single")["status"]
    assert status.get("restarts", 0) == 0
    workers = next(e for e in status["replicatedJobsStatus"] if e["name"] == "workers")
    assert workers["jobRestarts"] == [0, 1] and workers["jobRestartsCountTowardsMax"] == [0, 1]
