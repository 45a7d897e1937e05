"""The Pod reconciler of exclusive placement (spec §12.4) on the simulated cluster.

Each test gets two nodes of its own (label `example.com/pool=<namespace>` and a taint of that
name, which its pods select and tolerate), one per rack, so relabelling or deleting them
disturbs no other test.
"""

from __future__ import annotations

import datetime
import logging
from typing import Any

import pytest

import placementharness as harness
from engine.kube import placement, resources
from placementharness import EXCLUSIVE, RACK

POOL = "example.com/pool"
HOLD = "example.com/hold"


def running_job(space: harness.Space) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A one-Job exclusive JobSet of 3 pods on this test's nodes: (leader, followers), all bound."""
    space.cluster.add_nodes(f"{space.namespace}-node-", 2,
                            labels=lambda i: {POOL: space.namespace, RACK: f"{space.namespace}-rack-{i}"},
                            taints=[{"key": POOL, "value": space.namespace, "effect": "NoSchedule"}])
    space.jobset("kept", jobs=1, pods=3, annotations={EXCLUSIVE: RACK}, pod_spec={
        "nodeSelector": {POOL: space.namespace},
        "tolerations": [{"key": POOL, "operator": "Equal", "value": space.namespace, "effect": "NoSchedule"}]})
    pods = harness.eventually(lambda: (found := space.pods("kept")) and len(found) == 3
                              and all(p["spec"].get("nodeName") for p in found) and found, what="3 pods bound")
    leader = next(p for p in pods if harness.is_leader(p))
    return leader, [p for p in pods if not harness.is_leader(p)]


def hold(space: harness.Space, pod: dict[str, Any]) -> None:
    """Keep a pod visible after its deletion (a finalizer of the test's own)."""
    finalizers = pod["metadata"].get("finalizers", []) + [HOLD]
    space.cluster.patch(resources.PODS, pod["metadata"]["name"], {"metadata": {"finalizers": finalizers}},
                        namespace=space.namespace)


def touch(space: harness.Space, pod: dict[str, Any], value: str) -> None:
    """An update of the leader: the reconciler looks at it again."""
    space.cluster.patch(resources.PODS, pod["metadata"]["name"], {"metadata": {"annotations": {"touched": value}}},
                        namespace=space.namespace)


def test_followers_outside_the_leaders_domain_are_marked_and_deleted_never_the_leader(space: harness.Space) -> None:
    """§12.4 steps 4-5: after the leader's node changed rack, every follower gets DisruptionTarget
    (ExclusivePlacementViolation) and is deleted; the Job's replacements follow the leader's new rack."""
    leader, followers = running_job(space)
    for follower in followers:
        hold(space, follower)
    space.cluster.patch(resources.NODES, leader["spec"]["nodeName"], {"metadata": {"labels": {RACK: "moved"}}})
    touch(space, leader, "1")

    def evicted() -> list[dict[str, Any]]:
        current = {p["metadata"]["name"]: p for p in space.cluster.pods(space.namespace)}
        return [current[f["metadata"]["name"]] for f in followers
                if current.get(f["metadata"]["name"], {}).get("metadata", {}).get("deletionTimestamp")]

    marked = harness.eventually(lambda: len(evicted()) == 2 and evicted(), what="both followers deleted")
    for pod in marked:
        condition = next(c for c in pod["status"]["conditions"] if c["type"] == "DisruptionTarget")
        assert (condition["status"], condition["reason"], condition["message"]) == (
            "True", "ExclusivePlacementViolation", "Pod violated JobSet exclusive placement policy")
        space.cluster.patch(resources.PODS, pod["metadata"]["name"], {"metadata": {"finalizers": [
            f for f in pod["metadata"]["finalizers"] if f != HOLD]}}, namespace=space.namespace)
    alive = {p["metadata"]["uid"] for p in space.pods("kept")}
    assert leader["metadata"]["uid"] in alive
    replaced = harness.eventually(lambda: (now := [p for p in space.pods("kept") if not harness.is_leader(p)])
                                  and len(now) == 2 and now, what="two new followers")
    assert all(p["spec"]["nodeSelector"][RACK] == "moved" for p in replaced)


def test_a_leader_on_a_vanished_node_retries_and_deletes_nothing(
        space: harness.Space, caplog: pytest.LogCaptureFixture) -> None:
    """§12.4 steps 3-4: Node NotFound means an unknown topology: an error to retry, no deletion."""
    leader, followers = running_job(space)
    caplog.set_level(logging.ERROR, logger="engine.kube.controller")
    space.cluster.delete_node(leader["spec"]["nodeName"])
    touch(space, leader, "1")
    harness.eventually(lambda: "leader topology is unknown (node not found)" in caplog.text,
                       what="the reconcile error")
    names = {p["metadata"]["name"] for p in space.pods("kept")}
    assert {f["metadata"]["name"] for f in followers} | {leader["metadata"]["name"]} == names


def test_the_disruption_condition_is_added_once_and_replaces_another_status() -> None:
    """§12.4: same type and status: no write; another status: replaced; absent: appended only when True."""
    now = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    violation = {"type": "DisruptionTarget", "status": "True", "reason": "ExclusivePlacementViolation",
                 "message": "Pod violated JobSet exclusive placement policy"}
    pod: dict[str, Any] = {"status": {"conditions": [{"type": "Ready", "status": "True"}]}}
    assert placement.set_condition(pod, violation, now=now)
    assert pod["status"]["conditions"][1] == {**violation, "lastTransitionTime": "2026-01-02T03:04:05Z"}
    assert not placement.set_condition(pod, violation, now=now)
    pod["status"]["conditions"][1]["status"] = "False"
    assert placement.set_condition(pod, violation, now=now)
    assert [c["status"] for c in pod["status"]["conditions"]] == ["True", "True"]
    assert not placement.set_condition({"status": {}}, {**violation, "status": "False"}, now=now)
