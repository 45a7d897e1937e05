"""Steps of the placement tests: JobSets submitted over HTTP, pods and nodes read back.

Everything goes through the engine's HTTP client to the embedded API server, on the
controller's loop of the running `up.Environment`.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any, TypeVar

from engine import up
from engine.kube import resources
from engine.localcluster.sim import topology

T = TypeVar("T")
SPEED = 25.0  # virtual seconds per real second
RACK = topology.RACK
ZONE = topology.ZONE
EXCLUSIVE = "alpha.jobset.sigs.k8s.io/exclusive-topology"
NODE_SELECTOR = "alpha.jobset.sigs.k8s.io/node-selector"
DURATION = "sim.jobset.x-k8s.io/duration"


class Cluster:
    """The running installation and the reads and writes the tests make."""

    def __init__(self, environment: up.Environment) -> None:
        self.environment = environment

    def call(self, coroutine: Any) -> Any:
        return self.environment.call(coroutine)

    def create_namespace(self, name: str) -> None:
        self.call(self.environment.api.create(resources.NAMESPACES, {"metadata": {"name": name}}))

    def nodes(self) -> dict[str, dict[str, Any]]:
        items = self.call(self.environment.api.list(resources.NODES))["items"]
        return {node["metadata"]["name"]: node for node in items}

    def create(self, resource: resources.Resource, body: dict[str, Any], namespace: str | None = None) -> Any:
        return self.call(self.environment.api.create(resource, body, namespace=namespace))

    def patch(self, resource: resources.Resource, name: str, patch: dict[str, Any], namespace: str | None = None) -> Any:
        return self.call(self.environment.api.patch(resource, name, patch, namespace=namespace))

    def pods(self, namespace: str) -> list[dict[str, Any]]:
        return list(self.call(self.environment.api.list(resources.PODS, namespace=namespace))["items"])

    def delete_node(self, name: str) -> None:
        self.call(self.environment.api.delete(resources.NODES, name))

    def add_nodes(self, prefix: str, count: int, *, labels: Callable[[int], dict[str, str]],
                  taints: list[dict[str, str]] = ()) -> list[str]:
        """Create `count` Ready nodes `<prefix><i>` the simulation schedules onto."""
        names = [f"{prefix}{i}" for i in range(count)]
        for i, name in enumerate(names):
            self.create(resources.NODES, topology.node(name, labels=labels(i), taints=list(taints)))
        return names


@dataclasses.dataclass
class Space:
    """One test's namespace and pod priority."""

    cluster: Cluster
    namespace: str
    priority: int

    def jobset(self, name: str, *, jobs: int, pods: int, duration: str = "10m",
               annotations: dict[str, str] | None = None, pod_spec: dict[str, Any] | None = None) -> dict[str, Any]:
        """Create a JobSet of one replicated job `w`: `jobs` Jobs of `pods` pods each."""
        body = {"apiVersion": "jobset.x-k8s.io/v1alpha2", "kind": "JobSet",
                "metadata": {"name": name, "annotations": dict(annotations or {})},
                "spec": {"replicatedJobs": [{"name": "w", "replicas": jobs, "template": {"spec": {
                    "parallelism": pods, "completions": pods, "backoffLimit": 100,
                    "template": {"metadata": {"annotations": {DURATION: duration}},
                                 "spec": {"priority": self.priority, **(pod_spec or {}),
                                          "containers": [{"name": "main", "image": "busybox"}]}}}}}]}}
        created: dict[str, Any] = self.cluster.create(resources.JOBSETS, body, namespace=self.namespace)
        return created

    def pods(self, jobset: str | None = None) -> list[dict[str, Any]]:
        """Live (not terminal, not deleting) pods of the namespace, of one JobSet when named."""
        return [p for p in self.cluster.pods(self.namespace)
                if (jobset is None or p["metadata"].get("labels", {}).get("jobset.sigs.k8s.io/jobset-name") == jobset)
                and not p["metadata"].get("deletionTimestamp")
                and p.get("status", {}).get("phase") not in ("Succeeded", "Failed")]

    def placement(self, jobset: str, key: str) -> dict[str, set[str]]:
        """Job name -> the `key` domains of the nodes its bound pods run on."""
        nodes = self.cluster.nodes()
        found: dict[str, set[str]] = {}
        for pod in self.pods(jobset):
            node = pod["spec"].get("nodeName")
            if node:
                job = pod["metadata"]["labels"]["batch.kubernetes.io/job-name"]
                found.setdefault(job, set()).add(nodes[node]["metadata"]["labels"].get(key, ""))
        return found


def job_of(pod: dict[str, Any]) -> str:
    return str(pod["metadata"]["labels"]["batch.kubernetes.io/job-name"])


def is_leader(pod: dict[str, Any]) -> bool:
    return pod["metadata"].get("annotations", {}).get("batch.kubernetes.io/job-completion-index") == "0"


def eventually(check: Callable[[], T], *, timeout: float = 30.0, what: str = "condition") -> T:
    """Poll `check` until it returns a truthy value (returned); AssertionError-free is not enough."""
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
        except (AssertionError, KeyError, IndexError) as error:
            last = error
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}: {last!r}")
