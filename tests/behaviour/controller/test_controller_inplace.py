"""The controller side of in-place restart on the real HTTP API (gate `InPlaceRestart`, spec §11.1).

The test plays the in-place restart agent and the kubelet: it creates Pods labelled with the
JobSet name, annotates them with their in-place restart attempt and writes their containers'
restart counts; the controller, watching Pods, keeps `currentInPlaceRestartAttempt` and
`previousInPlaceRestartAttempt` and fails the JobSet beyond `maxRestarts`, per §11.1's steps.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import controllerharness as harness
from controllerharness import annotate_pod, condition, create_pod, jobset_manifest, set_pod_status, wait_for_jobs

FAILED_MESSAGE = "jobset failed due to reaching max number of restarts"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[harness.Cluster]:
    """This module's installation runs with gate InPlaceRestart on."""
    with harness.installation(tmp_path_factory.mktemp("inplace"), {"InPlaceRestart": True}) as installed:
        yield installed


def in_place(name: str, max_restarts: int, **policy: Any) -> dict[str, Any]:
    """Two Jobs of one pod each (expected Pods: 2), restart strategy InPlaceRestart (spec §11 admission)."""
    manifest = jobset_manifest(name, ("workers", 2), failurePolicy={
        "maxRestarts": max_restarts, "restartStrategy": "InPlaceRestart", **policy})
    manifest["spec"]["replicatedJobs"][0]["template"]["spec"].update(
        completionMode="Indexed", parallelism=1, completions=1, backoffLimit=2147483647,
        podReplacementPolicy="Failed")
    return manifest


def started(cluster: harness.Cluster, namespace: str, name: str, max_restarts: int = 3, **policy: Any) -> None:
    cluster.create_jobset(namespace, in_place(name, max_restarts, **policy))
    wait_for_jobs(cluster, namespace, name, [f"{name}-workers-0", f"{name}-workers-1"])


def pods(cluster: harness.Cluster, namespace: str, jobset: str, *attempts: str | None) -> None:
    """One running Pod per attempt (None: no annotation), named <jobset>-<i>."""
    for index, attempt in enumerate(attempts):
        create_pod(cluster, namespace, f"{jobset}-{index}", jobset=jobset, attempt=attempt)
        set_pod_status(cluster, namespace, f"{jobset}-{index}")


def status_has(cluster: harness.Cluster, namespace: str, name: str, **wanted: int) -> dict[str, Any]:
    """The JobSet status once it holds every field of `wanted` with that value."""
    return harness.eventually(lambda: (status := cluster.jobset(namespace, name).get("status") or {})
                              and all(status.get(k) == v for k, v in wanted.items()) and status,
                              what=f"status {wanted}")


def observed_after(cluster: harness.Cluster, namespace: str, name: str) -> dict[str, Any]:
    """The status written once the controller saw the Pod changes made so far: the test then marks
    Job 0 ready, and the counters written for that were computed in a pass that had seen them."""
    cluster.make_ready(namespace, f"{name}-workers-0")
    return harness.counters_reach(cluster, namespace, name, workers={"ready": 1})["status"]


def failed_for_max_restarts(cluster: harness.Cluster, namespace: str, name: str) -> None:
    """§11.1, §10.5: Failed=True, ReachedMaxRestarts, the message without a first-failed-job suffix."""
    failed = harness.condition_is(cluster, namespace, name, "Failed", "True")
    assert (failed["reason"], failed["message"]) == ("ReachedMaxRestarts", FAILED_MESSAGE)
    assert cluster.jobset(namespace, name)["status"]["terminalState"] == "Failed"
    assert ("Warning", "ReachedMaxRestarts", FAILED_MESSAGE) in harness.recorded(cluster, namespace, name,
                                                                                 "ReachedMaxRestarts")


def test_pods_in_sync_publish_the_current_attempt_section_11_1(cluster: harness.Cluster, namespace: str) -> None:
    """§11.1 step 5: both expected Pods at attempt 0 -> current 0 (nil -> 0 is a change); both at 1 -> 1."""
    started(cluster, namespace, "sync")
    pods(cluster, namespace, "sync", "0", "0")
    status_has(cluster, namespace, "sync", currentInPlaceRestartAttempt=0)
    annotate_pod(cluster, namespace, "sync-0", "1")
    annotate_pod(cluster, namespace, "sync-1", "1")
    status = status_has(cluster, namespace, "sync", currentInPlaceRestartAttempt=1)
    assert condition(cluster.jobset(namespace, "sync"), "Failed") is None
    assert status.get("restarts", 0) == 0


