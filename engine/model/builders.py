"""Skeletons of the objects JobSet creates; the construct pack fills in the rest.

Owns: `job_skeleton`, `service_skeleton`, `pvc_skeleton` (spec §9.2 steps 1-2 copies,
§9.7, §9.8). A skeleton carries apiVersion/kind and deep copies of what the template
holds, and nothing JobSet adds: every name, namespace, label, annotation, owner reference
and injected field comes from the patches of `rules/jobset-construct`.
Called by: the planner and `jobset render`, before evaluating the construct pack.
Must not import: `planner`, `kube`, `webhook`, `localcluster`, `cli`.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any


def _template_metadata(template: Mapping[str, Any]) -> dict[str, Any]:
    """Copies of the template's labels and annotations (the only metadata a child inherits)."""
    source = template.get("metadata") or {}
    metadata: dict[str, Any] = {}
    for field in ("labels", "annotations"):
        if source.get(field):
            metadata[field] = dict(source[field])
    return metadata


def job_skeleton(replicated_job: Mapping[str, Any]) -> dict[str, Any]:
    """A batch/v1 Job with the replicated job template's labels, annotations and spec."""
    template = replicated_job.get("template") or {}
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": _template_metadata(template),
        "spec": copy.deepcopy(dict(template.get("spec") or {})),
    }


def service_skeleton() -> dict[str, Any]:
    """An empty core/v1 Service; the construct pack makes it the headless Service."""
    return {"apiVersion": "v1", "kind": "Service", "metadata": {}, "spec": {}}


def pvc_skeleton(template: Mapping[str, Any]) -> dict[str, Any]:
    """A core/v1 PersistentVolumeClaim with the policy template's labels, annotations, spec."""
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": _template_metadata(template),
        "spec": copy.deepcopy(dict(template.get("spec") or {})),
    }
