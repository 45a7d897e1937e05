"""Elastic scaling (spec §10.14), in-place restart bookkeeping (spec §11.1), PVCs (spec §9.8)."""

from __future__ import annotations

import pytest
from planworld import World, events, make_jobset

from engine.planner import plan

IN_PLACE = {"maxRestarts": 1, "restartStrategy": "InPlaceRestart"}


def test_elastic_scaling_patches_only_when_template_values_agree_section_10_14() -> None:
    world = World(make_jobset(("w", 2)), gates={"ElasticJobSet": True})
    world.run()
    template = world.jobset["spec"]["replicatedJobs"][0]["template"]["spec"]
    template.update(parallelism=3, completions=3)
    assert world.run().of_type(plan.PatchJobScaling) == [
        plan.PatchJobScaling(name="js-w-0", parallelism=3, completions=3),
        plan.PatchJobScaling(name="js-w-1", parallelism=3, completions=3)]
    template.update(parallelism=4, completions=5)
    assert world.run().of_type(plan.PatchJobScaling) == []


def test_elastic_scaling_is_off_without_the_gate_section_10_14() -> None:
    world = World(make_jobset(("w", 1)))
    world.run()
    world.jobset["spec"]["replicatedJobs"][0]["template"]["spec"].update(parallelism=2, completions=2)
    assert world.run().of_type(plan.PatchJobScaling) == []


def pod(name: str, attempt: str | None = None, restarts: int = 0, phase: str = "Running") -> dict:
    annotations = {} if attempt is None else {"jobset.sigs.k8s.io/in-place-restart-attempt": attempt}
    return {"metadata": {"name": name, "labels": {"jobset.sigs.k8s.io/jobset-name": "js"},
                         "annotations": annotations},
            "status": {"phase": phase, "containerStatuses": [{"name": "c", "restartCount": restarts}]}}


def in_place_world(*pods: dict, **status: int) -> World:
    world = World(make_jobset(("w", 2), failurePolicy=IN_PLACE), gates={"InPlaceRestart": True})
    world.run()
    world.pods = list(pods)
    world.jobset["status"].update(status)
    return world


def test_all_pods_on_one_attempt_publish_current_attempt_section_11_1() -> None:
    world = in_place_world(pod("p0", "0"), pod("p1", "0"))
    world.run()
    assert world.jobset["status"]["currentInPlaceRestartAttempt"] == 0
    assert world.run().of_type(plan.WriteStatus) == []


def test_pods_ahead_publish_previous_attempt_which_never_decreases_section_11_1() -> None:
    world = in_place_world(pod("p0", "1"), pod("p1", "0"))
    world.run()
    assert world.jobset["status"]["previousInPlaceRestartAttempt"] == 0
    world.pods = [pod("p0", "1")]
    world.jobset["status"]["previousInPlaceRestartAttempt"] = 3
    assert world.run().of_type(plan.WriteStatus) == []


@pytest.mark.parametrize(("max_restarts", "restarts", "counted", "attempts", "exceeded"), [
    (1, 0, 0, ["1", "2"], True), (2, 0, 0, ["1", "2"], False), (1, 1, 1, ["1", "2"], True),
    (2, 1, 1, ["1", "2"], False), (1, 2, 1, ["2", "3"], True), (1, 2, 1, ["1", "2"], False),
])
def test_counted_attempts_beyond_max_restarts_fail_section_11_1(max_restarts: int, restarts: int, counted: int,
                                                               attempts: list[str], exceeded: bool) -> None:
    world = in_place_world(*(pod(f"p{i}", a) for i, a in enumerate(attempts)),
                           restarts=restarts, restartsCountTowardsMax=counted)
    world.jobset["spec"]["failurePolicy"]["maxRestarts"] = max_restarts
    result = world.run()
    failed = world.condition("Failed")
    assert (failed is not None) == exceeded
    if exceeded:
        assert (failed["reason"], failed["message"]) == (
            "ReachedMaxRestarts", "jobset failed due to reaching max number of restarts")
        assert ("Warning", "ReachedMaxRestarts", failed["message"]) in events(result)


def test_container_restart_count_beyond_max_restarts_fails_section_11_1() -> None:
    world = in_place_world(pod("p0", restarts=2, phase="Failed"))
    world.run()
    assert world.condition("Failed")["reason"] == "ReachedMaxRestarts"


def test_bad_attempt_annotation_fails_the_pass_section_11_1() -> None:
    world = in_place_world(pod("p0", "-1"))
    result = world.run()
    assert result.error is not None and "p0" in result.error


def test_in_place_restart_needs_the_gate_section_11_1() -> None:
    world = in_place_world(pod("p0", "0"), pod("p1", "0"))
    world.gates = {}
    world.run()
    assert "currentInPlaceRestartAttempt" not in world.jobset["status"]


def test_volume_claim_policies_create_missing_pvcs_with_owner_only_on_delete_section_9_8() -> None:
    policies = [{"templates": [{"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"]}}],
                 "retentionPolicy": {"whenDeleted": "Delete"}},
                {"templates": [{"metadata": {"name": "cache"}}], "retentionPolicy": {"whenDeleted": "Retain"}}]
    world = World(make_jobset(("w", 1), volumeClaimPolicies=policies))
    pvcs = [a.pvc for a in world.run().of_type(plan.CreatePVC)]
    assert [p["metadata"]["name"] for p in pvcs] == ["data-js", "cache-js"]
    assert "ownerReferences" in pvcs[0]["metadata"] and "ownerReferences" not in pvcs[1]["metadata"]
    assert pvcs[0]["metadata"]["labels"] == {"jobset.sigs.k8s.io/jobset-name": "js"}
