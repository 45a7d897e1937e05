"""Step-driven controller tests: the whole installation (API server, controller, HTTPS webhooks),
driven with the unmodified python `kubernetes` client, with Job statuses written by the test.

The simulation is off here: the test plays the Kubernetes Job controller, so each step is exact.
"""

from __future__ import annotations

import datetime
import pathlib
import time
from collections.abc import Callable
from typing import Any, TypeVar

import kubernetes

from engine import up

T = TypeVar("T")
GROUP, VERSION, PLURAL = "jobset.x-k8s.io", "v1alpha2", "jobsets"


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Cluster:
    """Clients on a running `up.Environment`, plus the steps tests take."""

    def __init__(self, environment: up.Environment, kubeconfig: pathlib.Path) -> None:
        self.environment = environment
        config = kubernetes.client.Configuration()
        kubernetes.config.load_kube_config(config_file=str(kubeconfig), client_configuration=config)
        self.api_client = kubernetes.client.ApiClient(config)
        self.custom = kubernetes.client.CustomObjectsApi(self.api_client)
        self.batch = kubernetes.client.BatchV1Api(self.api_client)
        self.core = kubernetes.client.CoreV1Api(self.api_client)

    def create_jobset(self, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.custom.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, body)

    def jobset(self, namespace: str, name: str) -> dict[str, Any]:
        return self.custom.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name)

    def patch_jobset(self, namespace: str, name: str, patch: dict[str, Any]) -> dict[str, Any]:
        return self.custom.patch_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name, patch)

    def jobs(self, namespace: str, jobset: str) -> dict[str, Any]:
        """Child Jobs by name (as plain dicts)."""
        items = self.batch.list_namespaced_job(namespace, label_selector=f"jobset.sigs.k8s.io/jobset-name={jobset}",
                                               _preload_content=False)
        import json
        return {j["metadata"]["name"]: j for j in json.loads(items.data)["items"]}

    def set_job_status(self, namespace: str, name: str, status: dict[str, Any]) -> None:
        self.batch.patch_namespaced_job_status(name, namespace, {"status": status})

    def complete_job(self, namespace: str, name: str, *, pods: int = 1) -> None:
        stamp = now()
        self.set_job_status(namespace, name, {
            "startTime": stamp, "completionTime": stamp, "succeeded": pods, "active": 0, "ready": 0,
            "conditions": [
                {"type": "SuccessCriteriaMet", "status": "True", "reason": "CompletionsReached",
                 "message": "Reached expected number of succeeded pods", "lastTransitionTime": stamp},
                {"type": "Complete", "status": "True", "reason": "CompletionsReached",
                 "message": "Reached expected number of succeeded pods", "lastTransitionTime": stamp}]})

    def fail_job(self, namespace: str, name: str, *, reason: str = "BackoffLimitExceeded",
                 message: str = "Job has reached the specified backoff limit") -> None:
        stamp = now()
        self.set_job_status(namespace, name, {
            "startTime": stamp, "failed": 1, "active": 0, "ready": 0,
            "conditions": [
                {"type": "FailureTarget", "status": "True", "reason": reason, "message": message,
                 "lastTransitionTime": stamp},
                {"type": "Failed", "status": "True", "reason": reason, "message": message,
                 "lastTransitionTime": stamp}]})

    def make_ready(self, namespace: str, name: str, pods: int = 1) -> None:
        self.set_job_status(namespace, name, {"startTime": now(), "active": pods, "ready": pods})

    def events(self, namespace: str, name: str) -> list[dict[str, Any]]:
        found = self.core.list_namespaced_event(namespace, field_selector=f"involvedObject.name={name}")
        return [self.api_client.sanitize_for_serialization(e) for e in found.items]


def eventually(check: Callable[[], T], *, timeout: float = 20.0, what: str = "condition") -> T:
    """Poll `check` until it returns a truthy value (returned) or raises no AssertionError."""
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
        except (AssertionError, KeyError, IndexError) as error:
            last = error
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}: {last!r}")


def condition(jobset: dict[str, Any], kind: str) -> dict[str, Any] | None:
    return next((c for c in (jobset.get("status") or {}).get("conditions") or [] if c["type"] == kind), None)


def jobset_manifest(name: str, *replicated: tuple[str, int], **spec: Any) -> dict[str, Any]:
    """A JobSet whose replicated jobs each run one busybox pod per Job."""
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "JobSet", "metadata": {"name": name},
            "spec": {"replicatedJobs": [
                {"name": rj, "replicas": replicas, "template": {"spec": {"template": {"spec": {
                    "containers": [{"name": "main", "image": "busybox"}]}}}}} for rj, replicas in replicated],
                **spec}}
