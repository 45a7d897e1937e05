"""Deletion: finalizers, propagation (Background, Foreground, Orphan), garbage collection, pod grace."""

from __future__ import annotations

import time

import pytest
from kubernetes import client


def _eventually(probe, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.02)


def _gone(read) -> bool:
    try:
        read()
    except client.ApiException as error:
        return error.status == 404
    return False


def _owner_ref(owner, *, block: bool = True) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "name": owner.metadata.name, "uid": owner.metadata.uid,
            "controller": True, "blockOwnerDeletion": block}


def test_finalizer_holds_object_with_deletion_timestamp_until_removed(api_client) -> None:
    core = client.CoreV1Api(api_client)
    core.create_namespaced_config_map("default", {"metadata": {"name": "held", "finalizers": ["example.com/hold"]}})
    core.delete_namespaced_config_map("held", "default")
    held = core.read_namespaced_config_map("held", "default")
    assert held.metadata.deletion_timestamp is not None
    with pytest.raises(client.ApiException) as raised:
        core.patch_namespaced_config_map("held", "default", {"metadata": {"finalizers": ["example.com/hold", "new"]}})
    assert raised.value.status == 422
    core.patch_namespaced_config_map("held", "default", {"metadata": {"finalizers": None}},
                                     _content_type="application/merge-patch+json")
    assert _gone(lambda: core.read_namespaced_config_map("held", "default"))


def test_background_propagation_collects_dependents(api_client) -> None:
    core = client.CoreV1Api(api_client)
    owner = core.create_namespaced_config_map("default", {"metadata": {"name": "bg-owner"}})
    core.create_namespaced_config_map("default", {"metadata": {"name": "bg-child", "ownerReferences": [_owner_ref(owner)]}})
    core.delete_namespaced_config_map("bg-owner", "default", propagation_policy="Background")
    assert _gone(lambda: core.read_namespaced_config_map("bg-owner", "default"))
    assert _eventually(lambda: _gone(lambda: core.read_namespaced_config_map("bg-child", "default")))


def test_foreground_waits_for_blocking_dependents(api_client) -> None:
    core = client.CoreV1Api(api_client)
    owner = core.create_namespaced_config_map("default", {"metadata": {"name": "fg-owner"}})
    core.create_namespaced_config_map("default", {"metadata": {
        "name": "fg-child", "ownerReferences": [_owner_ref(owner)], "finalizers": ["example.com/slow"]}})
    core.delete_namespaced_config_map("fg-owner", "default", propagation_policy="Foreground")
    pending = core.read_namespaced_config_map("fg-owner", "default")
    assert pending.metadata.deletion_timestamp is not None
    assert "foregroundDeletion" in pending.metadata.finalizers
    child = _eventually(lambda: core.read_namespaced_config_map("fg-child", "default").metadata.deletion_timestamp)
    assert child is not None
    assert not _gone(lambda: core.read_namespaced_config_map("fg-owner", "default"))
    core.patch_namespaced_config_map("fg-child", "default", {"metadata": {"finalizers": None}},
                                     _content_type="application/merge-patch+json")
    assert _eventually(lambda: _gone(lambda: core.read_namespaced_config_map("fg-owner", "default")))


def test_orphan_propagation_strips_owner_references(api_client) -> None:
    core = client.CoreV1Api(api_client)
    owner = core.create_namespaced_config_map("default", {"metadata": {"name": "or-owner"}})
    core.create_namespaced_config_map("default", {"metadata": {"name": "or-child", "ownerReferences": [_owner_ref(owner)]}})
    core.delete_namespaced_config_map("or-owner", "default", propagation_policy="Orphan")
    child = core.read_namespaced_config_map("or-child", "default")
    assert child.metadata.owner_references is None


def test_scheduled_pod_waits_for_kubelet_then_goes_at_grace_zero(api_client, cluster) -> None:
    core = client.CoreV1Api(api_client)
    core.create_namespaced_pod("default", {"metadata": {"name": "graceful"}, "spec": {
        "containers": [{"name": "c", "image": "x"}], "terminationGracePeriodSeconds": 300}})
    # the real API answers a Status the client cannot turn into a V1Binding, so skip decoding
    core.create_namespaced_pod_binding("graceful", "default", {"metadata": {"name": "graceful"},
                                                               "target": {"kind": "Node", "name": "node-1"}},
                                       _preload_content=False)
    assert core.read_namespaced_pod("graceful", "default").spec.node_name == "node-1"
    core.delete_namespaced_pod("graceful", "default")
    terminating = core.read_namespaced_pod("graceful", "default")
    assert terminating.metadata.deletion_timestamp is not None
    assert terminating.metadata.deletion_grace_period_seconds == 300
    core.delete_namespaced_pod("graceful", "default", grace_period_seconds=0)
    assert _gone(lambda: core.read_namespaced_pod("graceful", "default"))


def test_unscheduled_pod_is_deleted_at_once(api_client) -> None:
    core = client.CoreV1Api(api_client)
    core.create_namespaced_pod("default", {"metadata": {"name": "unbound"}, "spec": {"containers": [{"name": "c", "image": "x"}]}})
    core.delete_namespaced_pod("unbound", "default")
    assert _gone(lambda: core.read_namespaced_pod("unbound", "default"))


def test_namespace_deletion_empties_it_first(api_client) -> None:
    core = client.CoreV1Api(api_client)
    core.create_namespace({"metadata": {"name": "doomed"}})
    core.create_namespaced_config_map("doomed", {"metadata": {"name": "inside"}})
    core.delete_namespace("doomed")
    assert _eventually(lambda: _gone(lambda: core.read_namespace("doomed")))
    assert _gone(lambda: core.read_namespaced_config_map("inside", "doomed"))


def test_dependent_created_after_its_owner_is_gone_is_collected(api_client) -> None:
    core = client.CoreV1Api(api_client)
    owner = core.create_namespaced_config_map("default", {"metadata": {"name": "late-owner"}})
    core.delete_namespaced_config_map("late-owner", "default")
    core.create_namespaced_config_map("default", {"metadata": {"name": "late-child", "ownerReferences": [_owner_ref(owner)]}})
    assert _eventually(lambda: _gone(lambda: core.read_namespaced_config_map("late-child", "default")))


def test_dependent_created_while_its_owner_waits_in_foreground_is_collected(api_client) -> None:
    """As Kubernetes' garbage collector: an owner deleting its dependents first also deletes one
    created meanwhile (e.g. by a controller whose cache had not yet seen the deletion)."""
    core = client.CoreV1Api(api_client)
    owner = core.create_namespaced_config_map("default", {"metadata": {"name": "busy-owner"}})
    core.create_namespaced_config_map("default", {"metadata": {
        "name": "busy-held", "ownerReferences": [_owner_ref(owner)], "finalizers": ["example.com/slow"]}})
    core.delete_namespaced_config_map("busy-owner", "default", propagation_policy="Foreground")
    core.create_namespaced_config_map("default", {"metadata": {"name": "busy-late", "ownerReferences": [_owner_ref(owner)]}})
    assert _eventually(lambda: _gone(lambda: core.read_namespaced_config_map("busy-late", "default")))
    core.patch_namespaced_config_map("busy-held", "default", {"metadata": {"finalizers": None}},
                                     _content_type="application/merge-patch+json")
    assert _eventually(lambda: _gone(lambda: core.read_namespaced_config_map("busy-owner", "default")))
