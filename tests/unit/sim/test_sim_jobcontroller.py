"""The Job controller's pure decision (embedded-apiserver.md §4): counters, conditions,
reasons, messages and the pods it asks for, with no event loop."""

from __future__ import annotations

import datetime
import itertools
from typing import Any

from engine.localcluster.sim import jobcontroller, jobpods, jobpolicy, podstate

T0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
_serial = itertools.count()


def job(**spec: Any) -> dict[str, Any]:
    base = {"parallelism": 1, "completions": 1, "backoffLimit": 6,
            "template": {"metadata": {"labels": {"app": "x"}},
                         "spec": {"restartPolicy": "Never",
                                  "containers": [{"name": "main", "image": "busybox"}]}}}
    base.update(spec)
    return {"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": "train", "namespace": "ns", "uid": "job-uid"},
            "spec": base, "status": {}}


def materialise(plan: jobcontroller.Plan, at: datetime.datetime) -> list[dict[str, Any]]:
    pods = []
    for pod in plan.create:
        n = next(_serial)
        pod["metadata"].update(name=f"{pod['metadata']['generateName']}p{n:04d}",
                               uid=f"pod-{n}", creationTimestamp=podstate.stamp(at))
        pods.append(pod)
    return pods


def finish(pod: dict[str, Any], phase: str, at: datetime.datetime, code: int = 0,
           conditions: list[dict[str, Any]] | None = None) -> None:
    pod["status"] = {"phase": phase, "conditions": conditions or [], "containerStatuses": [
        {"name": "main", "restartCount": 0, "state": {"terminated": {
            "exitCode": code, "finishedAt": podstate.stamp(at)}}}]}


def run(j: dict[str, Any], pods: list[dict[str, Any]], at: datetime.datetime,
        **settings: float) -> jobcontroller.Plan:
    plan = jobcontroller.decide(j, pods, now=at, settings=jobpolicy.Settings(**settings))
    if plan.status is not None:
        j["status"] = plan.status
    released = {p["metadata"]["uid"] for p in plan.release + plan.delete}
    for pod in pods:
        if pod["metadata"]["uid"] in released:
            pod["metadata"]["finalizers"] = []
    for pod in plan.delete + plan.terminate:
        for mine in pods:
            if mine["metadata"]["uid"] == pod["metadata"]["uid"]:
                mine["metadata"]["deletionTimestamp"] = podstate.stamp(at)
    pods += materialise(plan, at)
    return plan


