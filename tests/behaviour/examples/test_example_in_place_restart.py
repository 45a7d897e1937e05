"""examples/in-place-restart.yaml with gate InPlaceRestart on (spec §11): one worker fails once and
every Pod is restarted in place by its agent, run by the simulated kubelet as a sidecar."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import yaml

import exampleharness as harness
from engine.kube import resources

FEATURE_GATES = {"InPlaceRestart": True}


def test_a_failed_worker_restarts_every_pod_in_place(submit: Callable[[str], harness.Run]) -> None:
    """§11.1, §11.2: same Job and Pods throughout, restartCount 1 everywhere, attempt 1, restarts 0."""
    run = submit("in-place-restart.yaml")
    jobset = run.finished(timeout=60)
    status = jobset["status"]
    assert status["terminalState"] == "Completed", status
    assert status.get("restarts", 0) == 0
    assert (status["currentInPlaceRestartAttempt"], status["previousInPlaceRestartAttempt"]) == (1, 0)
    assert [name for name, _ in run.jobs_created()] == ["in-place-workers-0"]
    pods = run.objects(resources.PODS)
    assert len(pods) == 3, sorted(pods)
    for name, pod in pods.items():
        [agent], [worker] = pod["status"]["initContainerStatuses"], pod["status"]["containerStatuses"]
        assert (agent["restartCount"], worker["restartCount"]) == (1, 1), name
        assert worker["state"]["terminated"]["exitCode"] == 0, name
        assert pod["metadata"]["annotations"]["jobset.sigs.k8s.io/in-place-restart-attempt"] == "1", name
    failed = [name for name, pod in pods.items()
              if pod["status"]["containerStatuses"][0]["lastState"]["terminated"]["exitCode"] == 1]
    assert len(failed) == 1 and pods[failed[0]]["metadata"]["annotations"][
        "batch.kubernetes.io/job-completion-index"] == "1", failed


@pytest.mark.parametrize("opt_out", ["Recreate", "disable annotation"])
def test_an_opted_out_jobset_lets_the_agents_lift_their_barriers_at_once(cluster: harness.Cluster, namespace: str,
                                                                          opt_out: str) -> None:
    """§11.2 step 1 on the simulation: with restart strategy Recreate, or the disable annotation, no agent writes
    an attempt; the failed worker's Pod alone restarts its containers (its restartPolicyRules), the others run
    undisturbed."""
    [document] = [d for d in yaml.safe_load_all((harness.EXAMPLES / "in-place-restart.yaml").read_text()) if d]
    if opt_out == "Recreate":
        document["spec"]["failurePolicy"]["restartStrategy"] = "Recreate"
    else:
        document["metadata"]["annotations"] = {"jobset.sigs.k8s.io/disable-in-place-restart": "true"}
    run = cluster.submit_document(document, namespace)
    try:
        status = run.finished(timeout=60)["status"]
    finally:
        run.stop_watching()
    assert status["terminalState"] == "Completed", status
    assert "currentInPlaceRestartAttempt" not in status and "previousInPlaceRestartAttempt" not in status
    pods = run.objects(resources.PODS)
    restarts = {pod["metadata"]["annotations"]["batch.kubernetes.io/job-completion-index"]:
                pod["status"]["containerStatuses"][0]["restartCount"] for pod in pods.values()}
    assert restarts == {"0": 0, "1": 1, "2": 0}
    assert not any("jobset.sigs.k8s.io/in-place-restart-attempt" in pod["metadata"]["annotations"]
                   for pod in pods.values())
