"""Child objects the planner asks to create: Jobs (spec §9.2-§9.3), the headless Service
(§9.7) and PVCs (§9.8).

Owns: `job`, `service`, `pvc`. SWAP POINT: the shapes belong to `rules/jobset-construct`
(phase `construct`) applied to the skeletons of `engine.model.builders`; until that pack
lands, the JobSet additions are written here in Python. Replace the bodies of these three
functions with one `packs.derive("construct", ...)` call each; callers stay unchanged.
Called by: the children, service and pvcs steps.
Must not import: `engine.kube`, `engine.webhook`, `engine.localcluster`, the steps.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from engine.model import builders, keys, names

RawObject = Mapping[str, Any]


def _owner(jobset: RawObject) -> dict[str, Any]:
    meta = jobset.get("metadata", {})
    return {"apiVersion": "jobset.x-k8s.io/v1alpha2", "kind": "JobSet", "name": meta.get("name", ""),
            "uid": meta.get("uid", ""), "controller": True, "blockOwnerDeletion": True}


def _job_keys(jobset: RawObject, rj: RawObject, index: int, gates: Mapping[str, bool]) -> dict[str, str]:
    """The label-and-annotation keys of spec §9.3 for Job `index` of replicated job `rj`."""
    meta, spec = jobset.get("metadata", {}), jobset.get("spec") or {}
    rjs = list(spec.get("replicatedJobs") or [])
    position = next(i for i, other in enumerate(rjs) if other["name"] == rj["name"])
    group = rj.get("groupName", "default")

    def replicas(r: RawObject) -> int:
        return int(r.get("replicas", 1))

    job_name = names.job_name(meta["name"], rj["name"], index)
    values = {
        keys.JOBSET_NAME: meta["name"], keys.JOBSET_UID: meta.get("uid", ""),
        keys.REPLICATED_JOB_NAME: rj["name"], keys.REPLICATED_JOB_REPLICAS: str(replicas(rj)),
        keys.GLOBAL_REPLICAS: str(sum(replicas(r) for r in rjs)), keys.JOB_INDEX: str(index),
        keys.JOB_KEY: hashlib.sha1(f"{meta.get('namespace', '')}/{job_name}".encode()).hexdigest(),
        keys.JOB_GLOBAL_INDEX: str(sum(replicas(r) for r in rjs[:position]) + index),
        keys.GROUP_NAME: group,
        keys.GROUP_REPLICAS: str(sum(replicas(r) for r in rjs if r.get("groupName", "default") == group)),
        keys.JOB_GROUP_INDEX: str(sum(replicas(r) for r in rjs[:position]
                                      if r.get("groupName", "default") == group) + index),
        keys.RESTART_ATTEMPT: str((jobset.get("status") or {}).get("restarts", 0)),
    }
    if gates.get(keys.GATE_RESTART_JOB):
        restarts = next((e.get("jobRestarts") for e in (jobset.get("status") or {}).get("replicatedJobsStatus") or []
                         if e.get("name") == rj["name"]), None) or [0] * replicas(rj)
        values[keys.JOB_RESTART_ATTEMPT] = str(restarts[index])
    if spec.get("coordinator"):
        coordinator = spec["coordinator"]
        values[keys.COORDINATOR] = names.coordinator_endpoint(
            jobset_name=meta["name"], replicated_job=coordinator["replicatedJob"],
            job_index=coordinator.get("jobIndex", 0), pod_index=coordinator.get("podIndex", 0),
            subdomain=names.effective_subdomain(meta["name"], spec.get("network")))
    return values


def _label(target: dict[str, Any], values: Mapping[str, str]) -> None:
    target.setdefault("labels", {}).update(values)
    target.setdefault("annotations", {}).update(values)


def job(jobset: RawObject, rj: RawObject, index: int, gates: Mapping[str, bool]) -> dict[str, Any]:
    """Job `index` of replicated job `rj`, ready to create (spec §9.2)."""
    meta, spec = jobset.get("metadata", {}), jobset.get("spec") or {}
    built = builders.job_skeleton(rj)
    built["metadata"].update(name=names.job_name(meta["name"], rj["name"], index),
                             namespace=meta.get("namespace", ""), ownerReferences=[_owner(jobset)])
    values = _job_keys(jobset, rj, index, gates)
    _label(built["metadata"], values)
    pod = built["spec"].setdefault("template", {})
    _label(pod.setdefault("metadata", {}), values)
    network = spec.get("network") or {}
    if network.get("enableDNSHostnames"):
        pod.setdefault("spec", {})["subdomain"] = names.effective_subdomain(meta["name"], network)
    built["spec"]["suspend"] = bool(spec.get("suspend"))
    return built


def service(jobset: RawObject) -> dict[str, Any]:
    """The headless Service of spec §9.7."""
    meta, network = jobset.get("metadata", {}), (jobset.get("spec") or {}).get("network") or {}
    built = builders.service_skeleton()
    built["metadata"] = {"name": names.service_name(meta["name"], network),
                         "namespace": meta.get("namespace", ""), "ownerReferences": [_owner(jobset)]}
    built["spec"] = {"clusterIP": "None", "selector": {keys.JOBSET_NAME: meta["name"]},
                     "publishNotReadyAddresses": network.get("publishNotReadyAddresses", True)}
    return built


def pvc(jobset: RawObject, policy: RawObject, template: RawObject) -> dict[str, Any]:
    """The PVC of one volume claim policy template (spec §9.8)."""
    meta = jobset.get("metadata", {})
    built = builders.pvc_skeleton(template)
    template_name = template.get("metadata", {}).get("name", "")
    built["metadata"].update(name=names.pvc_name(template_name, meta["name"]), namespace=meta.get("namespace", ""))
    built["metadata"].setdefault("labels", {})[keys.JOBSET_NAME] = meta["name"]
    if (policy.get("retentionPolicy") or {}).get("whenDeleted", "Delete") == "Delete":
        built["metadata"]["ownerReferences"] = [_owner(jobset)]
    return built