def reasons(j: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    return [(c["type"], c["status"], c.get("reason", ""), c.get("message", ""))
            for c in j["status"].get("conditions", [])]


def test_indexed_pods_carry_index_names_hostname_env_finalizer_and_owner() -> None:
    j = job(completionMode="Indexed", completions=3, parallelism=3)
    plan = run(j, [], T0)
    assert [p["metadata"]["generateName"] for p in plan.create] == \
        ["train-0-", "train-1-", "train-2-"]
    pod = plan.create[1]
    assert pod["spec"]["hostname"] == "train-1"
    assert pod["metadata"]["annotations"][podstate.INDEX_KEY] == "1"
    assert pod["metadata"]["labels"][podstate.INDEX_KEY] == "1"
    assert pod["metadata"]["finalizers"] == [jobpods.TRACKING_FINALIZER]
    assert pod["metadata"]["ownerReferences"][0] == {
        "apiVersion": "batch/v1", "kind": "Job", "name": "train", "uid": "job-uid",
        "controller": True, "blockOwnerDeletion": True}
    env = pod["spec"]["containers"][0]["env"]
    assert env == [{"name": "JOB_COMPLETION_INDEX", "valueFrom": {"fieldRef": {
        "apiVersion": "v1",
        "fieldPath": "metadata.annotations['batch.kubernetes.io/job-completion-index']"}}}]
    assert j["status"]["active"] == 3 and j["status"]["startTime"] == podstate.stamp(T0)


def test_nonindexed_runs_min_of_parallelism_and_remaining_completions() -> None:
    j = job(completions=3, parallelism=2)
    pods: list[dict[str, Any]] = []
    plan = run(j, pods, T0)
    assert [p["metadata"]["generateName"] for p in plan.create] == ["train-", "train-"]
    finish(pods[0], "Succeeded", T0)
    finish(pods[1], "Succeeded", T0)
    plan = run(j, pods, T0)
    assert len(plan.create) == 1 and j["status"]["succeeded"] == 2
    finish(pods[2], "Succeeded", T0)
    run(j, pods, T0 + datetime.timedelta(seconds=5))
    assert reasons(j) == [
        ("SuccessCriteriaMet", "True", "CompletionsReached",
         "Reached expected number of succeeded pods"),
        ("Complete", "True", "CompletionsReached", "Reached expected number of succeeded pods")]
    assert j["status"]["completionTime"] == podstate.stamp(T0 + datetime.timedelta(seconds=5))
    assert j["status"]["active"] == 0 and j["status"]["succeeded"] == 3


def test_work_queue_job_stops_creating_after_first_success_and_completes_when_all_end() -> None:
    j = job(completions=None, parallelism=2)
    pods: list[dict[str, Any]] = []
    run(j, pods, T0)
    finish(pods[0], "Succeeded", T0)
    plan = run(j, pods, T0)
    assert plan.create == [] and "conditions" not in j["status"]
    finish(pods[1], "Succeeded", T0)
    run(j, pods, T0)
    assert reasons(j)[-1][0:3] == ("Complete", "True", "CompletionsReached")


def test_backoff_limit_exceeded_goes_failure_target_then_failed_with_warning_event() -> None:
    j = job(backoffLimit=1)
    pods: list[dict[str, Any]] = []
    run(j, pods, T0)
    finish(pods[0], "Failed", T0, code=1)
    plan = run(j, pods, T0, backoff_base=10)
    assert plan.create == [] and plan.requeue_after == 10
    plan = run(j, pods, T0 + datetime.timedelta(seconds=10), backoff_base=10)
    assert len(plan.create) == 1 and j["status"]["failed"] == 1
    finish(pods[1], "Failed", T0 + datetime.timedelta(seconds=11), code=1)
    plan = run(j, pods, T0 + datetime.timedelta(seconds=12))
    assert reasons(j) == [
        ("FailureTarget", "True", "BackoffLimitExceeded",
         "Job has reached the specified backoff limit"),
        ("Failed", "True", "BackoffLimitExceeded", "Job has reached the specified backoff limit")]
    assert ("Warning", "BackoffLimitExceeded", "Job has reached the specified backoff limit") \
        in plan.events
    assert j["status"]["failed"] == 2 and "completionTime" not in j["status"]


def test_backoff_doubles_after_each_consecutive_failure() -> None:
    j = job(backoffLimit=5)
    pods: list[dict[str, Any]] = []
    run(j, pods, T0)
    finish(pods[0], "Failed", T0, code=1)
    run(j, pods, T0 + datetime.timedelta(seconds=10), backoff_base=10)
    finish(pods[1], "Failed", T0 + datetime.timedelta(seconds=10), code=1)
    plan = run(j, pods, T0 + datetime.timedelta(seconds=15), backoff_base=10)
    assert plan.create == [] and plan.requeue_after == 15


def test_pod_failure_policy_fail_job_message_names_container_pod_code_and_rule() -> None:
    j = job(podFailurePolicy={"rules": [
        {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]},
        {"action": "FailJob", "onExitCodes": {"operator": "In", "values": [42]}}]})
    pods: list[dict[str, Any]] = []
    run(j, pods, T0)
    finish(pods[0], "Failed", T0, code=42)
    plan = run(j, pods, T0)
    name = pods[0]["metadata"]["name"]
    message = f"Container main for pod ns/{name} failed with exit code 42 matching FailJob rule at index 1"
    assert reasons(j)[0] == ("FailureTarget", "True", "PodFailurePolicy", message)
    assert reasons(j)[1] == ("Failed", "True", "PodFailurePolicy", message)
    assert plan.create == []