def test_a_pod_ahead_publishes_the_previous_attempt_section_11_1(cluster: harness.Cluster, namespace: str) -> None:
    """§11.1 step 7: Pods at [1, 0] -> previous = max - 1 = 0 while current stays 0; then in sync at 1."""
    started(cluster, namespace, "ahead")
    pods(cluster, namespace, "ahead", "0", "0")
    status_has(cluster, namespace, "ahead", currentInPlaceRestartAttempt=0)
    annotate_pod(cluster, namespace, "ahead-0", "1")
    status_has(cluster, namespace, "ahead", previousInPlaceRestartAttempt=0, currentInPlaceRestartAttempt=0)
    annotate_pod(cluster, namespace, "ahead-1", "1")
    status_has(cluster, namespace, "ahead", previousInPlaceRestartAttempt=0, currentInPlaceRestartAttempt=1)


def test_previous_attempt_never_decreases_section_11_1(cluster: harness.Cluster, namespace: str) -> None:
    """§11.1 step 7: previous is 2 at [3, 0]; at [2, 0] (candidate 1) it stays 2; at [4, 0] it is 3."""
    started(cluster, namespace, "mono", max_restarts=5)
    pods(cluster, namespace, "mono", "3", "0")
    status_has(cluster, namespace, "mono", previousInPlaceRestartAttempt=2)
    annotate_pod(cluster, namespace, "mono-0", "2")
    assert observed_after(cluster, namespace, "mono")["previousInPlaceRestartAttempt"] == 2
    annotate_pod(cluster, namespace, "mono-0", "4")
    status_has(cluster, namespace, "mono", previousInPlaceRestartAttempt=3)


def test_unannotated_failed_and_foreign_pods_are_not_counted_section_11_1(cluster: harness.Cluster,
                                                                          namespace: str) -> None:
    """§11.1 steps 2 and 5: a Pod without the annotation and a Failed Pod give no attempt, and another
    JobSet's Pod is not associated: attempts [1] of 2 expected -> previous 0, no current attempt."""
    started(cluster, namespace, "few")
    pods(cluster, namespace, "few", "1", None)
    create_pod(cluster, namespace, "few-2", jobset="few", attempt=None)
    set_pod_status(cluster, namespace, "few-2", phase="Failed")
    annotate_pod(cluster, namespace, "few-2", "1")
    create_pod(cluster, namespace, "stranger", jobset="someone-else", attempt="1")
    status = observed_after(cluster, namespace, "few")
    assert status["previousInPlaceRestartAttempt"] == 0 and "currentInPlaceRestartAttempt" not in status


def test_container_restarts_beyond_max_restarts_fail_the_jobset_section_11_1(cluster: harness.Cluster,
                                                                             namespace: str) -> None:
    """§11.1 step 1, §13: an init container restarted maxRestarts + 1 times fails the JobSet
    (ReachedMaxRestarts, no first-failed-job suffix) and counts in jobset_failed_total."""
    from engine.metrics import metrics

    started(cluster, namespace, "crash", max_restarts=2)
    pods(cluster, namespace, "crash", "0", "0")
    set_pod_status(cluster, namespace, "crash-1", restarts=2)
    status_has(cluster, namespace, "crash", currentInPlaceRestartAttempt=0)
    assert condition(cluster.jobset(namespace, "crash"), "Failed") is None
    set_pod_status(cluster, namespace, "crash-1", restarts=2, init_restarts=3)
    failed_for_max_restarts(cluster, namespace, "crash")
    harness.eventually(lambda: metrics.value("jobset_failed_total",
                                             {"jobset_name": "crash", "namespace": namespace}) == 1,
                       what="jobset_failed_total")


def test_attempts_beyond_max_restarts_fail_the_jobset_section_11_1(cluster: harness.Cluster, namespace: str) -> None:
    """§11.1 step 3 with no restarts, maxRestarts 1: attempts [1, 0] are within the budget (1 - 0 = 1),
    [2, 0] exceed it (2 > 1), as in the examples 1/0/0/[1,2]."""
    started(cluster, namespace, "over", max_restarts=1)
    pods(cluster, namespace, "over", "1", "0")
    status_has(cluster, namespace, "over", previousInPlaceRestartAttempt=0)
    assert condition(cluster.jobset(namespace, "over"), "Failed") is None
    annotate_pod(cluster, namespace, "over-0", "2")
    failed_for_max_restarts(cluster, namespace, "over")


