"""`jobset up`: the embedded control plane, the simulated cluster and the controller, in one process.

Owns: composing `localcluster` (API server and simulation on their own thread and loop) with
the controller process of `engine.assembly` (manager, webhooks over HTTPS, certificates) on
this thread's loop; installing the CRD and the webhook configurations from `deploy/`;
writing a kubeconfig; submitting `--run` manifests; live progress; clean shutdown on Ctrl-C.
Called by: `engine.cli.commands.up`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import pathlib
import signal
import sys
import time
from collections.abc import Sequence
from typing import Any, TextIO

import yaml

import engine
from engine import assembly
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


class UpError(Exception):
    """A start-up problem with a message for the user."""


def run(options: Options, out: TextIO = sys.stdout) -> int:
    """Start everything; with `--run`, exit when those JobSets finish (0 all completed, 1 otherwise)."""
    clock = clocks.VirtualClock(options.speed)
    nodes = sim.load_topology(options.nodes) if options.nodes else sim.default_nodes()
    cluster = localserver.start_in_thread(port=options.port, data_dir=options.data_dir, clock=clock)
    simulation: sim.Simulation | None = None
    try:
        simulation = cluster.call(sim.start_simulation(cluster.api, clock, nodes=nodes))
        cluster.write_kubeconfig(options.kubeconfig)
        print(f"API server: {cluster.url} ({len(nodes)} simulated nodes, speed x{options.speed:g})", file=out)
        print(f"kubectl:    kubectl --kubeconfig {options.kubeconfig} get jobsets,jobs,pods", file=out, flush=True)
        return asyncio.run(_control(cluster, options, out))
    finally:
        if simulation is not None:
            cluster.call(_stopped(simulation))
        cluster.stop()


async def _stopped(simulation: sim.Simulation) -> None:
    """Stop the simulated controllers on the server loop and let their tasks finish cancelling."""
    simulation.stop()
    await asyncio.sleep(0)


async def _control(cluster: localserver.RunningServer, options: Options, out: TextIO) -> int:
    api = client_.Client(connection.Connection(host=cluster.url, qps=1000, burst=1000))
    try:
        await _install(api)
        config = configuration.Configuration()
        config.leader_election.leader_elect = False
        config.health.health_probe_bind_address = "0"
        config.metrics.bind_address = "0"
        config.webhook.port = 0
        config.webhook.cert_dir = str(pathlib.Path(options.kubeconfig).resolve().parent / ".jobset-up-certs")
        config.feature_gates = dict(options.feature_gates)
        built = assembly.build(assembly.Settings(config=config, namespace=NAMESPACE, rules_dirs=options.rules_dirs,
                                                 webhook_host="127.0.0.1"), api)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        manager_task = asyncio.create_task(built.manager.run(stop))
        await _until_webhook_serves(built, manager_task)
        cluster.route_service(NAMESPACE, WEBHOOK_SERVICE, 443, f"127.0.0.1:{built.webhook.bound_port}")
        await _install_webhooks(api, built.rotator.ca_bundle if built.rotator else b"")
        print("controller and webhooks ready", file=out, flush=True)
        code = 0
        if options.run:
            names = [await _submit(api, path) for path in options.run]
            code = await _follow(api, [n for group in names for n in group], stop, options.timeout, out)
            stop.set()
        else:
            print("press Ctrl-C to stop", file=out, flush=True)
        await manager_task
        return code
    finally:
        await api.close()


async def _until_webhook_serves(built: assembly.Assembly, manager_task: asyncio.Task[None]) -> None:
    while built.webhook is not None and not built.webhook.bound_port:
        if manager_task.done():
            manager_task.result()
            raise UpError("the controller stopped during start-up")
        await asyncio.sleep(0.02)


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
        resource, _ = next((r, n) for r, n in assembly.WEBHOOK_CONFIGURATIONS if r.kind == document["kind"])
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
    """Create every JobSet of `path` (other kinds too); returns the JobSets' (namespace, name)."""
    submitted = []
    for document in yaml.safe_load_all(path.read_text()):
        if not document:
            continue
        namespace = document.setdefault("metadata", {}).setdefault("namespace", "default")
        if document.get("kind") != "JobSet":
            raise UpError(f"{path}: only JobSet documents can be run, found {document.get('kind')}")
        try:
            created = await api.create(resources.JOBSETS, document, namespace=namespace)
        except errors.APIError as error:
            raise UpError(f"{path}: {error.message or error}") from None
        submitted.append((namespace, created["metadata"]["name"]))
    return submitted


async def _follow(api: client_.Client, jobsets: list[tuple[str, str]], stop: asyncio.Event, timeout: float,
                  out: TextIO) -> int:
    """Print a line whenever a JobSet's progress changes; return once all are finished."""
    started = time.monotonic()
    last: dict[tuple[str, str], str] = {}
    outcome: dict[tuple[str, str], str] = {}
    while len(outcome) < len(jobsets) and not stop.is_set():
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
    return 0 if outcome and all(state == "Completed" for state in outcome.values()) \
        and len(outcome) == len(jobsets) else 1


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
        job_status = job.get("status") or {}
        finished = {c.get("type") for c in job_status.get("conditions") or [] if c.get("status") == "True"}
        counts["succeeded" if "Complete" in finished else "failed" if "Failed" in finished else "active"] += 1
    conditions = ", ".join(f"{c['type']}={c['status']}" for c in status.get("conditions") or [])
    line = (f"jobs {counts['active']} active, {counts['succeeded']} succeeded, {counts['failed']} failed; "
            f"restarts {status.get('restarts', 0)}" + (f"; {conditions}" if conditions else ""))
    return line, str(status.get("terminalState") or "")
