"""The unmodified python `kubernetes` client against the embedded API server."""

from __future__ import annotations

import json

import pytest
from kubernetes import client, watch


def _job(name: str) -> dict:
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
            "spec": {"template": {"spec": {"restartPolicy": "Never",
                                           "containers": [{"name": "main", "image": "alpine"}]}}}}


def test_create_assigns_system_metadata_and_job_defaults(api_client: client.ApiClient) -> None:
    created = client.BatchV1Api(api_client).create_namespaced_job("default", _job("defaults"))
    assert created.metadata.uid and created.metadata.resource_version and created.metadata.generation == 1
    assert created.spec.backoff_limit == 6 and created.spec.completions == 1 and created.spec.parallelism == 1
    assert created.spec.selector.match_labels == {"batch.kubernetes.io/controller-uid": created.metadata.uid}
    assert created.spec.template.metadata.labels["job-name"] == "defaults"


def test_list_with_label_selector(api_client: client.ApiClient) -> None:
    core = client.CoreV1Api(api_client)
    for name, tier in (("sel-a", "web"), ("sel-b", "db")):
        core.create_namespaced_config_map("default", {"metadata": {"name": name, "labels": {"tier": tier}}})
    names = [c.metadata.name for c in core.list_namespaced_config_map("default", label_selector="tier in (web)").items]
    assert names == ["sel-a"]
    names = [c.metadata.name for c in core.list_namespaced_config_map("default", label_selector="tier!=web,tier").items]
    assert names == ["sel-b"]


def test_replace_with_stale_resource_version_is_conflict(api_client: client.ApiClient) -> None:
    core = client.CoreV1Api(api_client)
    first = core.create_namespaced_config_map("default", {"metadata": {"name": "stale"}, "data": {"a": "1"}})
    core.patch_namespaced_config_map("stale", "default", {"data": {"a": "2"}})
    first.data = {"a": "3"}
    with pytest.raises(client.ApiException) as raised:
        core.replace_namespaced_config_map("stale", "default", first)
    assert raised.value.status == 409
    assert json.loads(raised.value.body)["reason"] == "Conflict"


def test_strategic_merge_patch_merges_containers_by_name(api_client: client.ApiClient) -> None:
    core = client.CoreV1Api(api_client)
    core.create_namespaced_pod("default", {"metadata": {"name": "smp"}, "spec": {"containers": [
        {"name": "a", "image": "alpine"}, {"name": "b", "image": "busybox"}]}})
    patched = core.patch_namespaced_pod("smp", "default", {"spec": {"containers": [{"name": "a", "image": "alpine:3"}]}})
    assert [(c.name, c.image) for c in patched.spec.containers] == [("a", "alpine:3"), ("b", "busybox")]


def test_json_patch_and_merge_patch(api_client: client.ApiClient) -> None:
    core = client.CoreV1Api(api_client)
    core.create_namespaced_config_map("default", {"metadata": {"name": "patches"}, "data": {"a": "1", "b": "2"}})
    patched = core.patch_namespaced_config_map("patches", "default", [{"op": "replace", "path": "/data/a", "value": "9"}])
    assert patched.data == {"a": "9", "b": "2"}
    patched = core.patch_namespaced_config_map(
        "patches", "default", {"data": {"b": None}}, _content_type="application/merge-patch+json")
    assert patched.data == {"a": "9"}


def test_watch_from_resource_version_sees_later_changes(api_client: client.ApiClient) -> None:
    core = client.CoreV1Api(api_client)
    start = core.list_namespaced_config_map("default").metadata.resource_version
    core.create_namespaced_config_map("default", {"metadata": {"name": "watched"}})
    core.delete_namespaced_config_map("watched", "default")
    seen = [(e["type"], e["object"].metadata.name) for e in watch.Watch().stream(
        core.list_namespaced_config_map, "default", resource_version=start, timeout_seconds=1)]
    assert seen == [("ADDED", "watched"), ("DELETED", "watched")]


def test_get_missing_object_is_not_found(api_client: client.ApiClient) -> None:
    with pytest.raises(client.ApiException) as raised:
        client.CoreV1Api(api_client).read_namespaced_pod("missing", "default")
    body = json.loads(raised.value.body)
    assert raised.value.status == 404 and body["reason"] == "NotFound"
    assert body["message"] == 'pods "missing" not found'


def test_list_pages_with_limit_and_continue(api_client: client.ApiClient) -> None:
    core = client.CoreV1Api(api_client)
    core.create_namespace({"metadata": {"name": "paged"}})
    for n in range(5):
        core.create_namespaced_config_map("paged", {"metadata": {"name": f"page-{n}"}})
    names, token, pages = [], None, 0
    while True:
        page = core.list_namespaced_config_map("paged", limit=2, _continue=token)
        names += [c.metadata.name for c in page.items]
        pages += 1
        token = page.metadata._continue
        if not token:
            break
    assert names == [f"page-{n}" for n in range(5)] and pages == 3


def test_server_side_apply_patch_through_the_python_client(api_client: client.ApiClient) -> None:
    core = client.CoreV1Api(api_client)
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "applied-py"}, "data": {"k": "v"}}
    created = core.patch_namespaced_config_map("applied-py", "default", body, field_manager="py-apply",
                                               _content_type="application/apply-patch+yaml")
    assert created.data == {"k": "v"}
    assert [(m.manager, m.operation) for m in created.metadata.managed_fields] == [("py-apply", "Apply")]


def test_pod_priority_comes_from_its_priority_class(api_client: client.ApiClient) -> None:
    scheduling, core = client.SchedulingV1Api(api_client), client.CoreV1Api(api_client)
    scheduling.create_priority_class({"metadata": {"name": "high"}, "value": 1000, "preemptionPolicy": "Never"})
    pod = {"metadata": {"name": "prioritized"}, "spec": {"priorityClassName": "high",
                                                         "containers": [{"name": "c", "image": "x"}]}}
    created = core.create_namespaced_pod("default", pod)
    assert (created.spec.priority, created.spec.preemption_policy) == (1000, "Never")
    plain = core.create_namespaced_pod("default", {"metadata": {"name": "plain"},
                                                   "spec": {"containers": [{"name": "c", "image": "x"}]}})
    assert plain.spec.priority == 0
    pod["metadata"]["name"], pod["spec"]["priorityClassName"] = "unknown-class", "missing"
    with pytest.raises(client.ApiException) as raised:
        core.create_namespaced_pod("default", pod)
    assert raised.value.status == 403
    assert "no PriorityClass with name missing was found" in json.loads(raised.value.body)["message"]
