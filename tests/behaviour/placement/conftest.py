"""One `jobset up` installation (API server, simulation, controller with its HTTPS webhooks) for
the placement tests, on 16 nodes: 4 racks x 4 nodes, the racks paired into 2 zones x 8 nodes
(the simulation's own rack and zone labels, as in `jobset up`).

Each test works in its own namespace with its own pod priority: exclusive placement only keeps
apart pods of the same priority (spec §12.3), so tests sharing the nodes do not disturb each other.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
import yaml

from engine import up
import placementharness as harness

_tests = itertools.count(1)


@pytest.fixture(scope="package")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[harness.Cluster]:
    directory = tmp_path_factory.mktemp("placement")
    topology = directory / "nodes.yaml"
    topology.write_text(yaml.safe_dump({"nodeGroups": [
        {"namePrefix": f"rack-{rack}-node-", "count": 4,
         "labels": {harness.RACK: f"rack-{rack}", harness.ZONE: f"zone-{'ab'[rack // 2]}"}}
        for rack in range(4)]}))
    environment = up.Environment(up.Options(kubeconfig=directory / "kubeconfig", nodes=topology,
                                            speed=harness.SPEED))
    environment.start()
    try:
        yield harness.Cluster(environment)
    finally:
        environment.stop()


@pytest.fixture
def space(cluster: harness.Cluster) -> harness.Space:
    """A fresh namespace and a pod priority no other test uses."""
    number = next(_tests)
    name = f"placement-{number}"
    cluster.create_namespace(name)
    return harness.Space(cluster, name, priority=1000 + number)
