"""Informers against the embedded API server (spec §7).

Sync, indexes, owner mapping, resume, re-list, resync, bookmarks, transforms.
"""

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from engine.kube import client, handlers, informers, resources, workqueue
from engine.localcluster import faults, server, streaming

from apiruns import with_client

Make = Callable[..., dict]  # the configmap fixture
Poll = Callable[..., Awaitable[None]]  # the eventually fixture

CONFIGMAPS = resources.Resource("", "v1", "configmaps", "ConfigMap")


def child(configmap: Make, name: str, namespace: str, parent: dict) -> dict:
    obj = configmap(name, namespace, role="child")
    owner = {"apiVersion": "v1", "kind": "ConfigMap", "name": parent["metadata"]["name"],
             "uid": parent["metadata"]["uid"], "controller": True}
    obj["metadata"]["ownerReferences"] = [owner]
    return obj


def test_informer_syncs_indexes_by_owner_and_enqueues_the_owner_key_spec_7(
        cluster: server.RunningServer, namespace: str, configmap: Make, eventually: Poll) -> None:
    async def body(api: client.Client) -> None:
        parent = await api.create(CONFIGMAPS, configmap("parent", namespace, role="parent"))
        await api.create(CONFIGMAPS, child(configmap, "c1", namespace, parent))
        informer = informers.Informer(client=api, resource=CONFIGMAPS, namespace=namespace,
                                      indexers={"owner": informers.by_controller_uid(group="", kind="ConfigMap")})
        queue = workqueue.WorkQueue(name="owners")
        informer.add_handler(handlers.enqueue(queue, handlers.controller_owner(group="", kind="ConfigMap")))
        task = asyncio.create_task(informer.run())
        try:
            await asyncio.wait_for(informer.wait_synced(), 5)
            assert informer.has_synced()
            assert await asyncio.wait_for(queue.get(), 1) == informers.Key(namespace, "parent")
            queue.done(informers.Key(namespace, "parent"))
            await api.create(CONFIGMAPS, child(configmap, "c2", namespace, parent))
            await eventually(lambda: len(informer.reader.by_index("owner", parent["metadata"]["uid"])) == 2)
            assert await asyncio.wait_for(queue.get(), 2) == informers.Key(namespace, "parent")
            assert informer.reader.get(namespace, "c2")["metadata"]["name"] == "c2"
            assert [o["metadata"]["name"] for o in informer.reader.list(labels={"role": "parent"})] == ["parent"]
            assert len(informer.reader.list(namespace=namespace)) == 3 and informer.reader.list(namespace="x") == []
            assert len(informer.reader.by_index(informers.NAMESPACE_INDEX, namespace)) == 3
            await api.delete(CONFIGMAPS, "c1", namespace=namespace)
            await eventually(lambda: informer.reader.get(namespace, "c1") is None)
            owned = informer.reader.by_index("owner", parent["metadata"]["uid"])
            assert [o["metadata"]["name"] for o in owned] == ["c2"]
        finally:
            task.cancel()
    with_client(cluster, body)


def test_dropped_stream_resumes_from_the_last_resource_version_without_relisting(
        cluster: server.RunningServer, namespace: str, configmap: Make, eventually: Poll) -> None:
    async def body(api: client.Client) -> None:
        await api.create(CONFIGMAPS, configmap("before", namespace))
        events: list[tuple[str | None, str | None]] = []
        informer = informers.Informer(client=api, resource=CONFIGMAPS, namespace=namespace)
        informer.add_handler(lambda old, new: events.append(
            (old and old["metadata"]["name"], new and new["metadata"]["name"])))
        task = asyncio.create_task(informer.run())
        try:
            await asyncio.wait_for(informer.wait_synced(), 5)
            await asyncio.sleep(0.05)
            assert await asyncio.to_thread(cluster.drop_watches, "v1/configmaps") >= 1
            await api.create(CONFIGMAPS, configmap("after", namespace))
            await eventually(lambda: informer.reader.get(namespace, "after") is not None)
        finally:
            task.cancel()
        assert events == [(None, "before"), (None, "after")]  # a re-list would have replayed "before"
    with_client(cluster, body)


