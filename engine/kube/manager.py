"""The manager: runnables started in groups, probes and metrics served, graceful shutdown.

Owns: `Group` (start order: caches -> webhooks -> others -> leader-gated), `Runnable`,
`Options` (built from a `configuration.Configuration`; metrics over HTTPS per spec §14.4 and,
as upstream, only to scrapes whose bearer token and permission the API server confirms
(`metricsauth`), unless `metrics_auth` is off) and `Manager`. Start-up: probe and metrics servers, then caches (waiting until every informer has synced), then webhooks (waiting
until they serve), then the others; readiness passes from there; the leader-gated runnables
(controllers) start once the lease is held, or at once without leader election. Shutdown (on
`stop`, SIGTERM or SIGINT, a failed runnable, or a lost lease) runs in reverse order and lets
in-flight reconciles finish. A lost lease stops the leader-gated runnables and ends `run` with
`leaderelection.LeadershipLost`, as controller-runtime exits so that a fresh process campaigns.
`serve` (the process's own loop) also raises CPython's garbage-collector thresholds while it
runs (`GC_THRESHOLDS`): with the defaults, each full collection walks every cached object, and
they took a quarter of the controller's CPU while it created a 5,000-Job JobSet.
Called by: the composer of the controller process (`localcluster.up`, the CLI).
Must not import: `cli`, `localcluster`, `planner`, `webhook`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import gc
import logging
import pathlib
import signal
import ssl
from collections.abc import Awaitable, Callable, Iterable

from engine.kube import client as client_
from engine.kube import configuration, controller, informers, leaderelection, metricsauth, servers, tlsconfig

_log = logging.getLogger(__name__)
_SERVICE_ACCOUNT_NAMESPACE = pathlib.Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
# CPython's defaults are (700, 10, 10): a full collection, which walks the whole informer cache
# (~100 objects per Job), at least every 70,000 allocations and each time the heap grew by 25%;
# these allow one every 20M allocations (bench/controller.py, figure 1a: GC ~1.7 -> ~0.4 s CPU).
GC_THRESHOLDS = (50_000, 20, 20)


class Group(enum.IntEnum):
    """Start order; stop order is the reverse."""

    CACHES = 1
    WEBHOOKS = 2
    OTHERS = 3
    LEADER = 4


class ManagerError(Exception):
    """The manager could not start or a runnable failed."""


@dataclasses.dataclass(frozen=True)
class Runnable:
    """`run()` works until cancelled; `ready()`, if given, returns once the runnable is usable."""

    name: str
    run: Callable[[], Awaitable[None]]
    group: Group
    ready: Callable[[], Awaitable[None]] | None = None


@dataclasses.dataclass(frozen=True)
class Options:
    """Addresses, probe names, leader election and timeouts of one manager."""

    health_address: str = ":8081"
    metrics_address: str = ":8443"
    liveness_endpoint: str = "healthz"
    readiness_endpoint: str = "readyz"
    leader_election: leaderelection.Settings | None = None
    metrics_tls: ssl.SSLContext | None = None  # None serves plain HTTP
    metrics_auth: bool = True  # with metrics_tls: TokenReview + SubjectAccessReview of each scrape
    cache_sync_timeout: float = 120.0
    shutdown_timeout: float = 30.0

    @classmethod
    def from_configuration(cls, config: configuration.Configuration, *, namespace: str | None = None,
                           secure_metrics: bool = True) -> Options:
        """Options of spec §14.1; the lease lives in `resourceNamespace`, else `namespace`, else our own.
        With `secure_metrics` (spec §14.4) the metrics server speaks HTTPS; without, plain HTTP."""
        election = config.leader_election
        settings = None
        if election.leader_elect:
            settings = leaderelection.Settings(
                name=election.resource_name,
                namespace=election.resource_namespace or namespace or own_namespace(),
                lease_duration=election.lease_duration, renew_deadline=election.renew_deadline,
                retry_period=election.retry_period)
        metrics_tls = None
        if secure_metrics and servers.parse_address(config.metrics.bind_address) is not None:
            tls = config.tls or configuration.TLS()
            metrics_tls = tlsconfig.metrics_context(
                cert_dir=config.metrics.cert_dir, internal_certs=config.internal_cert_management.enable,
                min_version=tls.min_version, cipher_suites=tls.cipher_suites)
        return cls(health_address=config.health.health_probe_bind_address,
                   metrics_address=config.metrics.bind_address,
                   liveness_endpoint=config.health.liveness_endpoint_name or "healthz",
                   readiness_endpoint=config.health.readiness_endpoint_name or "readyz",
                   leader_election=settings, metrics_tls=metrics_tls, metrics_auth=config.metrics.auth_filter)


def own_namespace() -> str:
    """The Pod's namespace from its service account, or `jobset-system` outside a cluster (spec §14.5)."""
    try:
        return _SERVICE_ACCOUNT_NAMESPACE.read_text().strip() or "jobset-system"
    except OSError:
        return "jobset-system"


