"""The JSON API client against the embedded API server over HTTP: verbs, patches, errors, watch."""

import asyncio
import time
from collections.abc import Callable

import pytest

from engine.kube import client, connection, errors, resources
from engine.localcluster import faults, server

from apiruns import with_client

Make = Callable[..., dict]  # the configmap fixture

CONFIGMAPS = resources.Resource("", "v1", "configmaps", "ConfigMap")


def test_create_get_list_and_typed_errors(cluster: server.RunningServer, namespace: str, configmap: Make) -> None:
    async def body(api: client.Client) -> None:
        created = await api.create(CONFIGMAPS, configmap("a", namespace, app="x"))
        assert created["metadata"]["uid"] and created["metadata"]["resourceVersion"]
        await api.create(CONFIGMAPS, configmap("b", namespace, app="y"))
        got = await api.get(CONFIGMAPS, "a", namespace=namespace)
        assert got["data"] == {"k": "v"}
        listed = await api.list(CONFIGMAPS, namespace=namespace, label_selector="app=x")
        assert [item["metadata"]["name"] for item in listed["items"]] == ["a"]
        assert listed["metadata"]["resourceVersion"]
        with pytest.raises(errors.AlreadyExists):
            await api.create(CONFIGMAPS, configmap("a", namespace))
        with pytest.raises(errors.NotFound) as missing:
            await api.get(CONFIGMAPS, "zzz", namespace=namespace)
        assert missing.value.code == 404 and "zzz" in missing.value.message
        with pytest.raises(errors.Invalid):
            await api.create(CONFIGMAPS, configmap("Not_A_Name", namespace))
    with_client(cluster, body)


def test_update_with_a_stale_resource_version_is_a_conflict(cluster: server.RunningServer, namespace: str,
        configmap: Make) -> None:
    async def body(api: client.Client) -> None:
        first = await api.create(CONFIGMAPS, configmap("a", namespace))
        fresh = dict(first, data={"k": "2"})
        updated = await api.update(CONFIGMAPS, fresh)
        assert updated["data"] == {"k": "2"}
        with pytest.raises(errors.Conflict):
            await api.update(CONFIGMAPS, dict(first, data={"k": "3"}))
    with_client(cluster, body)


def test_every_patch_type(cluster: server.RunningServer, namespace: str, configmap: Make) -> None:
    async def body(api: client.Client) -> None:
        await api.create(CONFIGMAPS, configmap("a", namespace))
        merged = await api.patch(CONFIGMAPS, "a", {"data": {"m": "1"}}, namespace=namespace)
        assert merged["data"] == {"k": "v", "m": "1"}
        jsoned = await api.patch(CONFIGMAPS, "a", [{"op": "remove", "path": "/data/k"}], namespace=namespace,
                                 patch_type=client.PatchType.JSON)
        assert jsoned["data"] == {"m": "1"}
        strategic = await api.patch(CONFIGMAPS, "a", {"data": {"s": "1"}}, namespace=namespace,
                                    patch_type=client.PatchType.STRATEGIC)
        assert strategic["data"] == {"m": "1", "s": "1"}
        applied = await api.patch(CONFIGMAPS, "b", {"apiVersion": "v1", "kind": "ConfigMap",
                                                    "metadata": {"name": "b", "namespace": namespace},
                                                    "data": {"x": "1"}},
                                  namespace=namespace, patch_type=client.PatchType.APPLY, field_manager="test")
        assert applied["data"] == {"x": "1"}
        with pytest.raises(ValueError, match="field_manager"):
            await api.patch(CONFIGMAPS, "b", {}, namespace=namespace, patch_type=client.PatchType.APPLY)
    with_client(cluster, body)


def test_status_subresource_update_changes_only_status(cluster: server.RunningServer, namespace: str) -> None:
    async def body(api: client.Client) -> None:
        job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j", "namespace": namespace},
               "spec": {"suspend": True, "template": {"spec": {"restartPolicy": "Never",
                                                                "containers": [{"name": "c", "image": "busybox"}]}}}}
        created = await api.create(resources.JOBS, job)
        created["status"] = {"active": 0, "succeeded": 0, "failed": 0}
        created["spec"]["parallelism"] = 5
        written = await api.update_status(resources.JOBS, created)
        assert written["status"]["failed"] == 0
        assert written["spec"]["parallelism"] != 5
    with_client(cluster, body)


