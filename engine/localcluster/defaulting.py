"""Built-in defaults the real API server applies when it decodes an object.

Owns: create-time status (Pods Pending with a QoS class, Namespaces Active, others cleared),
Job defaults (parallelism, completions, backoffLimit, completionMode, suspend,
podReplacementPolicy, the generated selector and template labels), pod-spec defaults
(restartPolicy, dnsPolicy, schedulerName, terminationGracePeriodSeconds, container
terminationMessage fields and imagePullPolicy), Service defaults (type, ports, clusterIP) and the
Secret type (Opaque), and pod priority as the Priority admission plugin sets it on create.
Called by: `admission` before webhooks and validation.
Must not import: anything in `engine` outside `localcluster`.
"""

from __future__ import annotations

import random
from typing import Any

from engine.localcluster import resources

_MAX_INT32 = 2**31 - 1
# The built-in priority classes; a pod without a class (and no globalDefault PriorityClass,
# which `admission` looks up) gets priority 0.
SYSTEM_PRIORITIES = {"system-cluster-critical": 2000000000, "system-node-critical": 2000001000}


def on_create(rt: resources.ResourceType, obj: dict[str, Any]) -> None:
    """Reset or seed `.status` the way each kind's create strategy does."""
    if rt.key == "v1/pods":
        obj["status"] = {"phase": "Pending", "qosClass": _qos_class(obj.get("spec") or {})}
        _priority(obj.setdefault("spec", {}))
    elif rt.key == "v1/namespaces":
        obj["status"] = {"phase": "Active"}
        obj.setdefault("spec", {})["finalizers"] = ["kubernetes"]
    elif rt.key == "v1/services":
        obj["status"] = {"loadBalancer": {}}
        _allocate_cluster_ip(obj.setdefault("spec", {}))
    elif rt.has_status and rt.key != "v1/nodes":
        obj.pop("status", None)
        if not rt.custom:
            obj["status"] = {}
    if rt.key == "batch/v1/jobs":
        _job_selector(obj)


def _priority(spec: dict[str, Any]) -> None:
    """The Priority admission plugin: `spec.priority` from the class, 0 without one."""
    if spec.get("priority") is None:
        spec["priority"] = SYSTEM_PRIORITIES.get(str(spec.get("priorityClassName") or ""), 0)
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")


def apply(rt: resources.ResourceType, obj: dict[str, Any]) -> None:
    """Fill unset fields with their defaults (on every write, as decoding does)."""
    if rt.key == "batch/v1/jobs":
        _job(obj.setdefault("spec", {}))
    elif rt.key == "v1/pods":
        _pod_spec(obj.setdefault("spec", {}), restart_default="Always")
    elif rt.key == "v1/services":
        _service(obj.setdefault("spec", {}))
    elif rt.key == "v1/secrets" and not obj.get("type"):
        obj["type"] = "Opaque"


def _job(spec: dict[str, Any]) -> None:
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
    spec.setdefault("parallelism", 1)
    spec.setdefault("backoffLimit", _MAX_INT32 if spec.get("backoffLimitPerIndex") is not None else 6)
    spec.setdefault("completionMode", "NonIndexed")
    spec.setdefault("suspend", False)
    spec.setdefault("podReplacementPolicy", "Failed" if spec.get("podFailurePolicy") else "TerminatingOrFailed")
    template = spec.setdefault("template", {})
    _pod_spec(template.setdefault("spec", {}), restart_default=None)


def _job_selector(job: dict[str, Any]) -> None:
    spec = job.setdefault("spec", {})
    if spec.get("manualSelector"):
        return
    uid, name = job["metadata"]["uid"], job["metadata"]["name"]
    spec["selector"] = {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
    labels = spec.setdefault("template", {}).setdefault("metadata", {}).setdefault("labels", {})
    labels.update({"batch.kubernetes.io/controller-uid": uid, "batch.kubernetes.io/job-name": name,
                   "controller-uid": uid, "job-name": name})


def _pod_spec(spec: dict[str, Any], *, restart_default: str | None) -> None:
    if restart_default:
        spec.setdefault("restartPolicy", restart_default)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("securityContext", {})
    spec.setdefault("terminationGracePeriodSeconds", 30)
    for container in (spec.get("initContainers") or []) + (spec.get("containers") or []):
        if not isinstance(container, dict):
            continue
        container.setdefault("terminationMessagePath", "/dev/termination-log")
        container.setdefault("terminationMessagePolicy", "File")
        container.setdefault("resources", {})
        image = str(container.get("image", ""))
        tagged = ":" in image.rsplit("/", 1)[-1] or "@" in image
        pull = "Always" if not tagged or image.endswith(":latest") else "IfNotPresent"
        container.setdefault("imagePullPolicy", pull)
        for port in container.get("ports") or []:
            if isinstance(port, dict):
                port.setdefault("protocol", "TCP")


def _service(spec: dict[str, Any]) -> None:
    spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    spec.setdefault("internalTrafficPolicy", "Cluster")
    spec.setdefault("ipFamilies", ["IPv4"])
    spec.setdefault("ipFamilyPolicy", "SingleStack")
    for port in spec.get("ports") or []:
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")
            if "port" in port:
                port.setdefault("targetPort", port["port"])


def _allocate_cluster_ip(spec: dict[str, Any]) -> None:
    if spec.get("type", "ClusterIP") == "ExternalName" or spec.get("clusterIP"):
        spec.setdefault("clusterIPs", [spec["clusterIP"]] if spec.get("clusterIP") else [])
        return
    address = f"10.96.{random.randint(0, 255)}.{random.randint(1, 254)}"
    spec["clusterIP"] = address
    spec["clusterIPs"] = [address]


def _qos_class(spec: dict[str, Any]) -> str:
    containers = [c for c in spec.get("containers") or [] if isinstance(c, dict)]
    resources_ = [c.get("resources") or {} for c in containers]
    if not any(r.get("requests") or r.get("limits") for r in resources_):
        return "BestEffort"
    guaranteed = all(
        (r.get("limits") or {}).get(name) is not None
        and (r.get("requests") or {}).get(name, (r.get("limits") or {})[name]) == (r.get("limits") or {})[name]
        for r in resources_ for name in ("cpu", "memory"))
    return "Guaranteed" if guaranteed else "Burstable"
