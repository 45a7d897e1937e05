"""Steps of the upstream-example tests: upstream's manifests read from `../shared`, each run in
its own namespace on a simulation started for that test with the test's scenario file.

The simulation is per test because a scenario file matches pods by name and labels only,
and several upstream examples share a JobSet name ("js", "pytorch"). Reads and the watched
history come from the example tests' harness (`exampleharness.Run`).
Called by: this directory's conftest and tests.
"""

from __future__ import annotations

import asyncio
import copy
import pathlib
from collections.abc import Callable
from typing import Any

import yaml

import exampleharness
from engine.localcluster import sim

HERE = pathlib.Path(__file__).resolve().parent
UPSTREAM = exampleharness.ROOT.parent / "shared" / "upstream-examples"
SCENARIOS = HERE / "scenarios"
NODES = HERE / "nodes.yaml"
SPEED = 100.0  # upstream's sleeps run 100 s to 1000 s
Upstream = Callable[..., exampleharness.Run]  # the `upstream` fixture: (path, scenario=None) -> Run


def documents(path: str) -> list[dict[str, Any]]:
    """Every document of the upstream manifest `path` (relative to upstream-examples)."""
    return [d for d in yaml.safe_load_all((UPSTREAM / path).read_text()) if d]


def jobset_document(path: str) -> dict[str, Any]:
    """The JobSet of `path`: its JobSet document, or the JobSet an Argo Workflow embeds;
    without metadata.namespace, since each test chooses its own namespace."""
    found = [d for d in documents(path) if d.get("kind") == "JobSet"]
    found += [yaml.safe_load(t["resource"]["manifest"]) for d in documents(path) if d.get("kind") == "Workflow"
              for t in d["spec"]["templates"] if "resource" in t]
    [document] = found
    document = copy.deepcopy(document)
    document["metadata"].pop("namespace", None)
    return document


class Simulation:
    """A simulation of the cluster for one test, on the API server of a running installation."""

    def __init__(self, cluster: exampleharness.Cluster, scenario: str | None) -> None:
        self.environment = cluster.environment
        story = sim.load_scenario(SCENARIOS / f"{scenario}.yaml") if scenario else None
        server = self.environment.cluster
        assert server is not None
        self.running: sim.Simulation = server.call(sim.start_simulation(
            server.api, self.environment.clock, nodes=self.environment.nodes, scenario=story))

    def call(self, coroutine: Any) -> Any:
        """Run `coroutine` on the simulation's loop."""
        assert self.environment.cluster is not None
        return self.environment.cluster.call(coroutine)

    def evict(self, namespace: str, pod: str) -> None:
        """Evict `pod` as the Eviction API does (DisruptionTarget, then a graceful delete)."""
        self.call(self.running.evict_pod(namespace, pod))

    def stop(self) -> None:
        async def stopped() -> None:
            self.running.stop()
            await asyncio.sleep(0)
        self.call(stopped())


class Simulations:
    """The simulations one test started; `current` is the last."""

    def __init__(self, cluster: exampleharness.Cluster) -> None:
        self.cluster = cluster
        self.started: list[Simulation] = []

    @property
    def current(self) -> Simulation:
        return self.started[-1]

    def start(self, scenario: str | None) -> Simulation:
        self.started.append(Simulation(self.cluster, scenario))
        return self.started[-1]

    def stop(self) -> None:
        for started in self.started:
            started.stop()
