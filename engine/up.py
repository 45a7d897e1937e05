"""`jobset up`: the embedded control plane, the simulated cluster and the controller, in one process.

Owns: `Environment` (the API server and simulation on one thread and loop, the controller
process of `engine.assembly` with its HTTPS webhooks on another, the in-place restart agents
of simulated Pods on a third, wired into the simulated kubelet as its container runtime
(`agents`, also for simulations a test starts itself); CRD and webhook
configurations installed from `deploy/`; a kubeconfig written), used by `jobset up` and by
the behaviour tests, and `run` (the command: submit `--run` manifests, print live progress,
exit when they finish; Ctrl-C stops everything cleanly).
Called by: `engine.cli.commands.up`, tests.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import logging
import pathlib
import sys
import threading
import time
from collections.abc import Coroutine, Sequence
from typing import Any, TextIO, TypeVar

import yaml

import engine
from engine import assembly
from engine.agent import simulated as simulated_agents
from engine.kube import client as client_
from engine.kube import configuration, connection, errors, resources
from engine.localcluster import clock as clocks, server as localserver, sim
from engine.model import keys

DEPLOY = pathlib.Path(engine.__file__).resolve().parent.parent / "deploy"
NAMESPACE = "jobset-system"
WEBHOOK_SERVICE = "jobset-webhook-service"
CRDS = resources.Resource("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition",
                          namespaced=False)
log = logging.getLogger("jobset.up")
T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class Options:
    """The `jobset up` flags."""

    port: int = 0
    kubeconfig: pathlib.Path = pathlib.Path("jobset-up.kubeconfig")
    data_dir: pathlib.Path | None = None
    nodes: pathlib.Path | None = None
    speed: float = 1.0
    run: Sequence[pathlib.Path] = ()
    rules_dirs: Sequence[pathlib.Path] = ()
    feature_gates: dict[str, bool] = dataclasses.field(default_factory=dict)
    timeout: float = 600.0
    simulate: bool = True
    scenario: pathlib.Path | None = None


class UpError(Exception):
    """A start-up problem with a message for the user."""


class Environment:
    """A whole local installation: API server, simulated cluster, controller and webhooks."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.clock = clocks.VirtualClock(options.speed)
        self.nodes = sim.load_topology(options.nodes) if options.nodes else sim.default_nodes()
        self.scenario = sim.load_scenario(options.scenario) if options.scenario else None
        self.cluster: localserver.RunningServer | None = None
        self.simulation: sim.Simulation | None = None
        self.assembly: assembly.Assembly | None = None
        self.agents: simulated_agents.AgentRuntime | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="jobset-controller", daemon=True)
        self._stop: asyncio.Event | None = None
        self._manager: concurrent.futures.Future[None] | None = None

    @property
    def url(self) -> str:
        assert self.cluster is not None
        return self.cluster.url

    def start(self) -> None:
        """Start everything; returns once the controller and its webhooks serve."""
        self.cluster = localserver.start_in_thread(port=self.options.port, data_dir=self.options.data_dir,
                                                   clock=self.clock)
        self.agents = simulated_agents.AgentRuntime(self.cluster.url, self.clock)
        self.agents.start()
        if self.options.simulate:
            self.simulation = self.cluster.call(sim.start_simulation(self.cluster.api, self.clock, nodes=self.nodes,
                                                                     scenario=self.scenario,
                                                                     container_runtime=self.agents))
        self.cluster.write_kubeconfig(self.options.kubeconfig)
        self._thread.start()
        self.call(self._start_controller(), timeout=120)

    def call(self, coroutine: Coroutine[Any, Any, T], timeout: float | None = 60.0) -> T:
        """Run `coroutine` on the controller's loop (with its API client) and wait for the result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    async def _start_controller(self) -> None:
        assert self.cluster is not None
        self.api = client_.Client(connection.Connection(host=self.cluster.url, qps=5000, burst=5000))
        await _install(self.api)
        config = configuration.Configuration()
        config.leader_election.leader_elect = False
        config.health.health_probe_bind_address = "0"
        config.metrics.bind_address = "0"
        config.webhook.port = 0
        config.webhook.cert_dir = str(pathlib.Path(self.options.kubeconfig).resolve().parent / ".jobset-up-certs")
        config.feature_gates = dict(self.options.feature_gates)
        self.assembly = assembly.build(assembly.Settings(
            config=config, namespace=NAMESPACE, rules_dirs=self.options.rules_dirs, webhook_host="127.0.0.1",
            now=self.clock.now, time_scale=self.options.speed), self.api)
        self._stop = asyncio.Event()
        task = asyncio.create_task(self.assembly.manager.run(self._stop))
        webhook = self.assembly.webhook
        while webhook is not None and not webhook.bound_port:
            if task.done():
                task.result()
                raise UpError("the controller stopped during start-up")
            await asyncio.sleep(0.02)
        if webhook is not None:
            self.cluster.route_service(NAMESPACE, WEBHOOK_SERVICE, 443, f"127.0.0.1:{webhook.bound_port}")
            await _install_webhooks(self.api, self.assembly.rotator.ca_bundle if self.assembly.rotator else b"")
        self._manager_task = task

    def stop(self) -> None:
        """Stop the controller, the simulation and the API server, in that order."""
        if self._stop is not None:
            async def shutdown() -> None:
                assert self._stop is not None
                self._stop.set()
                try:
                    await asyncio.wait_for(self._manager_task, 30)
                finally:
                    await self.api.close()
            try:
                self.call(shutdown(), timeout=40)
            except Exception as error:  # shutting down: report, keep going
                log.warning("controller shutdown: %s", error)
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
        if self.cluster is not None:
            if self.simulation is not None:
                self.cluster.call(_stopped(self.simulation))
            if self.agents is not None:
                self.agents.stop()
            self.cluster.stop()


async def _stopped(simulation: sim.Simulation) -> None:
    """Stop the simulated controllers on the server loop and let their tasks finish cancelling."""
    simulation.stop()
    await asyncio.sleep(0)


def run(options: Options, out: TextIO = sys.stdout) -> int:
    """`jobset up`: start, then follow `--run` JobSets to their end, or serve until Ctrl-C."""
    environment = Environment(options)
    try:
        environment.start()
        print(f"API server: {environment.url} ({len(environment.nodes)} simulated nodes, "
              f"speed x{options.speed:g})", file=out)
        print(f"kubectl:    kubectl --kubeconfig {options.kubeconfig} get jobsets,jobs,pods", file=out)
        print("controller and webhooks ready", file=out, flush=True)
        if not options.run:
            print("press Ctrl-C to stop", file=out, flush=True)
            threading.Event().wait()
        names = [name for path in options.run for name in environment.call(_submit(environment.api, path))]
        return environment.call(_follow(environment.api, names, options.timeout, out), timeout=None)
    except KeyboardInterrupt:
        print("stopping", file=out, flush=True)
        return 130
    finally:
        environment.stop()


async def _install(api: client_.Client) -> None:
    """The jobset-system namespace and the JobSet CRD, established."""
    try:
        await api.create(resources.NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
    except errors.AlreadyExists:
        pass
    for document in yaml.safe_load_all((DEPLOY / "crd" / "jobset.x-k8s.io_jobsets.yaml").read_text()):
        await _apply(api, CRDS, document)
    for _ in range(200):
        crd = await api.get(CRDS, "jobsets.jobset.x-k8s.io")
        if any(c.get("type") == "Established" and c.get("status") == "True"
               for c in (crd.get("status") or {}).get("conditions") or []):
            return
        await asyncio.sleep(0.05)
    raise UpError("the JobSet CRD was not established")


async def _install_webhooks(api: client_.Client, ca_bundle: bytes) -> None:
    for document in yaml.safe_load_all((DEPLOY / "webhooks" / "webhook-configurations.yaml").read_text()):
        resource = next(r for r, _ in assembly.WEBHOOK_CONFIGURATIONS if r.kind == document["kind"])
        await _apply(api, resource, document)
    await assembly.inject_ca_bundle(api, ca_bundle)


async def _apply(api: client_.Client, resource: resources.Resource, document: dict[str, Any]) -> None:
    """Create, or replace keeping the stored resourceVersion."""
    try:
        await api.create(resource, document)
    except errors.AlreadyExists:
        current = await api.get(resource, document["metadata"]["name"])
        document["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
        await api.update(resource, document)


async def _submit(api: client_.Client, path: pathlib.Path) -> list[tuple[str, str]]:
    """Create every JobSet of `path`; returns their (namespace, name)."""
    submitted = []
    for document in yaml.safe_load_all(path.read_text()):
        if not document:
            continue
        if document.get("kind") != "JobSet":
            raise UpError(f"{path}: only JobSet documents can be run, found {document.get('kind')}")
        namespace = document.setdefault("metadata", {}).setdefault("namespace", "default")
        try:
            created = await api.create(resources.JOBSETS, document, namespace=namespace)
        except errors.APIError as error:
            raise UpError(f"{path}: {error.message or error}") from None
        submitted.append((namespace, created["metadata"]["name"]))
    return submitted


async def _follow(api: client_.Client, jobsets: list[tuple[str, str]], timeout: float, out: TextIO) -> int:
    """Print a line whenever a JobSet's progress changes; 0 once all completed, 1 if any failed."""
    started = time.monotonic()
    last: dict[tuple[str, str], str] = {}
    outcome: dict[tuple[str, str], str] = {}
    while len(outcome) < len(jobsets):
        if time.monotonic() - started > timeout:
            print(f"timed out after {timeout:g}s", file=out, flush=True)
            return 1
        for namespace, name in jobsets:
            if (namespace, name) in outcome:
                continue
            line, terminal = await _progress(api, namespace, name)
            if line != last.get((namespace, name)):
                last[(namespace, name)] = line
                print(f"[{time.monotonic() - started:6.1f}s] {namespace}/{name}: {line}", file=out, flush=True)
            if terminal:
                outcome[(namespace, name)] = terminal
        await asyncio.sleep(0.2)
    return 0 if all(state == "Completed" for state in outcome.values()) else 1


async def _progress(api: client_.Client, namespace: str, name: str) -> tuple[str, str]:
    """One summary line of a JobSet and its Jobs, and its terminal state ('' while running)."""
    try:
        jobset = await api.get(resources.JOBSETS, name, namespace=namespace)
    except errors.NotFound:
        return "deleted", "Deleted"
    status = jobset.get("status") or {}
    jobs = (await api.list(resources.JOBS, namespace=namespace, label_selector=f"{keys.JOBSET_NAME}={name}"))["items"]
    counts = {"active": 0, "succeeded": 0, "failed": 0}
    for job in jobs:
        finished = {c.get("type") for c in (job.get("status") or {}).get("conditions") or [] if c.get("status") == "True"}
        counts["succeeded" if "Complete" in finished else "failed" if "Failed" in finished else "active"] += 1
    conditions = ", ".join(f"{c['type']}={c['status']}" for c in status.get("conditions") or [])
    line = (f"jobs {counts['active']} active, {counts['succeeded']} succeeded, {counts['failed']} failed; "
            f"restarts {status.get('restarts', 0)}" + (f"; {conditions}" if conditions else ""))
    return line, str(status.get("terminalState") or "")
