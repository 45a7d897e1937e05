"""A manager wiring an informer and a controller, leader-elected, against the embedded API server."""

import asyncio
from collections.abc import Awaitable, Callable

import aiohttp
import pytest

from engine.kube import client, connection, controller, handlers, informers, leaderelection, manager, resources
from engine.localcluster import server
from engine.metrics import metrics

Make = Callable[..., dict]  # the configmap fixture
Poll = Callable[..., Awaitable[None]]  # the eventually fixture

CONFIGMAPS = resources.Resource("", "v1", "configmaps", "ConfigMap")


async def ready_status(mgr: manager.Manager, timeout: float = 5.0) -> int:
    """The first 200 of `/readyz` within `timeout`, else the last status seen."""
    deadline = asyncio.get_running_loop().time() + timeout
    async with aiohttp.ClientSession() as session:
        while True:
            async with session.get(f"http://127.0.0.1:{mgr.health_port}/readyz") as response:
                if response.status == 200 or asyncio.get_running_loop().time() > deadline:
                    return response.status
            await asyncio.sleep(0.02)


def build(api: client.Client, namespace: str, identity: str, seen: list[tuple[str, str]]) -> manager.Manager:
    election = leaderelection.Settings(name="mgr-lock", namespace=namespace, identity=identity,
                                       lease_duration=2.0, renew_deadline=1.5, retry_period=0.1)
    options = manager.Options(health_address="127.0.0.1:0", metrics_address="127.0.0.1:0",
                              leader_election=election, shutdown_timeout=2.0)
    mgr = manager.Manager(client=api, options=options)
    informer = informers.Informer(client=api, resource=CONFIGMAPS, namespace=namespace)

    async def reconcile(key: informers.Key) -> controller.Result:
        obj = informer.reader.get(key.namespace, key.name)
        if obj is not None and "seen-by" not in (obj["metadata"].get("annotations") or {}):
            await api.patch(CONFIGMAPS, key.name, {"metadata": {"annotations": {"seen-by": identity}}},
                            namespace=key.namespace)
            seen.append((identity, key.name))
        return controller.Result()

    ctrl = controller.Controller(name=f"cm-{identity}", reconcile=reconcile, workers=2)
    informer.add_handler(handlers.enqueue(ctrl.queue, handlers.own_key))
    mgr.add_informer(informer)
    mgr.add_controller(ctrl)
    return mgr


def test_only_the_leader_reconciles_and_a_standby_takes_over(cluster: server.RunningServer, namespace: str,
        configmap: Make, eventually: Poll) -> None:
    seen: list[tuple[str, str]] = []

    async def scenario() -> tuple[int, int]:
        api = client.Client(connection.Connection(host=cluster.url))
        try:
            await api.create(CONFIGMAPS, configmap("one", namespace))
            first, second = build(api, namespace, "first", seen), build(api, namespace, "second", seen)
            stop_first, stop_second = asyncio.Event(), asyncio.Event()
            run_first = asyncio.create_task(first.run(stop_first))
            await eventually(lambda: seen == [("first", "one")])
            run_second = asyncio.create_task(second.run(stop_second))
            await eventually(lambda: second.health_port is not None)
            standby_ready = await ready_status(second)  # a standby serves its probes and becomes ready
            await api.create(CONFIGMAPS, configmap("two", namespace))
            await eventually(lambda: ("first", "two") in seen)
            stop_first.set()
            await run_first
            await api.create(CONFIGMAPS, configmap("three", namespace))
            await eventually(lambda: ("second", "three") in seen)
            stop_second.set()
            await run_second
            return standby_ready, len(seen)
        finally:
            await api.close()

    standby_ready, count = asyncio.run(scenario())
    assert standby_ready == 200
    assert count == 3 and {who for who, name in seen if name in ("one", "two")} == {"first"}
    assert metrics.value("controller_runtime_reconcile_total", {"controller": "cm-first", "result": "success"}) >= 2


def test_a_lost_lease_stops_the_controllers_and_ends_the_manager_spec_14_3(
        cluster: server.RunningServer, namespace: str, configmap: Make, eventually: Poll) -> None:
    seen: list[tuple[str, str]] = []

    async def scenario() -> None:
        api = client.Client(connection.Connection(host=cluster.url))
        try:
            mgr = build(api, namespace, "solo", seen)
            running = asyncio.create_task(mgr.run(asyncio.Event()))
            await eventually(lambda: mgr.is_leader)
            takeover = {"spec": {"holderIdentity": "intruder", "leaseDurationSeconds": 30}}
            await api.patch(resources.LEASES, "mgr-lock", takeover, namespace=namespace)
            with pytest.raises(leaderelection.LeadershipLost):
                await asyncio.wait_for(running, 5)
            await api.create(CONFIGMAPS, configmap("late", namespace))
            await asyncio.sleep(0.2)
        finally:
            await api.close()

    asyncio.run(scenario())
    assert ("solo", "late") not in seen
