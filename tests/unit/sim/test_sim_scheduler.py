"""The scheduler's placement decisions (embedded-apiserver.md §5.5): selectors, node
affinity operators, taints, resource fit and pod (anti-)affinity by topology."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from engine.localcluster.sim import placement, scheduler, topology

_uid = itertools.count()


def pod(ns: str = "default", labels: dict[str, str] | None = None, **spec: Any) -> dict[str, Any]:
    base = {"containers": [{"name": "main"}]}
    base.update(spec)
    return {"metadata": {"name": f"p{next(_uid)}", "namespace": ns, "uid": f"u{next(_uid)}",
                         "labels": labels or {}}, "spec": base}


def cluster() -> scheduler.Cluster:
    c = scheduler.Cluster()
    for n in topology.default_nodes():
        c.put_node(n)
    c.namespaces = {"default": {}, "team": {"team": "a"}}
    return c


def place(c: scheduler.Cluster, p: dict[str, Any]) -> scheduler.Choice:
    choice = scheduler.choose(p, c)
    if choice.node:
        p["spec"]["nodeName"] = choice.node
        c.put_pod(p)
    return choice


def node_of(c: scheduler.Cluster, choice: scheduler.Choice, key: str) -> str | None:
    assert choice.node is not None, choice.message
    return c.domain(choice.node, key)


def test_node_selector_and_required_affinity_operators() -> None:
    c = cluster()
    choice = place(c, pod(nodeSelector={topology.ZONE: "zone-b"}))
    assert node_of(c, choice, topology.ZONE) == "zone-b"
    term = {"matchExpressions": [{"key": topology.RACK, "operator": "NotIn",
                                  "values": ["zone-a-rack-1", "zone-b-rack-1", "zone-b-rack-2"]}]}
    affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [term]}}}
    for _ in range(5):
        assert node_of(c, place(c, pod(affinity=affinity)), topology.RACK) == "zone-a-rack-2"
    gpu = topology.node("big", labels={"gpus": "8"})
    c.put_node(gpu)
    gt = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": [
            {"key": "gpus", "operator": "Gt", "values": ["4"]}]}]}}}
    assert place(c, pod(affinity=gt)).node == "big"
    missing = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": [
            {"key": "gpus", "operator": "DoesNotExist"}, {"key": "gpus", "operator": "Exists"}]}]}}}
    assert place(c, pod(affinity=missing)).message == \
        "0/17 nodes are available: 17 node(s) didn't match Pod's node affinity/selector."


def test_taints_need_tolerations() -> None:
    c = scheduler.Cluster()
    c.put_node(topology.node("tainted", taints=[{"key": "gpu", "value": "yes",
                                                 "effect": "NoSchedule"}]))
    assert place(c, pod()).message == \
        "0/1 nodes are available: 1 node(s) had untolerated taint {gpu: yes}."
    tolerant = pod(tolerations=[{"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}])
    assert place(c, tolerant).node == "tainted"


def test_resource_requests_fit_and_pod_count() -> None:
    c = scheduler.Cluster()
    c.put_node(topology.node("small", capacity={"cpu": "2", "memory": "1Gi", "pods": "3"}))
    heavy = {"name": "m", "resources": {"requests": {"cpu": "1500m", "memory": "512Mi"}}}
    assert place(c, pod(containers=[heavy])).node == "small"
    assert place(c, pod(containers=[heavy])).message == \
        "0/1 nodes are available: 1 Insufficient cpu."
    assert place(c, pod()).node == "small"
    assert place(c, pod()).node == "small"
    assert place(c, pod()).message == "0/1 nodes are available: 1 Too many pods."


def test_pod_affinity_follows_first_pod_and_anti_affinity_keeps_groups_apart() -> None:
    """The shape JobSet's exclusive placement (spec §12.3) gives each pod."""
    c = cluster()

    def member(job: str) -> dict[str, Any]:
        key = "jobset.sigs.k8s.io/job-key"
        return pod(labels={key: job}, affinity={
            "podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{
                "topologyKey": topology.RACK,
                "labelSelector": {"matchExpressions": [{"key": key, "operator": "In",
                                                        "values": [job]}]}}]},
            "podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{
                "topologyKey": topology.RACK,
                "labelSelector": {"matchExpressions": [
                    {"key": key, "operator": "Exists"},
                    {"key": key, "operator": "NotIn", "values": [job]}]}}]}})

    racks: dict[str, set[str | None]] = {}
    for job in ("a", "b", "c", "d"):
        for _ in range(3):
            racks.setdefault(job, set()).add(node_of(c, place(c, member(job)), topology.RACK))
    assert all(len(r) == 1 for r in racks.values())
    assert len(set().union(*racks.values())) == 4
    refused = place(c, member("e"))
    assert refused.node is None
    assert "16 node(s) didn't match pod anti-affinity rules" in refused.message


def test_existing_pods_anti_affinity_is_symmetric_and_namespace_selector_widens() -> None:
    c = cluster()
    loner = pod(labels={"app": "db"}, nodeSelector={topology.ZONE: "zone-a"}, affinity={
        "podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{
            "topologyKey": topology.ZONE, "namespaceSelector": {},
            "labelSelector": {"matchLabels": {"app": "web"}}}]}})
    assert place(c, loner).node
    for _ in range(4):
        web = place(c, pod(ns="team", labels={"app": "web"}))
        assert node_of(c, web, topology.ZONE) == "zone-b"
    scoped = pod(labels={"x": "y"}, affinity={"podAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": [{
            "topologyKey": topology.ZONE, "namespaceSelector": {"matchLabels": {"team": "a"}},
            "labelSelector": {"matchLabels": {"app": "web"}}}]}})
    assert node_of(c, place(c, scoped), topology.ZONE) == "zone-b"


def test_quantities() -> None:
    assert placement.quantity("500m") == 0.5
    assert placement.quantity("2Gi") == 2 * 2**30
    assert placement.quantity("1k") == 1000
    with pytest.raises(placement.PlacementError, match="resources.cpu"):
        placement.pod_requests(pod(containers=[{"name": "c", "resources": {
            "requests": {"cpu": "lots"}}}]))


def test_freed_resources_make_room_again() -> None:
    c = scheduler.Cluster()
    c.put_node(topology.node("one", capacity={"cpu": "1", "memory": "1Gi", "pods": "1"}))
    first = pod()
    place(c, first)
    assert place(c, pod()).node is None
    first["status"] = {"phase": "Succeeded"}
    c.put_pod(first)
    assert place(c, pod()).node == "one"
