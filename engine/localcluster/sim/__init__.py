"""The simulated cluster: Job controller, scheduler, kubelets and disruptions, kwok-style,
running on the embedded API server's event loop and talking to it through `ClusterAPI`.

Owns: `start_simulation(api, clock, nodes=..., scenario=..., container_runtime=...) ->
Simulation` (the one entry point), `default_nodes()`, `load_topology(path)`,
`load_scenario(path)`; re-exports the container runtime hook's types (`sim.runtime`).
Called by: the `jobset up` composer, integration tests, benchmarks.
Must not import: anything in `engine` outside `localcluster`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from engine.localcluster import clock as clocks, errors
from engine.localcluster.sim import (disruption, informer, jobdriver, jobpolicy,
                                     kubeletdriver, runtime, scenario as scenarios, schedulerdriver,
                                     topology)

__all__ = ["ContainerRun", "ContainerRuntime", "Reports", "Simulation", "default_nodes", "load_scenario",
           "load_topology", "start_simulation"]

default_nodes = topology.default_nodes
load_topology = topology.load
load_scenario = scenarios.load
ContainerRun = runtime.ContainerRun
ContainerRuntime = runtime.ContainerRuntime
Reports = runtime.Reports


@dataclasses.dataclass
class Simulation:
    """A running simulation; `stop()` ends it (the API server keeps running)."""

    api: Any
    clock: clocks.Clock
    informers: list[informer.Informer]
    jobs: jobdriver.JobDriver
    scheduler: schedulerdriver.SchedulerDriver
    kubelet: kubeletdriver.KubeletDriver

    def stop(self) -> None:
        """Stop every controller and watch of the simulation."""
        for queue in (self.jobs.queue, self.scheduler.queue, self.kubelet.queue):
            queue.stop()
        for source in self.informers:
            source.stop()

    @property
    def idle(self) -> bool:
        """No controller has work queued or running (timers may still be pending)."""
        return all(q.idle for q in (self.jobs.queue, self.scheduler.queue, self.kubelet.queue))

    async def fail_node(self, name: str) -> list[str]:
        """Fail a node: NotReady, tainted, its pods Failed with DisruptionTarget."""
        return await disruption.fail_node(self.api, self.clock, name)

    async def restore_node(self, name: str) -> None:
        """Bring a failed node back."""
        await disruption.restore_node(self.api, self.clock, name)

    async def evict_pod(self, namespace: str, name: str) -> None:
        """Evict a pod through the Eviction API's steps."""
        await disruption.evict_pod(self.api, self.clock, namespace, name)


async def start_simulation(api: Any, clock: clocks.Clock, *, nodes: list[dict[str, Any]],
                           scenario: scenarios.Scenario | None = None,
                           default_duration: float = 5.0, backoff_base: float = 10.0,
                           backoff_cap: float = 360.0,
                           container_runtime: runtime.ContainerRuntime | None = None) -> Simulation:
    """Create `nodes` (existing ones are kept) and start every simulated controller; containers
    that `container_runtime` runs are launched through it instead of following the scenario."""
    for node in nodes:
        try:
            await api.create("v1/nodes", node)
        except errors.APIStatusError as err:
            if err.code != 409:
                raise
    pods = informer.Informer(api, "v1/pods")
    jobs = informer.Informer(api, "batch/v1/jobs")
    node_source = informer.Informer(api, "v1/nodes")
    namespaces = informer.Informer(api, "v1/namespaces")
    settings = jobpolicy.Settings(backoff_base=backoff_base, backoff_cap=backoff_cap)
    simulation = Simulation(
        api=api, clock=clock, informers=[namespaces, node_source, jobs, pods],
        jobs=jobdriver.JobDriver(api, clock, jobs, pods, settings),
        scheduler=schedulerdriver.SchedulerDriver(api, clock, pods, node_source, namespaces),
        kubelet=kubeletdriver.KubeletDriver(api, clock, pods, node_source,
                                            scenario or scenarios.Scenario(),
                                            default_duration=default_duration,
                                            container_runtime=container_runtime))
    for source in simulation.informers:
        await source.start()
    for queue in (simulation.jobs.queue, simulation.scheduler.queue, simulation.kubelet.queue):
        queue.start()
    return simulation
