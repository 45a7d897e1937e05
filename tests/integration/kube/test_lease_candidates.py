"""Two candidates for one Lease on the embedded API server (spec §14.3)."""

import asyncio
from collections.abc import Awaitable, Callable
import datetime

import pytest

from engine.kube import client, connection, leaderelection, resources
from engine.localcluster import server

Poll = Callable[..., Awaitable[None]]  # the eventually fixture


def settings(namespace: str, identity: str) -> leaderelection.Settings:
    return leaderelection.Settings(name="lock", namespace=namespace, identity=identity,
                                   lease_duration=2.0, renew_deadline=1.5, retry_period=0.1)


def test_one_leader_at_a_time_and_release_hands_over_at_once(cluster: server.RunningServer, namespace: str,
        eventually: Poll) -> None:
    leading: list[str] = []

    def work(name: str):  # type: ignore[no-untyped-def]
        async def run() -> None:
            leading.append(name)
            try:
                await asyncio.Event().wait()
            finally:
                leading.remove(name)
        return run

    async def scenario() -> dict:
        api = client.Client(connection.Connection(host=cluster.url))
        try:
            a = leaderelection.LeaderElector(client=api, settings=settings(namespace, "a"))
            b = leaderelection.LeaderElector(client=api, settings=settings(namespace, "b"))
            task_a = asyncio.create_task(a.run(work("a")))
            await eventually(lambda: leading == ["a"])
            task_b = asyncio.create_task(b.run(work("b")))
            await asyncio.sleep(2.5)  # longer than the lease: renewals keep "a" in charge
            assert leading == ["a"] and a.is_leader and not b.is_leader
            handed_over = asyncio.get_running_loop().time()
            task_a.cancel()
            await asyncio.gather(task_a, return_exceptions=True)
            await eventually(lambda: leading == ["b"])
            assert asyncio.get_running_loop().time() - handed_over < 1.5  # released, not expired
            lease = await api.get(resources.LEASES, "lock", namespace=namespace)
            task_b.cancel()
            await asyncio.gather(task_b, return_exceptions=True)
            return lease
        finally:
            await api.close()

    lease = asyncio.run(scenario())
    assert lease["spec"]["holderIdentity"] == "b"
    assert lease["spec"]["leaseDurationSeconds"] == 2
    assert lease["spec"]["leaseTransitions"] == 1


def test_losing_the_lease_stops_the_leader_work_spec_14_3(cluster: server.RunningServer, namespace: str,
        eventually: Poll) -> None:
    stopped = []

    async def run() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            stopped.append(True)

    async def scenario() -> None:
        api = client.Client(connection.Connection(host=cluster.url))
        try:
            a = leaderelection.LeaderElector(client=api, settings=settings(namespace, "a"))
            task = asyncio.create_task(a.run(run))
            await eventually(lambda: a.is_leader)
            now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            takeover = {"spec": {"holderIdentity": "intruder", "leaseDurationSeconds": 30, "renewTime": now}}
            await api.patch(resources.LEASES, "lock", takeover, namespace=namespace)  # no precondition: no race
            with pytest.raises(leaderelection.LeadershipLost):
                await asyncio.wait_for(task, 5)
            assert stopped == [True] and not a.is_leader
            after = await api.get(resources.LEASES, "lock", namespace=namespace)
            assert after["spec"]["holderIdentity"] == "intruder"  # a lost leader never releases another's lease
        finally:
            await api.close()

    asyncio.run(scenario())


def test_inconsistent_timings_are_rejected() -> None:
    with pytest.raises(ValueError, match="leaseDuration > renewDeadline > retryPeriod"):
        leaderelection.Settings(name="x", namespace="y", lease_duration=5, renew_deadline=10, retry_period=2)