def test_delete_preconditions_and_propagation(cluster: server.RunningServer, namespace: str, configmap: Make) -> None:
    async def body(api: client.Client) -> None:
        created = await api.create(CONFIGMAPS, configmap("a", namespace))
        with pytest.raises(errors.Conflict):
            await api.delete(CONFIGMAPS, "a", namespace=namespace, uid="not-the-uid")
        await api.delete(CONFIGMAPS, "a", namespace=namespace, propagation="Background",
                         uid=created["metadata"]["uid"], resource_version=created["metadata"]["resourceVersion"])
        with pytest.raises(errors.NotFound):
            await api.get(CONFIGMAPS, "a", namespace=namespace)
        with pytest.raises(errors.NotFound):
            await api.delete(CONFIGMAPS, "a", namespace=namespace)
    with_client(cluster, body)


def test_watch_streams_changes_from_a_resource_version(cluster: server.RunningServer, namespace: str,
        configmap: Make) -> None:
    async def body(api: client.Client) -> list[tuple[str, str]]:
        listed = await api.list(CONFIGMAPS, namespace=namespace)
        seen: list[tuple[str, str]] = []

        async def consume() -> None:
            async for kind, obj in api.watch(CONFIGMAPS, namespace=namespace,
                                             resource_version=listed["metadata"]["resourceVersion"],
                                             timeout_seconds=5):
                if kind != "BOOKMARK":
                    seen.append((kind, obj["metadata"]["name"]))
                if kind == "DELETED":
                    return
        watcher = asyncio.create_task(consume())
        await api.create(CONFIGMAPS, configmap("w", namespace))
        await api.patch(CONFIGMAPS, "w", {"data": {"k": "2"}}, namespace=namespace)
        await api.delete(CONFIGMAPS, "w", namespace=namespace)
        await asyncio.wait_for(watcher, 5)
        return seen
    assert with_client(cluster, body) == [("ADDED", "w"), ("MODIFIED", "w"), ("DELETED", "w")]


def test_client_side_rate_limit_paces_requests_spec_14_1(cluster: server.RunningServer, namespace: str) -> None:
    async def body(api: client.Client) -> float:
        started = time.monotonic()
        for _ in range(6):
            await api.list(CONFIGMAPS, namespace=namespace)
        return time.monotonic() - started
    elapsed = with_client(cluster, body, qps=20.0, burst=1)
    assert isinstance(elapsed, float) and elapsed >= 0.24  # 5 waits of 50 ms after the single burst token


def test_unreachable_server_is_a_transport_error() -> None:
    async def scenario() -> None:
        api = client.Client(connection.Connection(host="http://127.0.0.1:9"))
        try:
            with pytest.raises(errors.TransportError):
                await api.get(CONFIGMAPS, "a", namespace="default")
        finally:
            await api.close()
    asyncio.run(scenario())


def test_throttling_with_retry_after_is_retried_and_other_errors_are_typed(cluster: server.RunningServer,
                                                                          namespace: str) -> None:
    throttle = cluster.faults.add(faults.Rule(verb="list", resource="configmaps", namespace=namespace, code=429,
                                              times=1))
    broken = cluster.faults.add(faults.Rule(verb="get", resource="configmaps", namespace=namespace, code=500))

    async def body(api: client.Client) -> None:
        listed = await api.list(CONFIGMAPS, namespace=namespace)  # waits the 1 s Retry-After, then succeeds
        assert listed["items"] == []
        with pytest.raises(errors.ServerError) as failed:
            await api.get(CONFIGMAPS, "a", namespace=namespace)
        assert failed.value.code == 500 and failed.value.message == "injected fault"
    try:
        with_client(cluster, body)
    finally:
        cluster.faults.remove(broken)
    assert throttle.times == 0


def test_list_follows_continue_tokens_page_by_page(cluster: server.RunningServer, namespace: str,
                                                   configmap: Make) -> None:
    async def body(api: client.Client) -> tuple[list[int], list[str]]:
        for i in range(5):
            await api.create(CONFIGMAPS, configmap(f"p{i}", namespace))
        sizes = [len(page["items"]) async for page in api.list_pages(CONFIGMAPS, namespace=namespace, limit=2)]
        listed = await api.list(CONFIGMAPS, namespace=namespace, limit=2)
        assert "continue" not in listed["metadata"]
        return sizes, sorted(item["metadata"]["name"] for item in listed["items"])
    sizes, names = with_client(cluster, body)  # type: ignore[misc]
    assert sizes == [2, 2, 1]
    assert names == [f"p{i}" for i in range(5)]
