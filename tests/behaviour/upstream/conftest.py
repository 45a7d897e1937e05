"""One installation per upstream-example test module: API server, controller and HTTPS webhooks
with the module's `FEATURE_GATES`, and no simulation (each test starts its own, with its
scenario).

Each test runs one upstream manifest in a namespace of its own through the `upstream`
fixture; afterwards its simulation stops and its namespace is deleted.
"""

from __future__ import annotations

import itertools
import pathlib
import sys
from collections.abc import Iterator

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "examples"))

from engine import up  # noqa: E402
import exampleharness  # noqa: E402
import upstreamharness as harness  # noqa: E402

_namespaces = itertools.count(1)


@pytest.fixture(scope="module")
def cluster(request: pytest.FixtureRequest,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[exampleharness.Cluster]:
    """The module's installation, with the module's `FEATURE_GATES` and no simulation of its own."""
    environment = up.Environment(up.Options(kubeconfig=tmp_path_factory.mktemp("upstream") / "kubeconfig",
                                            speed=harness.SPEED, nodes=harness.NODES, simulate=False,
                                            feature_gates=dict(getattr(request.module, "FEATURE_GATES", {}))))
    environment.start()
    try:
        yield exampleharness.Cluster(environment)
    finally:
        environment.stop()


@pytest.fixture
def simulations(cluster: exampleharness.Cluster) -> Iterator[harness.Simulations]:
    """The test's simulations (each with a scenario file of `scenarios/`, or none); stopped after it."""
    started = harness.Simulations(cluster)
    yield started
    started.stop()


@pytest.fixture
def upstream(cluster: exampleharness.Cluster, simulations: harness.Simulations) -> Iterator[harness.Upstream]:
    """Run the upstream manifest `path` with `scenario`; returns the watched Run."""
    runs: list[exampleharness.Run] = []
    namespace = f"upstream-{next(_namespaces)}"
    cluster.create_namespace(namespace)

    def run(path: str, scenario: str | None = None) -> exampleharness.Run:
        simulations.start(scenario)
        runs.append(cluster.submit_document(harness.jobset_document(path), namespace))
        return runs[-1]
    yield run
    for started in runs:
        started.stop_watching()
    cluster.delete_namespace(namespace)