def test_pod_failure_policy_ignore_does_not_count_and_recreates_at_once() -> None:
    j = job(backoffLimit=0, podFailurePolicy={"rules": [
        {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]}]})
    pods: list[dict[str, Any]] = []
    run(j, pods, T0)
    finish(pods[0], "Failed", T0, code=137,
           conditions=[{"type": "DisruptionTarget", "status": "True"}])
    plan = run(j, pods, T0)
    assert len(plan.create) == 1 and j["status"]["failed"] == 0
    assert "conditions" not in j["status"]


def test_backoff_limit_per_index_fails_only_that_index_then_failed_indexes() -> None:
    j = job(completionMode="Indexed", completions=2, parallelism=2, backoffLimitPerIndex=1)
    pods: list[dict[str, Any]] = []
    run(j, pods, T0)
    first = next(p for p in pods if podstate.completion_index(p) == 0)
    finish(first, "Failed", T0, code=1)
    plan = run(j, pods, T0 + datetime.timedelta(seconds=10), backoff_base=10)
    assert [p["metadata"]["annotations"][jobpods.FAILURE_COUNT] for p in plan.create] == ["1"]
    assert j["status"]["failedIndexes"] == ""
    retry = pods[-1]
    finish(retry, "Failed", T0 + datetime.timedelta(seconds=11), code=1)
    plan = run(j, pods, T0 + datetime.timedelta(seconds=40))
    assert plan.create == [] and j["status"]["failedIndexes"] == "0"
    assert "conditions" not in j["status"]
    finish(next(p for p in pods if podstate.completion_index(p) == 1), "Succeeded", T0)
    run(j, pods, T0 + datetime.timedelta(seconds=41))
    assert reasons(j)[-1] == ("Failed", "True", "FailedIndexes", "Job has failed indexes")
    assert j["status"]["completedIndexes"] == "1"


def test_max_failed_indexes_exceeded() -> None:
    j = job(completionMode="Indexed", completions=3, parallelism=3, backoffLimitPerIndex=0,
            maxFailedIndexes=0)
    pods: list[dict[str, Any]] = []
    run(j, pods, T0)
    finish(pods[2], "Failed", T0, code=1)
    run(j, pods, T0)
    assert reasons(j)[0] == ("FailureTarget", "True", "MaxFailedIndexesExceeded",
                             "Job has exceeded the specified maximal number of failed indexes")
    assert j["status"]["failedIndexes"] == "2"


def test_fail_index_action_fails_the_index_without_retry() -> None:
    j = job(completionMode="Indexed", completions=2, parallelism=2, backoffLimitPerIndex=3,
            podFailurePolicy={"rules": [{"action": "FailIndex",
                                         "onExitCodes": {"operator": "In", "values": [3]}}]})
    pods: list[dict[str, Any]] = []
    run(j, pods, T0)
    finish(pods[0], "Failed", T0, code=3)
    plan = run(j, pods, T0 + datetime.timedelta(minutes=5))
    assert plan.create == [] and j["status"]["failedIndexes"] == "0"


def test_success_policy_ends_job_and_deletes_lingering_pods() -> None:
    j = job(completionMode="Indexed", completions=3, parallelism=3,
            successPolicy={"rules": [{"succeededIndexes": "0"}]})
    pods: list[dict[str, Any]] = []
    run(j, pods, T0)
    finish(pods[0], "Succeeded", T0)
    plan = run(j, pods, T0)
    assert reasons(j) == [("SuccessCriteriaMet", "True", "SuccessPolicy",
                           "Matched rules at index 0")]
    assert len(plan.terminate) == 2 and len(plan.release) == 3
    for pod in pods[1:]:
        finish(pod, "Failed", T0, code=137)
        pod["metadata"]["deletionTimestamp"] = podstate.stamp(T0)
    run(j, pods, T0)
    assert reasons(j)[-1] == ("Complete", "True", "SuccessPolicy", "Matched rules at index 0")
    assert j["status"]["failed"] == 0 and j["status"]["completedIndexes"] == "0"


