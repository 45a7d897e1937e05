"""upstream-examples/failure-policy without feature gates: the leader's pod 0 exits 1 (and, for
the host-maintenance model, a pod is evicted); the JobSet fails or restarts as each policy
says (spec §10.8, §10.9)."""

from __future__ import annotations

from typing import Any

import exampleharness as runs
import upstreamharness as harness
from exampleharness import condition


def _failed_reasons(run: runs.Run, job: str) -> list[str]:
    """The reason of each Failed condition `job` carried, one per incarnation."""
    seen: dict[str, str] = {}
    for event in run.history("Job"):
        meta = event.obj["metadata"]
        for c in (event.obj.get("status") or {}).get("conditions") or []:
            if meta["name"] == job and c["type"] == "Failed" and c["status"] == "True":
                seen[meta["uid"]] = c["reason"]
    return list(seen.values())


def _restarting_past_the_budget(run: runs.Run, rule: str) -> dict[str, Any]:
    jobset = run.wait_for(lambda js: (js.get("status") or {}).get("restarts", 0) >= 5,
                          what="five restarts (maxRestarts is 3)", timeout=60)
    assert condition(jobset, "Failed") is None and not jobset["status"].get("terminalState")
    assert "restartsCountTowardsMax" not in jobset["status"]
    assert condition(jobset, "RestartingJobSet")["reason"] == f"FailurePolicy_{rule}"
    return jobset


def test_failjobset_action_fails_when_the_leader_fails(upstream: harness.Upstream) -> None:
    """§10.8 FailJobSet targeting the leader: Failed (FailJobSetFailurePolicyAction) at the first leader failure."""
    run = upstream("failure-policy/failjobset-action.yaml", "failjobset-action")
    jobset = run.finished(timeout=60)
    failed = condition(jobset, "Failed")
    assert jobset["status"]["terminalState"] == "Failed" and failed["reason"] == "FailJobSetFailurePolicyAction"
    assert failed["message"].endswith("(first failed job: failjobset-action-example-leader-0)")
    assert jobset["status"]["restarts"] == 0
    assert _failed_reasons(run, "failjobset-action-example-leader-0") == ["BackoffLimitExceeded"]


def test_restartjobset_action_restarts_until_max_restarts(upstream: harness.Upstream) -> None:
    """§10.8 RestartJobSet targeting the leader: restarts 3 (counted), then ReachedMaxRestarts."""
    run = upstream("failure-policy/restartjobset-action.yaml", "restartjobset-action")
    jobset = run.finished(timeout=90)
    assert jobset["status"]["terminalState"] == "Failed"
    assert condition(jobset, "Failed")["reason"] == "ReachedMaxRestarts"
    assert jobset["status"]["restarts"] == 3 and jobset["status"]["restartsCountTowardsMax"] == 3
    assert len(_failed_reasons(run, "restartjobset-action-example-leader-0")) == 4


def test_restartjobsetandignoremaxrestarts_action_restarts_without_end(upstream: harness.Upstream) -> None:
    """§10.8 RestartJobSetAndIgnoreMaxRestarts: more restarts than maxRestarts 3, none counted, never Failed."""
    run = upstream("failure-policy/restartjobsetandignoremaxrestarts-action.yaml",
                   "restartjobsetandignoremaxrestarts-action")
    _restarting_past_the_budget(run, "failurePolicyRule0")


def test_onjobfailurereasons_backoff_limit_restarts_without_end(upstream: harness.Upstream) -> None:
    """§10.8 onJobFailureReasons [BackoffLimitExceeded]: the OnFailure container restart fails the leader Job with
    that reason; the rule restarts the JobSet past maxRestarts."""
    run = upstream("failure-policy/onjobfailurereasons-present.yaml", "onjobfailurereasons-present")
    _restarting_past_the_budget(run, "failurePolicyRule0")
    assert set(_failed_reasons(run, "onjobfailurereasons-present-example-leader-0")) == {"BackoffLimitExceeded"}


def test_onjobfailurereasons_pod_failure_policy_restarts_without_end(upstream: harness.Upstream) -> None:
    """§10.8 onJobFailureReasons [PodFailurePolicy]: exit code 1 of container leader -> FailJob -> PodFailurePolicy;
    the rule restarts the JobSet past maxRestarts."""
    run = upstream("failure-policy/onjobfailurereasons-present-podfailurepolicy.yaml",
                   "onjobfailurereasons-present-podfailurepolicy")
    _restarting_past_the_budget(run, "failurePolicyRule0")
    assert set(_failed_reasons(run, "onjobfailurereasons-podfailurepolicy-example-leader-0")) == {"PodFailurePolicy"}


def test_host_maintenance_model_ignores_evictions_and_counts_crashes(upstream: harness.Upstream,
                                                                     simulations: harness.Simulations) -> None:
    """§10.8: an evicted leader pod (DisruptionTarget -> PodFailurePolicy) restarts without counting; then the
    leader's pod 0 exiting 1 (BackoffLimitExceeded) meets RestartJobSet with maxRestarts 0: ReachedMaxRestarts."""
    run = upstream("failure-policy/host-maintenance-event-model.yaml", "host-maintenance-event-model")
    def running_leader_pod() -> dict[str, Any] | None:
        prefix = "host-maintenance-event-model-leader-0-1-"
        return next((p for p in run.pods() if p["metadata"]["name"].startswith(prefix)
                     and (p.get("status") or {}).get("phase") == "Running"), None)
    leader = runs.eventually(running_leader_pod, what="leader pod 1 running")
    simulations.current.evict(run.namespace, leader["metadata"]["name"])
    jobset = run.finished(timeout=60)
    assert jobset["status"]["terminalState"] == "Failed"
    assert condition(jobset, "Failed")["reason"] == "ReachedMaxRestarts"
    assert jobset["status"]["restarts"] == 1 and "restartsCountTowardsMax" not in jobset["status"]
    assert _failed_reasons(run, "host-maintenance-event-model-leader-0") == ["PodFailurePolicy", "BackoffLimitExceeded"]
