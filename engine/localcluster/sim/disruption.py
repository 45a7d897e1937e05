"""Injected disruptions: a node that fails, a pod that is evicted.

Owns: `fail_node` (node Ready Unknown, unreachable taints, its running pods get a
DisruptionTarget condition, end Failed and are deleted, as the taint manager and pod GC
do), `restore_node`, and `evict_pod` (DisruptionTarget from the Eviction API, then a
graceful delete the kubelet finishes).
Called by: `sim.Simulation` (the Python API tests and tools use).
Must not import: anything in `engine` outside `localcluster`.
"""

from __future__ import annotations

import copy
from typing import Any

from engine.localcluster import clock as clocks
from engine.localcluster.sim import kubelet, podstate, scenario

PODS = "v1/pods"
NODES = "v1/nodes"
UNREACHABLE = "node.kubernetes.io/unreachable"
TAINT_MESSAGE = "Taint manager: deleting due to NoExecute taint"
EVICTION_MESSAGE = "Eviction API: evicting"


async def fail_node(api: Any, clock: clocks.Clock, name: str) -> list[str]:
    """Fail node `name`; returns the names of the pods that failed with it."""
    now = clock.now()
    node = await api.get(NODES, None, name)
    status = copy.deepcopy(node.get("status") or {})
    conditions = status.setdefault("conditions", [])
    podstate.set_condition(conditions, "Ready", "Unknown", now=now, reason="NodeStatusUnknown",
                           message="Kubelet stopped posting node status.")
    node = await api.update(NODES, {**node, "status": status}, subresource="status")
    taints = [t for t in (node.get("spec") or {}).get("taints") or [] if t.get("key") != UNREACHABLE]
    taints += [{"key": UNREACHABLE, "effect": effect, "timeAdded": podstate.stamp(now)}
               for effect in ("NoSchedule", "NoExecute")]
    await api.patch(NODES, None, name, {"spec": {"taints": taints}},
                    patch_type="application/merge-patch+json")
    failed = []
    for pod in await api.list(PODS, field_selector=f"spec.nodeName={name}"):
        if podstate.is_terminal(pod):
            continue
        await _end(api, clock, pod, "DeletionByTaintManager", TAINT_MESSAGE)
        namespace, pod_name = podstate.key(pod)
        await api.delete(PODS, namespace, pod_name, grace_period_seconds=0)
        failed.append(pod_name)
    return failed


async def restore_node(api: Any, clock: clocks.Clock, name: str) -> None:
    """Bring a failed node back: Ready again, unreachable taints gone."""
    node = await api.get(NODES, None, name)
    status = copy.deepcopy(node.get("status") or {})
    podstate.set_condition(status.setdefault("conditions", []), "Ready", "True",
                           now=clock.now(), reason="KubeletReady",
                           message="kubelet is posting ready status")
    node = await api.update(NODES, {**node, "status": status}, subresource="status")
    taints = [t for t in (node.get("spec") or {}).get("taints") or [] if t.get("key") != UNREACHABLE]
    await api.patch(NODES, None, name, {"spec": {"taints": taints}},
                    patch_type="application/merge-patch+json")


async def evict_pod(api: Any, clock: clocks.Clock, namespace: str, name: str) -> None:
    """Evict a pod: DisruptionTarget (EvictionByEvictionAPI), then a graceful delete."""
    pod = await api.get(PODS, namespace, name)
    status = copy.deepcopy(pod.get("status") or {})
    podstate.set_condition(status.setdefault("conditions", []), "DisruptionTarget", "True",
                           now=clock.now(), reason="EvictionByEvictionAPI",
                           message=EVICTION_MESSAGE)
    await api.update(PODS, {**pod, "status": status}, subresource="status")
    await api.delete(PODS, namespace, name)


async def _end(api: Any, clock: clocks.Clock, pod: podstate.Obj, reason: str,
               message: str) -> None:
    """Mark a pod disrupted and Failed (exit 137), as pod GC does on a lost node."""
    now = clock.now()
    step = kubelet.step({**pod, "metadata": {**pod["metadata"],
                                             "deletionTimestamp": podstate.stamp(now)}},
                        now=now, behaviour=lambda attempt: scenario.Behaviour(0.0),
                        pod_ip="")
    status = step.status or copy.deepcopy(pod.get("status") or {})
    podstate.set_condition(status.setdefault("conditions", []), "DisruptionTarget", "True",
                           now=now, reason=reason, message=message)
    await api.update(PODS, {**pod, "status": status}, subresource="status")
