"""One installation (API server, simulation, controller with its HTTPS webhooks) per example
test module, at a high virtual-clock speed, with the feature gates of the module-level
`FEATURE_GATES` dict.
Each test gets a namespace of its own, deleted afterwards so nothing keeps running.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

import pytest

from engine import up
import exampleharness as harness

_namespaces = itertools.count(1)


@pytest.fixture(scope="module")
def cluster(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[harness.Cluster]:
    """The module's installation, with the module's `FEATURE_GATES`."""
    environment = up.Environment(up.Options(kubeconfig=tmp_path_factory.mktemp("examples") / "kubeconfig",
                                            speed=harness.SPEED,
                                            feature_gates=dict(getattr(request.module, "FEATURE_GATES", {}))))
    environment.start()
    try:
        yield harness.Cluster(environment)
    finally:
        environment.stop()


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
