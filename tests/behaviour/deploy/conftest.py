"""Fixtures of the deploy tests: the kustomize rendering and a fresh embedded control plane with kubectl."""

from __future__ import annotations

import pathlib
from collections.abc import Iterator
from typing import Any

import pytest

import deployharness as harness
from engine.localcluster import server


@pytest.fixture(scope="session")
def rendered() -> str:
    return harness.kustomize()


@pytest.fixture(scope="session")
def docs(rendered: str) -> list[dict[str, Any]]:
    return harness.documents(rendered)


@pytest.fixture
def cluster(tmp_path: pathlib.Path) -> Iterator[tuple[server.RunningServer, harness.Kubectl]]:
    running = server.start_in_thread()
    kubeconfig = running.write_kubeconfig(tmp_path / "kubeconfig")
    yield running, harness.Kubectl(kubeconfig, tmp_path / "kubectl-cache")
    running.stop()