def test_uncounted_restarts_widen_the_attempt_budget_section_11_1(cluster: harness.Cluster, namespace: str) -> None:
    """§11.1 step 3: after a RestartJobSetAndIgnoreMaxRestarts restart (restarts 1, counted 0) the
    budget shifts by one: attempts [2, 1] pass (2 - 1 = 1), [3, 1] fail (3 - 1 = 2 > 1)."""
    rule = {"name": "transient", "action": "RestartJobSetAndIgnoreMaxRestarts",
            "onJobFailureReasons": ["PodFailurePolicy"]}
    started(cluster, namespace, "free", max_restarts=1, rules=[rule])
    cluster.fail_job(namespace, "free-workers-0", reason="PodFailurePolicy", message="node drained")
    harness.eventually(lambda: set(harness.restart_attempts(cluster, namespace, "free").values()) == {"1"}
                       and len(harness.restart_attempts(cluster, namespace, "free")) == 2, what="attempt 1 jobs")
    status = status_has(cluster, namespace, "free", restarts=1)
    assert status.get("restartsCountTowardsMax", 0) == 0
    pods(cluster, namespace, "free", "2", "1")
    status_has(cluster, namespace, "free", previousInPlaceRestartAttempt=1)
    assert condition(cluster.jobset(namespace, "free"), "Failed") is None
    annotate_pod(cluster, namespace, "free-0", "3")
    failed_for_max_restarts(cluster, namespace, "free")


def test_a_malformed_attempt_fails_the_pass_until_fixed_section_11_1(cluster: harness.Cluster, namespace: str) -> None:
    """§11.1 step 2: a negative or non-integer attempt makes the pass fail (a reconcile error, no status
    change); once the annotation is fixed the attempt is published."""
    from engine.metrics import metrics

    def errors() -> float:
        return metrics.value("controller_runtime_reconcile_errors_total", {"controller": "jobset"})
    started(cluster, namespace, "odd")
    pods(cluster, namespace, "odd", None, "0")
    for bad in ("-1", "one"):
        before = errors()
        annotate_pod(cluster, namespace, "odd-0", bad)
        harness.eventually(lambda: errors() > before, what=f"a reconcile error for {bad!r}")
        assert "currentInPlaceRestartAttempt" not in (cluster.jobset(namespace, "odd").get("status") or {})
    annotate_pod(cluster, namespace, "odd-0", "0")
    status_has(cluster, namespace, "odd", currentInPlaceRestartAttempt=0)


def test_bookkeeping_runs_while_suspended_section_11_1(cluster: harness.Cluster, namespace: str) -> None:
    """§8 step 16, §11.1: the in-place step also runs for a suspended JobSet."""
    cluster.create_jobset(namespace, {**in_place("asleep", 3), "spec": {**in_place("asleep", 3)["spec"],
                                                                        "suspend": True}})
    wait_for_jobs(cluster, namespace, "asleep", ["asleep-workers-0", "asleep-workers-1"])
    pods(cluster, namespace, "asleep", "2", "2")
    status_has(cluster, namespace, "asleep", currentInPlaceRestartAttempt=2)


def test_other_restart_strategies_ignore_the_pods_section_8(cluster: harness.Cluster, namespace: str) -> None:
    """§8 step 16: with restartStrategy Recreate, Pods' attempts and restart counts are not looked at."""
    manifest = in_place("recreate", 1)
    manifest["spec"]["failurePolicy"]["restartStrategy"] = "Recreate"
    cluster.create_jobset(namespace, manifest)
    wait_for_jobs(cluster, namespace, "recreate", ["recreate-workers-0", "recreate-workers-1"])
    pods(cluster, namespace, "recreate", "5", "5")
    set_pod_status(cluster, namespace, "recreate-0", restarts=9)
    status = observed_after(cluster, namespace, "recreate")
    assert "currentInPlaceRestartAttempt" not in status and condition(cluster.jobset(namespace, "recreate"),
                                                                       "Failed") is None
