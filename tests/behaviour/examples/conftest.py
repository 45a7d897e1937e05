"""Installations (API server, simulation, controller with its HTTPS webhooks) for the example
tests: one per set of feature gates, shared by the modules of this directory, at a high
virtual-clock speed. A module asks for gates with a module-level `FEATURE_GATES` dict.
Each test gets a namespace of its own, deleted afterwards so nothing keeps running.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

import pytest

from engine import up
import exampleharness as harness

_namespaces = itertools.count(1)


@pytest.fixture(scope="package")
def installations(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[dict[str, bool]], harness.Cluster]]:
    started: dict[tuple[tuple[str, bool], ...], harness.Cluster] = {}

    def installation(gates: dict[str, bool]) -> harness.Cluster:
        key = tuple(sorted(gates.items()))
        if key not in started:
            directory = tmp_path_factory.mktemp("examples")
            environment = up.Environment(up.Options(kubeconfig=directory / "kubeconfig", speed=harness.SPEED,
                                                    feature_gates=dict(gates)))
            environment.start()
            started[key] = harness.Cluster(environment)
        return started[key]
    try:
        yield installation
    finally:
        for cluster in started.values():
            cluster.environment.stop()


@pytest.fixture
def cluster(request: pytest.FixtureRequest,
            installations: Callable[[dict[str, bool]], harness.Cluster]) -> harness.Cluster:
    return installations(getattr(request.module, "FEATURE_GATES", {}))


@pytest.fixture
def namespace(cluster: harness.Cluster) -> Iterator[str]:
    name = f"example-{next(_namespaces)}"
    cluster.create_namespace(name)
    yield name
    cluster.delete_namespace(name)


@pytest.fixture
def submit(cluster: harness.Cluster, namespace: str) -> Iterator[Callable[[str], harness.Run]]:
    """Submit `examples/<file>` in the test's namespace; its watches end with the test."""
    runs: list[harness.Run] = []

    def run(file: str) -> harness.Run:
        runs.append(cluster.submit(harness.EXAMPLES / file, namespace))
        return runs[-1]
    yield run
    for started in runs:
        started.stop_watching()
