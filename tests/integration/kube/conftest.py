"""One embedded API server per test module, spoken to over HTTP."""

import asyncio
import collections.abc
import uuid

import pytest

from engine.kube import client, connection, resources
from engine.localcluster import server

@pytest.fixture(scope="module")
def cluster() -> collections.abc.Iterator[server.RunningServer]:
    running = server.start_in_thread(port=0)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def namespace(cluster: server.RunningServer) -> str:
    """A fresh namespace per test, so tests never see each other's objects."""
    name = f"t-{uuid.uuid4().hex[:8]}"

    async def create() -> None:
        api = client.Client(connection.Connection(host=cluster.url))
        try:
            body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
            await api.create(resources.NAMESPACES, body)
        finally:
            await api.close()

    asyncio.run(create())
    return name


def make_configmap(name: str, namespace: str, **labels: str) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": namespace,
                                                                  "labels": labels}, "data": {"k": "v"}}


async def wait_until(condition: collections.abc.Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


@pytest.fixture
def configmap() -> collections.abc.Callable[..., dict]:
    """Builds a ConfigMap body: configmap(name, namespace, **labels)."""
    return make_configmap


@pytest.fixture
def eventually() -> collections.abc.Callable[..., collections.abc.Awaitable[None]]:
    """`await eventually(condition)` polls every 10 ms, failing after 5 s."""
    return wait_until