def test_suspend_deletes_active_pods_and_resume_resets_start_time() -> None:
    j = job(completions=2, parallelism=2)
    pods: list[dict[str, Any]] = []
    run(j, pods, T0)
    j["spec"]["suspend"] = True
    plan = run(j, pods, T0 + datetime.timedelta(seconds=30))
    assert len(plan.delete) == 2 and ("Normal", "Suspended", "Job suspended") in plan.events
    assert reasons(j) == [("Suspended", "True", "JobSuspended", "Job suspended")]
    for pod in pods:
        finish(pod, "Failed", T0, code=137)
    run(j, pods, T0 + datetime.timedelta(seconds=31))
    assert j["status"]["failed"] == 0
    j["spec"]["suspend"] = False
    later = T0 + datetime.timedelta(seconds=60)
    plan = run(j, pods, later)
    assert reasons(j) == [("Suspended", "False", "JobResumed", "Job resumed")]
    assert j["status"]["startTime"] == podstate.stamp(later) and len(plan.create) == 2


def test_active_deadline_beats_backoff_and_requeues_until_then() -> None:
    j = job(activeDeadlineSeconds=30)
    pods: list[dict[str, Any]] = []
    plan = run(j, pods, T0)
    assert plan.requeue_after == 30
    run(j, pods, T0 + datetime.timedelta(seconds=31))
    assert reasons(j)[0] == ("FailureTarget", "True", "DeadlineExceeded",
                             "Job was active longer than specified deadline")
    assert len([p for p in pods if podstate.is_deleting(p)]) == 1
    assert j["status"]["failed"] == 1 and j["status"]["terminating"] == 1
    pods[0]["status"] = {"phase": "Failed"}
    run(j, pods, T0 + datetime.timedelta(seconds=32))
    assert reasons(j)[-1][0:3] == ("Failed", "True", "DeadlineExceeded")
    assert j["status"]["failed"] == 1 and j["status"]["terminating"] == 0


def test_finished_job_only_releases_finalizers() -> None:
    j = job()
    pods: list[dict[str, Any]] = []
    run(j, pods, T0)
    j["status"]["conditions"] = [{"type": "Complete", "status": "True"}]
    plan = jobcontroller.decide(j, pods, now=T0)
    assert plan.status is None and plan.create == [] and len(plan.release) == 1


def test_index_sets_use_the_compressed_form() -> None:
    assert jobpolicy.format_indexes({1, 3, 4, 5, 7, 9, 10}) == "1,3-5,7,9,10"
    assert jobpolicy.parse_indexes("1,3-5,7,9,10", limit=10) == {1, 3, 4, 5, 7, 9}
    assert jobpolicy.format_indexes(set()) == ""


def test_pod_replacement_policy_failed_waits_for_terminating_pods() -> None:
    """TerminatingOrFailed (the default) replaces and counts a deleted pod at once; Failed
    waits until the pod has ended."""
    eager = job(podReplacementPolicy="TerminatingOrFailed")
    pods: list[dict[str, Any]] = []
    run(eager, pods, T0)
    pods[0]["metadata"]["deletionTimestamp"] = podstate.stamp(T0)
    plan = run(eager, pods, T0)
    assert eager["status"]["failed"] == 1 and eager["status"]["terminating"] == 1
    assert plan.requeue_after == 10 and plan.create == []
    patient = job(podReplacementPolicy="Failed")
    pods = []
    run(patient, pods, T0)
    pods[0]["metadata"]["deletionTimestamp"] = podstate.stamp(T0)
    plan = run(patient, pods, T0 + datetime.timedelta(minutes=10))
    assert plan.create == [] and patient["status"]["failed"] == 0
    assert patient["status"]["terminating"] == 1
    pods[0]["status"] = {"phase": "Failed"}
    plan = run(patient, pods, T0 + datetime.timedelta(minutes=10))
    assert patient["status"]["failed"] == 1 and patient["status"]["terminating"] == 0
