"""Manager start order, readiness, failure and shutdown, without leader election (spec §14.4)."""

import asyncio
from collections.abc import Awaitable, Callable

import aiohttp
import pytest

from engine.kube import client, configuration, connection, manager

OPTIONS = manager.Options(health_address="127.0.0.1:0", metrics_address="127.0.0.1:0", cache_sync_timeout=1.0)


Parts = tuple[Callable[[], Awaitable[None]], Callable[[], Awaitable[object]]]


def recorder(log: list[str], name: str, *, ready_after: float = 0.0, fail: bool = False) -> Parts:
    synced = asyncio.Event()

    async def run() -> None:
        log.append(f"start {name}")
        try:
            await asyncio.sleep(ready_after)
            if fail:
                raise RuntimeError(f"{name} broke")
            synced.set()
            await asyncio.Event().wait()
        finally:
            log.append(f"stop {name}")

    return run, synced.wait


def test_groups_start_in_order_and_stop_in_reverse() -> None:
    log: list[str] = []
    readiness: list[int] = []

    async def scenario() -> None:
        api = client.Client(connection.Connection(host="http://127.0.0.1:9"))
        mgr = manager.Manager(client=api, options=OPTIONS)
        for name, group in (("ctrl", manager.Group.LEADER), ("hook", manager.Group.WEBHOOKS),
                            ("cache", manager.Group.CACHES)):
            run, ready = recorder(log, name, ready_after=0.02)
            mgr.add(manager.Runnable(name=name, run=run, group=group, ready=ready))
        certificates = {"ready": False}
        mgr.add_ready_check("certs", lambda: None if certificates["ready"] else "certificates are not ready")
        mgr.add_health_check("alive", lambda: None)
        stop = asyncio.Event()
        task = asyncio.create_task(mgr.run(stop))
        while "start ctrl" not in log:
            await asyncio.sleep(0.005)
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{mgr.health_port}/readyz") as response:
                readiness.append(response.status)
                assert "certificates are not ready" in await response.text()
            certificates["ready"] = True
            async with session.get(f"http://127.0.0.1:{mgr.health_port}/readyz") as response:
                readiness.append(response.status)
            async with session.get(f"http://127.0.0.1:{mgr.health_port}/healthz/alive") as response:
                readiness.append(response.status)
            async with session.get(f"http://127.0.0.1:{mgr.metrics_port}/metrics") as response:
                readiness.append(response.status)
        assert mgr.is_leader
        stop.set()
        await task
        await api.close()

    asyncio.run(scenario())
    assert log == ["start cache", "start hook", "start ctrl", "stop ctrl", "stop hook", "stop cache"]
    assert readiness == [500, 200, 200, 200]


def test_a_failing_runnable_stops_the_manager_with_its_name() -> None:
    log: list[str] = []

    async def scenario() -> None:
        api = client.Client(connection.Connection(host="http://127.0.0.1:9"))
        mgr = manager.Manager(client=api, options=OPTIONS)
        run, _ = recorder(log, "cache", ready_after=0)
        mgr.add(manager.Runnable(name="cache", run=run, group=manager.Group.CACHES))
        bad, _ = recorder(log, "ctrl", ready_after=0.01, fail=True)
        mgr.add(manager.Runnable(name="ctrl", run=bad, group=manager.Group.LEADER))
        try:
            with pytest.raises(manager.ManagerError, match="ctrl failed: RuntimeError"):
                await mgr.run(asyncio.Event())
        finally:
            await api.close()

    asyncio.run(scenario())
    assert log[-1] == "stop cache"


def test_caches_that_never_sync_fail_startup_and_controllers_never_start() -> None:
    log: list[str] = []

    async def scenario() -> None:
        api = client.Client(connection.Connection(host="http://127.0.0.1:9"))
        options = manager.Options(health_address="0", metrics_address="0", cache_sync_timeout=0.05)
        mgr = manager.Manager(client=api, options=options)
        run, ready = recorder(log, "cache", ready_after=10)
        mgr.add(manager.Runnable(name="cache", run=run, group=manager.Group.CACHES, ready=ready))
        ctrl, _ = recorder(log, "ctrl")
        mgr.add(manager.Runnable(name="ctrl", run=ctrl, group=manager.Group.LEADER))
        try:
            with pytest.raises(manager.ManagerError, match="caches did not become ready: timed out"):
                await mgr.run(asyncio.Event())
        finally:
            await api.close()

    asyncio.run(scenario())
    assert "start ctrl" not in log and log == ["start cache", "stop cache"]


def test_busy_port_is_a_clear_startup_error() -> None:
    async def scenario() -> None:
        api = client.Client(connection.Connection(host="http://127.0.0.1:9"))
        holder = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = holder.sockets[0].getsockname()[1]
        mgr = manager.Manager(client=api, options=manager.Options(health_address=f"127.0.0.1:{port}"))
        try:
            with pytest.raises(manager.ManagerError, match=f"cannot listen on 127.0.0.1:{port}"):
                await mgr.run(asyncio.Event())
        finally:
            holder.close()
            await api.close()

    asyncio.run(scenario())


def test_options_from_configuration_spec_14_1_and_14_3() -> None:
    config = configuration.load(None)
    options = manager.Options.from_configuration(config, namespace="jobset-system")
    assert (options.health_address, options.metrics_address) == (":8081", ":8443")
    assert (options.liveness_endpoint, options.readiness_endpoint) == ("healthz", "readyz")
    election = options.leader_election
    assert election is not None
    assert (election.name, election.namespace) == ("6d4f6a47.jobset.x-k8s.io", "jobset-system")
    assert (election.lease_duration, election.renew_deadline, election.retry_period) == (15.0, 10.0, 2.0)
    config.leader_election.leader_elect = False
    assert manager.Options.from_configuration(config).leader_election is None


def test_metrics_are_served_over_https_by_default_spec_14_4() -> None:
    config = configuration.load(None)
    config.metrics.bind_address = "127.0.0.1:0"
    config.health.health_probe_bind_address = "127.0.0.1:0"
    config.leader_election.leader_elect = False
    options = manager.Options.from_configuration(config)
    assert options.metrics_tls is not None
    assert manager.Options.from_configuration(config, secure_metrics=False).metrics_tls is None
    assert options.metrics_auth is True
    config.metrics.auth_filter = False  # --no-metrics-auth

    async def scenario(options: manager.Options) -> tuple[int, str]:
        api = client.Client(connection.Connection(host="http://127.0.0.1:9"))
        mgr = manager.Manager(client=api, options=options)
        stop = asyncio.Event()
        task = asyncio.create_task(mgr.run(stop))
        try:
            while mgr.metrics_port is None:
                await asyncio.sleep(0.005)
            async with aiohttp.ClientSession() as session:
                async with session.get(f"https://127.0.0.1:{mgr.metrics_port}/metrics", ssl=False) as response:
                    return response.status, await response.text()
        finally:
            stop.set()
            await task
            await api.close()

    status, text = asyncio.run(scenario(options))
    assert (status, text) == (401, "Unauthorized: a valid bearer token is required\n")  # reviewed, no token
    status, text = asyncio.run(scenario(manager.Options.from_configuration(config)))
    assert status == 200 and "controller_runtime_reconcile_total" in text
