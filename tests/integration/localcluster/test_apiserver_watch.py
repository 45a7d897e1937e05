"""Watch: streaming lists, replay from a resourceVersion, 410 Expired, selector transitions, timeouts,
and fault injection on the stream."""

from __future__ import annotations

import json
import threading
import time
import urllib.request

import pytest
from kubernetes import client, watch

from engine.localcluster import faults, server


def _stream(url: str, path: str, *, until: int | None = None, timeout: float = 10) -> list[dict]:
    """The events of a watch request, read line by line (up to `until` events)."""
    events = []
    with urllib.request.urlopen(url + path, timeout=timeout) as response:
        for line in response:
            events.append(json.loads(line))
            if until is not None and len(events) >= until:
                break
    return events


def test_streaming_list_ends_initial_events_with_a_bookmark(cluster, raw) -> None:
    for name in ("sl-a", "sl-b"):
        raw("POST", "/api/v1/namespaces/default/configmaps", {"metadata": {"name": name, "labels": {"set": "sl"}}})
    events = _stream(cluster.url, "/api/v1/namespaces/default/configmaps?watch=true&sendInitialEvents=true"
                     "&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&labelSelector=set%3Dsl", until=3)
    assert [(e["type"], e["object"]["metadata"].get("name")) for e in events[:2]] == [("ADDED", "sl-a"), ("ADDED", "sl-b")]
    bookmark = events[2]
    assert bookmark["type"] == "BOOKMARK" and bookmark["object"]["kind"] == "ConfigMap"
    assert bookmark["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}


def test_label_changes_become_added_and_deleted_for_a_selective_watch(api_client) -> None:
    core = client.CoreV1Api(api_client)
    start = core.create_namespaced_config_map("default", {"metadata": {"name": "flip"}}).metadata.resource_version
    core.patch_namespaced_config_map("flip", "default", {"metadata": {"labels": {"flip": "on"}}})
    core.patch_namespaced_config_map("flip", "default", {"metadata": {"labels": {"flip": "off"}}})
    seen = [e["type"] for e in watch.Watch().stream(core.list_namespaced_config_map, "default", label_selector="flip=on",
                                                    resource_version=start, timeout_seconds=1)]
    assert seen == ["ADDED", "DELETED"]


def test_too_old_resource_version_is_expired() -> None:
    small = server.start_in_thread(history=3)
    try:
        core_url = small.url + "/api/v1/namespaces/default/configmaps"
        first = None
        for n in range(6):
            request = urllib.request.Request(core_url, data=json.dumps({"metadata": {"name": f"c{n}"}}).encode(),
                                             method="POST", headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(request) as response:
                first = first or json.loads(response.read())["metadata"]["resourceVersion"]
        events = _stream(small.url, f"/api/v1/namespaces/default/configmaps?watch=true&resourceVersion={first}")
        assert len(events) == 1 and events[0]["type"] == "ERROR"
        assert events[0]["object"]["code"] == 410 and events[0]["object"]["reason"] == "Expired"
    finally:
        small.stop()


def test_timeout_seconds_ends_the_stream(cluster) -> None:
    started = time.monotonic()
    assert _stream(cluster.url, "/api/v1/namespaces/kube-system/configmaps?watch=true&resourceVersion="
                   "1&timeoutSeconds=1") == []
    assert 0.9 < time.monotonic() - started < 5


def test_dropped_watch_ends_the_stream(cluster) -> None:
    result: list = []
    reader = threading.Thread(target=lambda: result.append(_stream(
        cluster.url, "/api/v1/namespaces/kube-public/configmaps?watch=true&resourceVersion=1")))
    reader.start()
    deadline = time.monotonic() + 5
    while reader.is_alive() and time.monotonic() < deadline:
        cluster.drop_watches("v1/configmaps")
        time.sleep(0.05)
    reader.join(5)
    assert not reader.is_alive() and result == [[]]


def test_injected_errors_and_latency(cluster, api_client) -> None:
    core = client.CoreV1Api(api_client)
    rule = cluster.faults.add(faults.Rule(verb="create", resource="configmaps", code=429, times=1))
    with pytest.raises(client.ApiException) as raised:
        core.create_namespaced_config_map("default", {"metadata": {"name": "throttled"}})
    assert raised.value.status == 429 and rule.times == 0
    assert raised.value.headers["Retry-After"] == "1"
    core.create_namespaced_config_map("default", {"metadata": {"name": "throttled"}})
    cluster.faults.add(faults.Rule(verb="get", name="throttled", latency=0.3, code=500, times=1))
    started = time.monotonic()
    with pytest.raises(client.ApiException) as raised:
        core.read_namespaced_config_map("throttled", "default")
    assert raised.value.status == 500 and time.monotonic() - started >= 0.3
    assert core.read_namespaced_config_map("throttled", "default").metadata.name == "throttled"


def test_quiet_watch_ends_once_its_client_left(cluster, monkeypatch) -> None:
    from engine.localcluster import streaming
    monkeypatch.setattr(streaming, "BOOKMARK_SECONDS", 0.1)
    response = urllib.request.urlopen(cluster.url + "/api/v1/namespaces/default/serviceaccounts?watch=true"
                                      "&resourceVersion=1", timeout=5)
    time.sleep(0.3)
    response.close()
    time.sleep(1.0)
    assert cluster.drop_watches("v1/serviceaccounts") == 0  # nothing left to drop: it ended by itself
