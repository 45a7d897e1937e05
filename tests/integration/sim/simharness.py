"""Test harness for the simulation: the embedded API server's object model (`ClusterAPI`)
plus `start_simulation`, on a fresh event loop with a fast virtual clock."""

from __future__ import annotations

import asyncio
import time
from typing import Any, Awaitable, Callable

from engine.localcluster import api as cluster_api, clock as clocks, storage
from engine.localcluster import sim

SPEED = 100.0


class Harness:
    """One API server + simulation; helpers read objects back through the API."""

    def __init__(self) -> None:
        self.clock = clocks.VirtualClock(speed=SPEED)
        self.api = cluster_api.ClusterAPI(storage.Storage(), clock=self.clock)
        self.simulation: sim.Simulation | None = None

    def run(self, body: Callable[["Harness"], Awaitable[None]]) -> None:
        """Run `body(self)` on a fresh loop, stopping the simulation afterwards."""
        async def main() -> None:
            await self.api.start()
            try:
                await body(self)
            finally:
                if self.simulation is not None:
                    self.simulation.stop()
        asyncio.run(main())

    async def start(self, **options: Any) -> sim.Simulation:
        options.setdefault("nodes", sim.default_nodes())
        self.simulation = await sim.start_simulation(self.api, self.clock, **options)
        return self.simulation

    async def create_job(self, name: str, *, annotations: dict[str, str] | None = None,
                         labels: dict[str, str] | None = None,
                         pod: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
        pod_spec = {"restartPolicy": "Never",
                    "containers": [{"name": "main", "image": "busybox"}]}
        pod_spec.update(pod or {})
        body = {"apiVersion": "batch/v1", "kind": "Job",
                "metadata": {"name": name, "namespace": "default"},
                "spec": {"template": {"metadata": {"annotations": annotations or {},
                                                   "labels": labels or {}},
                                      "spec": pod_spec}, **spec}}
        return await self.api.create("batch/v1/jobs", body, namespace="default")

    async def job(self, name: str) -> dict[str, Any]:
        return await self.api.get("batch/v1/jobs", "default", name)

    async def until(self, probe: Callable[[], Awaitable[Any]], *, virtual: float = 600.0) -> Any:
        """Poll `probe` until it returns something truthy, within `virtual` seconds (and at
        least 20 real seconds, so a loaded machine does not fail a test)."""
        start, real_start = self.clock.now(), time.monotonic()
        while True:
            found = await probe()
            if found:
                return found
            if (self.clock.now() - start).total_seconds() > virtual and \
                    time.monotonic() - real_start > 20:
                raise AssertionError(f"condition not reached within {virtual} virtual seconds")
            await asyncio.sleep(0.005)

    async def finished(self, name: str, *, virtual: float = 600.0) -> dict[str, Any]:
        """The Job once it has a Complete or Failed condition."""
        async def probe() -> dict[str, Any] | None:
            job = await self.job(name)
            done = [c for c in job.get("status", {}).get("conditions", [])
                    if c["type"] in ("Complete", "Failed") and c["status"] == "True"]
            return job if done else None
        return await self.until(probe, virtual=virtual)

    async def pods(self, job: str) -> list[dict[str, Any]]:
        return await self.api.list("v1/pods", "default", label_selector=f"job-name={job}")

    async def events(self, name: str) -> list[tuple[str, str, str]]:
        found = await self.api.list("v1/events", "default")
        return [(e["type"], e["reason"], e["message"]) for e in found
                if e["involvedObject"]["name"] == name]


def conditions(job: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(type, status, reason, message) of a Job's conditions, in order."""
    return [(c["type"], c["status"], c.get("reason", ""), c.get("message", ""))
            for c in job.get("status", {}).get("conditions", [])]
