"""The pods a Job creates: names, labels, annotations, owner, finalizer, hostname, env.

Owns: `new_pod(job, index=...)`, building a pod from the Job's template the way the
batch/v1 Job controller does (generateName `<job>-` or `<job>-<index>-`, hostname
`<job>-<index>`, the completion-index annotation and label, `JOB_COMPLETION_INDEX`, the
`batch.kubernetes.io/job-tracking` finalizer, a controller ownerReference).
Called by: `sim.jobcontroller`.
Must not import: anything in `engine` outside `localcluster`.
"""

from __future__ import annotations

import copy
from typing import Any, Mapping

from engine.localcluster.sim import podstate

TRACKING_FINALIZER = "batch.kubernetes.io/job-tracking"
FAILURE_COUNT = "batch.kubernetes.io/job-index-failure-count"
IGNORED_COUNT = "batch.kubernetes.io/job-index-ignored-failure-count"


def owner_reference(job: Mapping[str, Any]) -> podstate.Obj:
    """The controller ownerReference a Job's pods carry."""
    meta = job["metadata"]
    return {"apiVersion": "batch/v1", "kind": "Job", "name": meta["name"], "uid": meta["uid"],
            "controller": True, "blockOwnerDeletion": True}


def new_pod(job: Mapping[str, Any], *, index: int | None, failures: int = 0,
            ignored: int = 0) -> podstate.Obj:
    """A pod for `job` (for completion `index` when Indexed), ready to create."""
    meta = job["metadata"]
    spec = job.get("spec", {})
    template = copy.deepcopy(spec.get("template") or {})
    tmeta = template.get("metadata") or {}
    labels = dict(tmeta.get("labels") or {})
    annotations = dict(tmeta.get("annotations") or {})
    if not spec.get("manualSelector"):
        for prefix in ("batch.kubernetes.io/", ""):
            labels.setdefault(f"{prefix}controller-uid", meta["uid"])
            labels.setdefault(f"{prefix}job-name", meta["name"])
    pod_spec = template.get("spec") or {}
    generate = f"{meta['name']}-"
    if index is not None:
        generate = f"{meta['name']}-{index}-"
        labels[podstate.INDEX_KEY] = str(index)
        annotations[podstate.INDEX_KEY] = str(index)
        pod_spec["hostname"] = pod_spec.get("hostname") or f"{meta['name']}-{index}"
        _add_index_env(pod_spec)
        if spec.get("backoffLimitPerIndex") is not None:
            annotations[FAILURE_COUNT] = str(failures)
            if ignored:
                annotations[IGNORED_COUNT] = str(ignored)
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "generateName": generate,
            "namespace": meta.get("namespace"),
            "labels": labels,
            "annotations": annotations,
            "ownerReferences": [owner_reference(job)],
            "finalizers": [TRACKING_FINALIZER],
        },
        "spec": pod_spec,
    }


def _add_index_env(pod_spec: podstate.Obj) -> None:
    source = {"fieldRef": {"apiVersion": "v1",
                           "fieldPath": f"metadata.annotations['{podstate.INDEX_KEY}']"}}
    for group in ("initContainers", "containers"):
        for container in pod_spec.get(group) or []:
            env = container.setdefault("env", [])
            if not any(e.get("name") == "JOB_COMPLETION_INDEX" for e in env):
                env.append({"name": "JOB_COMPLETION_INDEX", "valueFrom": copy.deepcopy(source)})


def has_finalizer(pod: Mapping[str, Any]) -> bool:
    """Whether the pod still carries the Job tracking finalizer."""
    return TRACKING_FINALIZER in (pod.get("metadata", {}).get("finalizers") or [])


def index_counts(pod: Mapping[str, Any]) -> tuple[int, int]:
    """(failure count, ignored failure count) annotated on an Indexed Job's pod."""
    annotations = pod.get("metadata", {}).get("annotations") or {}
    def read(key: str) -> int:
        text = str(annotations.get(key, "0"))
        return int(text) if text.isdigit() else 0
    return read(FAILURE_COUNT), read(IGNORED_COUNT)