class Manager:
    """Owns the runnables of one controller process."""

    def __init__(self, *, client: client_.Client, options: Options) -> None:
        self.client = client
        self.options = options
        self.runnables: list[Runnable] = []
        self.liveness = servers.Checks({"ping": lambda: None})
        self.readiness = servers.Checks({"started": self._started_check})
        self.elector = (leaderelection.LeaderElector(client=client, settings=options.leader_election)
                        if options.leader_election else None)
        self.metrics_reviewer = (metricsauth.Reviewer(client) if options.metrics_tls is not None
                                 and options.metrics_auth else None)
        self.health_port: int | None = None
        self.metrics_port: int | None = None
        self._started = False

    def add(self, runnable: Runnable) -> None:
        """Register a runnable before `run`."""
        self.runnables.append(runnable)

    def add_informer(self, informer: informers.Informer) -> None:
        """Run `informer` in the caches group; controllers start only after it synced."""
        name = f"informer/{informer.resource.plural}"
        self.add(Runnable(name=name, run=informer.run, group=Group.CACHES, ready=informer.wait_synced))

    def add_controller(self, ctrl: controller.Controller) -> None:
        """Run `ctrl` in the leader-gated group."""
        self.add(Runnable(name=f"controller/{ctrl.name}", run=ctrl.run, group=Group.LEADER))

    def add_health_check(self, name: str, check: servers.Check) -> None:
        """Add a liveness check: `check()` returns None when healthy, else the reason."""
        self.liveness.entries[name] = check

    def add_ready_check(self, name: str, check: servers.Check) -> None:
        """Add a readiness check (e.g. the webhook's "certificates are not ready", spec §14.4)."""
        self.readiness.entries[name] = check

    @property
    def is_leader(self) -> bool:
        """True while the leader-gated runnables may run."""
        return self.elector.is_leader if self.elector else self._started

    async def serve(self) -> int:
        """`run` until SIGTERM or SIGINT; the process exit code (1 after a failure or a lost lease)."""
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        thresholds = gc.get_threshold()
        gc.set_threshold(*GC_THRESHOLDS)
        try:
            await self.run(stop)
            return 0
        except (ManagerError, leaderelection.LeadershipLost) as error:
            _log.error("manager stopped: %s", error)
            return 1
        finally:
            gc.set_threshold(*thresholds)
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(signum)

    async def run(self, stop: asyncio.Event) -> None:
        """Start everything in order, wait for `stop` or a failure, then stop in reverse order."""
        sites = await self._start_servers()
        running: dict[Group, list[asyncio.Task[None]]] = {}
        try:
            for group in (Group.CACHES, Group.WEBHOOKS, Group.OTHERS):
                running[group] = await self._start_group(group)
            self._started = True
            _log.info("manager started; waiting for leadership" if self.elector else "manager started")
            running[Group.LEADER] = [asyncio.create_task(self._lead(), name="leader-gated")]
            await self._wait(stop, [task for tasks in running.values() for task in tasks])
        finally:
            self._started = False
            for group in sorted(running, reverse=True):
                await self._stop(running[group])
            for site in sites:
                await site.stop()

    async def _start_servers(self) -> list[servers.Site]:
        sites = []
        options = self.options
        probes = servers.probe_app(liveness=(options.liveness_endpoint, self.liveness),
                                   readiness=(options.readiness_endpoint, self.readiness))
        guard = self.metrics_reviewer.check if self.metrics_reviewer else None
        for address, app, attribute, tls in ((options.health_address, probes, "health_port", None),
                                             (options.metrics_address, servers.metrics_app(guard), "metrics_port",
                                              options.metrics_tls)):
            bind = servers.parse_address(address)
            if bind is None:
                continue
            try:
                site = await servers.Site.start(app, *bind, ssl_context=tls)
            except OSError as error:
                for started in sites:
                    await started.stop()
                raise ManagerError(f"cannot listen on {address}: {error.strerror}") from error
            setattr(self, attribute, site.port)
            sites.append(site)
        return sites

    async def _start_group(self, group: Group) -> list[asyncio.Task[None]]:
        members = [r for r in self.runnables if r.group is group]
        tasks = [asyncio.create_task(r.run(), name=r.name) for r in members]
        readies = [r.ready() for r in members if r.ready is not None]
        if not readies:
            return tasks
        gate = asyncio.ensure_future(asyncio.gather(*readies))
        done, _ = await asyncio.wait([gate, *tasks], timeout=self.options.cache_sync_timeout,
                                     return_when=asyncio.FIRST_COMPLETED)
        if gate not in done:
            gate.cancel()
            await self._stop(tasks)
            failed = [t for t in done if t is not gate]
            reason = f"{failed[0].get_name()} ended: {failed[0].exception()!r}" if failed else "timed out"
            raise ManagerError(f"{group.name.lower()} did not become ready: {reason}")
        return tasks

    async def _lead(self) -> None:
        if self.elector is None:
            await self._run_leader_group()
        else:
            await self.elector.run(self._run_leader_group)

    async def _run_leader_group(self) -> None:
        tasks = [asyncio.create_task(r.run(), name=r.name) for r in self.runnables if r.group is Group.LEADER]
        try:
            await self._wait(None, tasks)
        finally:
            await self._stop(tasks)

    async def _wait(self, stop: asyncio.Event | None, tasks: Iterable[asyncio.Task[None]]) -> None:
        """Return when `stop` is set or every task ended; raise when one of them failed."""
        pending: set[asyncio.Future[object]] = set(tasks)
        stopper = asyncio.ensure_future(stop.wait()) if stop else None
        if stopper:
            pending.add(stopper)
        try:
            while pending and (stopper is None or stopper in pending):
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    if task is not stopper and not task.cancelled() and task.exception() is not None:
                        raise _failure(task)
        finally:
            if stopper:
                stopper.cancel()

    async def _stop(self, tasks: list[asyncio.Task[None]]) -> None:
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=self.options.shutdown_timeout)

    def _started_check(self) -> str | None:
        return None if self._started else "the manager has not started yet"


def _failure(task: asyncio.Future[object]) -> Exception:
    error = task.exception()
    if isinstance(error, leaderelection.LeadershipLost):
        return error
    name = task.get_name() if isinstance(task, asyncio.Task) else "runnable"
    return ManagerError(f"{name} failed: {error!r}")
