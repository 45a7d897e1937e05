"""The simulated cluster's nodes: a default topology and a topology-file loader.

Owns: `node(...)` (a Ready Node object with labels, taints, capacity and addresses),
`default_nodes()` (2 zones x 2 racks x 4 nodes) and `load(path)` (YAML node groups).
Called by: `sim.__init__`, tests, the `jobset up` composer.
Must not import: anything in `engine` outside `localcluster`.

Topology file:

    nodeGroups:
      - namePrefix: gpu-a-          # nodes gpu-a-0 .. gpu-a-<count-1>
        count: 4
        labels: {topology.kubernetes.io/zone: zone-a}
        taints: [{key: gpu, value: "true", effect: NoSchedule}]
        capacity: {cpu: "8", memory: 32Gi, pods: "110", nvidia.com/gpu: "4"}
"""

from __future__ import annotations

import pathlib
from typing import Any, Mapping

import yaml

from engine.localcluster.sim import placement, podstate

ZONE = "topology.kubernetes.io/zone"
RACK = "sim.jobset.x-k8s.io/rack"
HOSTNAME = "kubernetes.io/hostname"
DEFAULT_CAPACITY = {"cpu": "16", "memory": "64Gi", "pods": "110"}


class TopologyError(ValueError):
    """A topology file that cannot be used; the message names the file and field."""


def node(name: str, *, labels: Mapping[str, str] | None = None,
         taints: list[Mapping[str, Any]] | None = None,
         capacity: Mapping[str, str] | None = None, address: str = "10.0.0.1") -> podstate.Obj:
    """A Ready Node named `name`."""
    offered = {k: str(v) for k, v in (capacity or DEFAULT_CAPACITY).items()}
    all_labels = {"kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64", HOSTNAME: name}
    all_labels.update(labels or {})
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": all_labels},
        "spec": {"taints": [dict(t) for t in taints or []]},
        "status": {
            "capacity": offered, "allocatable": dict(offered),
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                            "message": "kubelet is posting ready status"}],
            "addresses": [{"type": "InternalIP", "address": address},
                          {"type": "Hostname", "address": name}],
            "nodeInfo": {"kubeletVersion": "v1.33.0-sim", "operatingSystem": "linux",
                         "architecture": "amd64"},
        },
    }


def default_nodes() -> list[podstate.Obj]:
    """16 nodes: zones zone-a/zone-b x racks rack-1/rack-2 x 4 nodes each."""
    nodes = []
    for z, zone in enumerate(("zone-a", "zone-b")):
        for r, rack in enumerate(("rack-1", "rack-2")):
            for i in range(4):
                name = f"node-{zone[-1]}-{rack[-1]}-{i}"
                nodes.append(node(name, labels={ZONE: zone, RACK: f"{zone}-{rack}"},
                                  address=f"10.{z}.{r}.{i + 1}"))
    return nodes


def load(path: pathlib.Path) -> list[podstate.Obj]:
    """Nodes described by a topology file; errors name the file and field path."""
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as err:
        raise TopologyError(f"{path}: cannot read topology: {err}") from None
    groups = raw.get("nodeGroups") if isinstance(raw, dict) else None
    if not isinstance(groups, list) or not groups:
        raise TopologyError(f"{path}: nodeGroups: a non-empty list is required")
    nodes: list[podstate.Obj] = []
    for g, group in enumerate(groups):
        nodes += _group(group, f"{path}: nodeGroups[{g}]", len(nodes))
    names = [n["metadata"]["name"] for n in nodes]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate:
        raise TopologyError(f"{path}: node name {duplicate!r} appears twice")
    return nodes


def _group(group: Any, where: str, offset: int) -> list[podstate.Obj]:
    if not isinstance(group, dict):
        raise TopologyError(f"{where}: must be a mapping")
    unknown = set(group) - {"namePrefix", "count", "labels", "taints", "capacity"}
    if unknown:
        raise TopologyError(f"{where}.{sorted(unknown)[0]}: unknown field")
    prefix, count = group.get("namePrefix"), group.get("count", 1)
    if not isinstance(prefix, str) or not prefix:
        raise TopologyError(f"{where}.namePrefix: a non-empty string is required")
    if not isinstance(count, int) or count < 1:
        raise TopologyError(f"{where}.count: a positive integer is required")
    capacity = group.get("capacity") or DEFAULT_CAPACITY
    for key, value in dict(capacity).items():
        try:
            placement.quantity(value)
        except placement.PlacementError:
            raise TopologyError(f"{where}.capacity.{key}: {value!r} is not a quantity") from None
    taints = group.get("taints") or []
    for t, taint in enumerate(taints):
        if not isinstance(taint, dict) or taint.get("effect") not in (
                "NoSchedule", "PreferNoSchedule", "NoExecute") or not taint.get("key"):
            raise TopologyError(f"{where}.taints[{t}]: needs key and effect "
                                "(NoSchedule, PreferNoSchedule or NoExecute)")
    labels = {str(k): str(v) for k, v in (group.get("labels") or {}).items()}
    return [node(f"{prefix}{i}", labels=labels, taints=taints, capacity=capacity,
                 address=f"10.{(offset + i) // 65536 % 256}.{(offset + i) // 256 % 256}."
                         f"{(offset + i) % 256}")
            for i in range(count)]