def test_expired_resource_version_triggers_a_relist_that_drops_deleted_objects(
        cluster: server.RunningServer, namespace: str, configmap: Make, eventually: Poll) -> None:
    async def body(api: client.Client) -> None:
        for name in ("keep", "gone"):
            await api.create(CONFIGMAPS, configmap(name, namespace))
        informer = informers.Informer(client=api, resource=CONFIGMAPS, namespace=namespace)
        deleted: list[str] = []
        replayed: list[str] = []
        informer.add_handler(lambda old, new: new is None and deleted.append(old["metadata"]["name"]))
        informer.add_handler(lambda old, new: old is not None and new is not None
                             and replayed.append(new["metadata"]["name"]))
        task = asyncio.create_task(informer.run())
        await asyncio.wait_for(informer.wait_synced(), 5)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await api.delete(CONFIGMAPS, "gone", namespace=namespace)
        expired = cluster.faults.add(faults.Rule(verb="watch", resource="configmaps", namespace=namespace, code=410,
                                                 times=1, message="too old resource version"))
        task = asyncio.create_task(informer.run())  # resumes from its resourceVersion: 410, then re-list
        try:
            await eventually(lambda: informer.reader.get(namespace, "gone") is None)
        finally:
            task.cancel()
            cluster.faults.remove(expired)
        assert deleted == ["gone"]
        assert expired.times == 0 and replayed == ["keep"]  # the 410 was served, and the re-list replayed "keep"
        assert sorted(str(k) for k in informer.reader.keys()) == [f"{namespace}/keep"]
    with_client(cluster, body)


def test_periodic_resync_replays_cached_objects_as_updates(cluster: server.RunningServer, namespace: str,
        configmap: Make, eventually: Poll) -> None:
    async def body(api: client.Client) -> None:
        await api.create(CONFIGMAPS, configmap("r", namespace))
        updates: list[str] = []
        informer = informers.Informer(client=api, resource=CONFIGMAPS, namespace=namespace, resync_period=0.1)
        informer.add_handler(lambda old, new: old is new and updates.append(new["metadata"]["name"]))
        task = asyncio.create_task(informer.run())
        try:
            await eventually(lambda: len(updates) >= 2)
        finally:
            task.cancel()
        assert set(updates) == {"r"}
    with_client(cluster, body)


def test_transform_keeps_the_cache_small(cluster: server.RunningServer, namespace: str, configmap: Make) -> None:
    async def body(api: client.Client) -> None:
        await api.create(CONFIGMAPS, configmap("t", namespace))

        def keep_metadata(obj: dict) -> dict:
            return {"metadata": {k: obj["metadata"][k] for k in ("name", "namespace", "resourceVersion")}}
        informer = informers.Informer(client=api, resource=CONFIGMAPS, namespace=namespace, transform=keep_metadata)
        task = asyncio.create_task(informer.run())
        try:
            await asyncio.wait_for(informer.wait_synced(), 5)
        finally:
            task.cancel()
        cached = informer.reader.get(namespace, "t")
        assert cached == {"metadata": {"name": "t", "namespace": namespace,
                                       "resourceVersion": cached["metadata"]["resourceVersion"]}}
        assert "data" not in informer.reader.get(namespace, "t")
    with_client(cluster, body)


def test_bookmarks_advance_the_resource_version_without_events(
        cluster: server.RunningServer, namespace: str, configmap: Make, eventually: Poll,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(streaming, "BOOKMARK_SECONDS", 0.05)

    async def body(api: client.Client) -> None:
        informer = informers.Informer(client=api, resource=CONFIGMAPS, namespace=namespace)
        events: list[object] = []
        informer.add_handler(lambda old, new: events.append(new))
        task = asyncio.create_task(informer.run())
        try:
            await asyncio.wait_for(informer.wait_synced(), 5)
            synced_at = int(informer.resource_version or 0)
            elsewhere = await api.create(CONFIGMAPS, configmap("elsewhere", "default"))
            later = int(elsewhere["metadata"]["resourceVersion"])
            await eventually(lambda: int(informer.resource_version or 0) >= later)
            assert later > synced_at
        finally:
            task.cancel()
            await api.delete(CONFIGMAPS, "elsewhere", namespace="default")
        assert events == []
    with_client(cluster, body)
