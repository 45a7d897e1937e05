"""The executor's creations and Events against the embedded API server over HTTP: Jobs replicated
job by replicated job (spec §8 step 14), PVCs policy by policy (spec §9.8), repeated Events folded
into a count (spec §9.1 "repeated events accumulate")."""

from __future__ import annotations

import uuid
from typing import Any

from engine.kube import client, events, executor, resources
from engine.localcluster import faults, server
from engine.planner import plan

from apiruns import with_client


def _jobset(namespace: str) -> dict[str, Any]:
    return {"apiVersion": "jobset.x-k8s.io/v1alpha2", "kind": "JobSet",
            "metadata": {"name": "js", "namespace": namespace, "uid": str(uuid.uuid4()), "resourceVersion": "1"}}


def _job(namespace: str, name: str, *, image: str = "busybox") -> dict[str, Any]:
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name, "namespace": namespace},
            "spec": {"template": {"spec": {"restartPolicy": "Never",
                                           "containers": [{"name": "main", "image": image}]}}}}


def _pvc(namespace: str, name: str, **labels: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": name, "namespace": namespace, "labels": labels},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}


async def _names(api: client.Client, resource: resources.Resource, namespace: str) -> list[str]:
    return sorted(item["metadata"]["name"] for item in (await api.list(resource, namespace=namespace))["items"])


async def _events(api: client.Client, namespace: str, reason: str) -> list[dict[str, Any]]:
    return [e for e in (await api.list(resources.EVENTS, namespace=namespace))["items"] if e["reason"] == reason]


def test_job_creation_stops_after_the_first_replicated_job_with_a_failure_section_8(
        cluster: server.RunningServer, namespace: str) -> None:
    """§8 step 14, §9.1: `bad`'s Job is refused (no image), so `good`'s Jobs, planned after it, are
    not created; the Warning lists each failure on its own line."""
    actions = (plan.CreateJob(job=_job(namespace, "js-bad-0", image=""), group="bad"),
               plan.CreateJob(job=_job(namespace, "js-bad-1"), group="bad"),
               plan.CreateJob(job=_job(namespace, "js-good-0"), group="good"))

    async def body(api: client.Client) -> None:
        outcome = await executor.execute(plan.Plan(actions=actions), _jobset(namespace), api)
        assert outcome.error is not None and 'job "js-bad-0" creation failed with error: ' in outcome.error
        assert await _names(api, resources.JOBS, namespace) == ["js-bad-1"]
        [warning] = await _events(api, namespace, "JobCreationFailed")
        assert warning["type"] == "Warning" and warning["message"].startswith('job "js-bad-0" creation failed')
    with_client(cluster, body)


def test_a_refused_claim_ends_its_policy_but_not_the_next_one_section_9_8(
        cluster: server.RunningServer, namespace: str) -> None:
    """§9.8: policy 0's first PVC is refused, so its second is not attempted; policy 1's PVC is still
    created; the pass fails with the aggregated error, one PVCCreationFailed per refusal."""
    actions = (plan.CreatePVC(pvc=_pvc(namespace, "a-js", tier="not a label value!"), policy=0),
               plan.CreatePVC(pvc=_pvc(namespace, "b-js"), policy=0),
               plan.CreatePVC(pvc=_pvc(namespace, "c-js"), policy=1))

    async def body(api: client.Client) -> None:
        outcome = await executor.execute(plan.Plan(actions=actions), _jobset(namespace), api)
        assert outcome.error is not None and "'a-js' creation failed" in outcome.error
        assert await _names(api, resources.PERSISTENT_VOLUME_CLAIMS, namespace) == ["c-js"]
        [warning] = await _events(api, namespace, "PVCCreationFailed")
        assert "metadata.labels" in warning["message"]
    with_client(cluster, body)


def test_a_repeated_event_bumps_the_count_of_the_first_section_9_1(
        cluster: server.RunningServer, namespace: str) -> None:
    """§9.1: the same Warning three times is one Event with count 3; another message is another Event."""
    jobset = _jobset(namespace)

    async def body(api: client.Client) -> None:
        for message in ("quota exceeded", "quota exceeded", "quota exceeded", "other"):
            assert await executor.emit(api, jobset, type_="Warning", reason="Refused", message=message) == 1
        found = sorted((e["message"], e["count"]) for e in await _events(api, namespace, "Refused"))
        assert found == [("other", 1), ("quota exceeded", 3)]
    with_client(cluster, body)


def test_an_event_deleted_meanwhile_is_created_again_and_failures_are_not_raised(
        cluster: server.RunningServer, namespace: str) -> None:
    """A repeat whose Event is gone (deleted, expired) is a new Event with count 1; a refused write
    is logged and reported as not written, never raised."""
    jobset = _jobset(namespace)
    recorder = events.Recorder()
    involved = {"apiVersion": "jobset.x-k8s.io/v1alpha2", "kind": "JobSet", "name": "js", "namespace": namespace,
                "uid": jobset["metadata"]["uid"]}

    async def body(api: client.Client) -> None:
        assert await recorder.record(api, involved, type_="Normal", reason="Again", message="m", action="A")
        [first] = await _events(api, namespace, "Again")
        await api.delete(resources.EVENTS, first["metadata"]["name"], namespace=namespace)
        assert await recorder.record(api, involved, type_="Normal", reason="Again", message="m", action="A")
        [second] = await _events(api, namespace, "Again")
        assert second["count"] == 1 and second["metadata"]["name"] != first["metadata"]["name"]
        refusal = cluster.faults.add(faults.Rule(verb="create", resource="events", namespace=namespace,
                                                         code=500, times=1))
        try:
            assert not await recorder.record(api, involved, type_="Normal", reason="Refused", message="m",
                                             action="A")
        finally:
            cluster.faults.remove(refusal)
    with_client(cluster, body)


def test_a_repeat_after_the_window_is_a_new_event(cluster: server.RunningServer, namespace: str) -> None:
    """Outside AGGREGATION_WINDOW the recorder creates a new Event instead of bumping the old one."""
    moments = iter([0.0, events.AGGREGATION_WINDOW + 1, events.AGGREGATION_WINDOW + 2])
    recorder = events.Recorder(clock=lambda: next(moments))
    involved = {"apiVersion": "v1", "kind": "ConfigMap", "name": "cm", "namespace": namespace, "uid": "u"}

    async def body(api: client.Client) -> None:
        for _ in range(2):
            assert await recorder.record(api, involved, type_="Normal", reason="Late", message="m", action="A")
        assert [e["count"] for e in await _events(api, namespace, "Late")] == [1, 1]
    with_client(cluster, body)
