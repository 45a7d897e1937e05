"""Installations for the upstream-example tests: API server, controller and HTTPS webhooks
without a simulation (each test starts its own, with its scenario), one per set of feature
gates (a module asks with `FEATURE_GATES`), shared by this directory's modules.

Each test runs one upstream manifest in a namespace of its own through the `upstream`
fixture; afterwards its simulation stops and its namespace is deleted.
"""

from __future__ import annotations

import itertools
import pathlib
import sys
from collections.abc import Callable, Iterator

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "examples"))

from engine import up  # noqa: E402
import exampleharness  # noqa: E402
import upstreamharness as harness  # noqa: E402

_namespaces = itertools.count(1)


@pytest.fixture(scope="package")
def installations(
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[dict[str, bool]], exampleharness.Cluster]]:
    started: dict[tuple[tuple[str, bool], ...], exampleharness.Cluster] = {}

    def installation(gates: dict[str, bool]) -> exampleharness.Cluster:
        key = tuple(sorted(gates.items()))
        if key not in started:
            directory = tmp_path_factory.mktemp("upstream")
            environment = up.Environment(up.Options(kubeconfig=directory / "kubeconfig", speed=harness.SPEED,
                                                    nodes=harness.NODES, simulate=False, feature_gates=dict(gates)))
            environment.start()
            started[key] = exampleharness.Cluster(environment)
        return started[key]
    try:
        yield installation
    finally:
        for cluster in started.values():
            cluster.environment.stop()


@pytest.fixture
def cluster(request: pytest.FixtureRequest,
            installations: Callable[[dict[str, bool]], exampleharness.Cluster]) -> exampleharness.Cluster:
    return installations(getattr(request.module, "FEATURE_GATES", {}))


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
