"""One installation (API server + controller + HTTPS webhooks, no simulation) per test module."""

from __future__ import annotations

import itertools
import pathlib
from collections.abc import Iterator

import pytest

from engine import up
import controllerharness as harness

_namespaces = itertools.count()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[harness.Cluster]:
    kubeconfig = tmp_path_factory.mktemp("controller") / "kubeconfig"
    environment = up.Environment(up.Options(kubeconfig=kubeconfig, simulate=False,
                                            feature_gates={"RestartJob": True}))
    environment.start()
    try:
        yield harness.Cluster(environment, kubeconfig)
    finally:
        environment.stop()


@pytest.fixture
def namespace(cluster: harness.Cluster) -> str:
    name = f"t{next(_namespaces)}"
    cluster.core.create_namespace({"metadata": {"name": name}})
    return name
