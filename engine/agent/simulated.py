"""The in-place restart agent run in-process for the simulated kubelet of `jobset up`.

Owns: `AgentRuntime`, a container runtime for `engine.localcluster.sim` (it implements the
kubelet's `ContainerRuntime` hook) that runs the agent containers of simulated Pods with the
real agent code (`engine.agent.runner`, one task per container run, on a thread and loop of
its own, talking HTTP to the API server). A container is the agent when its command is
`jobset in-place-restart-agent`, or, without a command, when it is named
`in-place-restart-agent` (upstream's examples, whose image's entrypoint is the agent).
What differs from a real Pod is only what lifting the barrier starts: in main-container mode
no shell runs WORKER_COMMAND; the worker is the scenario's run (its duration in virtual time,
then its exit code); in sidecar mode the startup probe is reported as passing instead of served.
A startup error ends the run with 1, as the process would; a killed run reports nothing.
Called by: `engine.up` (wires it into the simulation).
Must not import: `engine.assembly`, `engine.up`, `engine.cli`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import math
import pathlib
import threading
from collections.abc import Mapping
from typing import Any

from engine.agent import runner, settings as settings_
from engine.kube import client as client_
from engine.kube import connection
from engine.localcluster import clock as clocks
from engine.localcluster.sim import runtime, scenario

AGENT_NAME = "in-place-restart-agent"
_log = logging.getLogger("jobset.in-place-restart-agent")
RunKey = tuple[str, str, int]  # (pod uid, container, restart count)


def is_agent(container: Mapping[str, Any]) -> bool:
    """Whether `container` runs the in-place restart agent."""
    command = [str(part) for part in container.get("command") or []]
    if command:
        return pathlib.PurePosixPath(command[0]).name == "jobset" and command[1:2] == [AGENT_NAME]
    return container.get("name") == AGENT_NAME


class AgentRuntime:
    """Runs every agent container of the simulated Pods; `start()` before use, `stop()` after."""

    def __init__(self, url: str, clock: clocks.Clock) -> None:
        self.url = url
        self.clock = clock
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="in-place-restart-agents", daemon=True)
        self._client: client_.Client | None = None
        self._runs: dict[RunKey, concurrent.futures.Future[None]] = {}

    def start(self) -> None:
        """Start the agents' loop and its API client."""
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._connect(), self._loop).result(30)

    async def _connect(self) -> None:
        self._client = client_.Client(connection.Connection(host=self.url, qps=1000, burst=1000))

    def stop(self) -> None:
        """Kill every run, close the client and end the loop."""
        if not self._thread.is_alive():
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    async def _shutdown(self) -> None:
        running = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        if self._client is not None:
            await self._client.close()

    def runs(self, pod: Mapping[str, Any], container: Mapping[str, Any]) -> bool:
        """The kubelet hook: agent containers are ours."""
        return is_agent(container)

    def launch(self, run: runtime.ContainerRun, reports: runtime.Reports) -> None:
        """The kubelet hook: start one run of an agent container."""
        key = (run.pod_uid, run.name, run.run)
        future = asyncio.run_coroutine_threadsafe(self._agent(run, reports), self._loop)
        self._runs[key] = future
        future.add_done_callback(lambda _: self._runs.pop(key, None))

    def kill(self, run: runtime.ContainerRun) -> None:
        """The kubelet hook: stop a run at once."""
        future = self._runs.get((run.pod_uid, run.name, run.run))
        if future is not None:
            future.cancel()

    async def _agent(self, run: runtime.ContainerRun, reports: runtime.Reports) -> None:
        try:
            settings = settings_.from_environment(run.env, namespace=run.namespace)
        except settings_.SettingsError as error:
            _log.error("pod %s/%s container %s: %s", run.namespace, run.pod, run.name, error)
            reports.exited(1)
            return
        assert self._client is not None
        lift = _probe_passes(reports) if settings.sidecar else _simulated_worker(run.behaviour, self.clock)
        reports.exited(await runner.run(settings, self._client, lift))


def _simulated_worker(behaviour: scenario.Behaviour, clock: clocks.Clock) -> runner.Lift:
    """Main-container mode: the worker is the scenario's run for this restart count."""
    async def lift() -> int:
        if math.isinf(behaviour.duration):
            return await asyncio.get_running_loop().create_future()  # runs until killed
        await clock.sleep(behaviour.duration)
        return behaviour.exit_code
    return lift


def _probe_passes(reports: runtime.Reports) -> runner.Lift:
    """Sidecar mode: from the lift on, the container's startup probe passes."""
    async def lift() -> int:
        reports.started()
        return await asyncio.get_running_loop().create_future()  # serves until killed
    return lift
