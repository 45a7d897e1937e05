"""Simulated cluster nodes: the default topology and topology files (embedded-apiserver.md §5.5)."""

from __future__ import annotations

import collections
import pathlib

import pytest

from engine.localcluster import sim
from engine.localcluster.sim import placement, topology


def test_default_nodes_are_two_zones_of_two_racks_of_four() -> None:
    nodes = sim.default_nodes()
    assert len(nodes) == 16
    racks = collections.Counter(n["metadata"]["labels"][topology.RACK] for n in nodes)
    assert racks == {"zone-a-rack-1": 4, "zone-a-rack-2": 4, "zone-b-rack-1": 4,
                     "zone-b-rack-2": 4}
    zones = collections.Counter(n["metadata"]["labels"][topology.ZONE] for n in nodes)
    assert zones == {"zone-a": 8, "zone-b": 8}
    for node in nodes:
        assert node["metadata"]["labels"][topology.HOSTNAME] == node["metadata"]["name"]
        assert node["status"]["conditions"][0]["type"] == "Ready"
    assert len({n["status"]["addresses"][0]["address"] for n in nodes}) == 16


def test_topology_file_groups_labels_taints_capacity(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "topology.yaml"
    path.write_text(
        "nodeGroups:\n"
        "  - namePrefix: cpu-\n    count: 3\n    labels: {pool: cpu}\n"
        "  - namePrefix: gpu-\n    count: 2\n    labels: {pool: gpu}\n"
        "    taints: [{key: gpu, value: 'true', effect: NoSchedule}]\n"
        "    capacity: {cpu: '8', memory: 32Gi, pods: '20', nvidia.com/gpu: '4'}\n")
    nodes = sim.load_topology(path)
    assert [n["metadata"]["name"] for n in nodes] == ["cpu-0", "cpu-1", "cpu-2", "gpu-0", "gpu-1"]
    gpu = nodes[3]
    assert gpu["spec"]["taints"] == [{"key": "gpu", "value": "true", "effect": "NoSchedule"}]
    assert placement.allocatable(gpu)["nvidia.com/gpu"] == 4
    assert nodes[0]["metadata"]["labels"]["pool"] == "cpu"


@pytest.mark.parametrize("text, message", [
    ("nodeGroups: []\n", "nodeGroups: a non-empty list is required"),
    ("nodeGroups:\n  - count: 2\n", r"nodeGroups\[0\].namePrefix: a non-empty string"),
    ("nodeGroups:\n  - namePrefix: a-\n    count: 0\n", r"nodeGroups\[0\].count"),
    ("nodeGroups:\n  - namePrefix: a-\n    capacity: {cpu: lots}\n",
     r"nodeGroups\[0\].capacity.cpu: 'lots' is not a quantity"),
    ("nodeGroups:\n  - namePrefix: a-\n    taints: [{key: x, effect: Sometimes}]\n",
     r"nodeGroups\[0\].taints\[0\]: needs key and effect"),
    ("nodeGroups:\n  - namePrefix: a-\n    zone: x\n", r"nodeGroups\[0\].zone: unknown field"),
    ("nodeGroups:\n  - namePrefix: a-\n  - namePrefix: a-\n", "node name 'a-0' appears twice"),
    ("nodeGroups: [\n", "cannot read topology"),
])
def test_topology_errors_name_file_and_field(tmp_path: pathlib.Path, text: str,
                                             message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(topology.TopologyError, match=message) as caught:
        sim.load_topology(path)
    assert str(caught.value).startswith(str(path))
