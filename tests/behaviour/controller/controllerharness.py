"""Step-driven controller tests: the whole installation (API server, controller, HTTPS webhooks),
driven with the unmodified python `kubernetes` client, with Job statuses written by the test.

The simulation is off here: the test plays the Kubernetes Job controller, so each step is exact.
"""

from __future__ import annotations

import contextlib
import datetime
import pathlib
import time
from collections.abc import Callable, Iterator
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
                 message: str = "Job has reached the specified backoff limit", at: str | None = None) -> None:
        """Fail a Job; `at` stamps its `Failed` condition (first-failed-job order, spec §16.6), else now."""
        stamp = at or now()
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


# ---- helpers of the startup, suspend, scaling, children and in-place restart tests ----------------

@contextlib.contextmanager
def installation(directory: pathlib.Path, gates: dict[str, bool]) -> Iterator[Cluster]:
    """A whole installation (no simulation) with these feature gates, stopped on exit."""
    kubeconfig = directory / "kubeconfig"
    environment = up.Environment(up.Options(kubeconfig=kubeconfig, simulate=False, feature_gates=gates))
    environment.start()
    try:
        yield Cluster(environment, kubeconfig)
    finally:
        environment.stop()


def found(read: Callable[[], T]) -> T | None:
    """What `read()` returns, or None when the API answers 404 (for polling until an object exists)."""
    try:
        return read()
    except kubernetes.client.ApiException as error:
        if error.status == 404:
            return None
        raise


def appears(read: Callable[[], T], *, what: str) -> T:
    """Poll `read()` until it stops answering 404; returns the object."""
    return eventually(lambda: found(read), what=what)


def update_jobset(cluster: Cluster, namespace: str, name: str, change: Callable[[dict[str, Any]], None]) -> None:
    """Read the JobSet, apply `change` to it and replace it; retried while the controller wins a 409."""
    for _ in range(20):
        jobset = cluster.jobset(namespace, name)
        change(jobset)
        try:
            cluster.custom.replace_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name, jobset)
            return
        except kubernetes.client.ApiException as error:
            if error.status != 409:
                raise
    raise AssertionError(f"could not update JobSet {namespace}/{name}: conflicts")


def rejected(call: Callable[[], Any]) -> kubernetes.client.ApiException:
    """The API error `call` raises; fails the test if it succeeds."""
    try:
        call()
    except kubernetes.client.ApiException as error:
        return error
    raise AssertionError("the request was accepted")


def refused_update(cluster: Cluster, namespace: str, name: str, change: Callable[[dict[str, Any]], None]) -> str:
    """The body of the 422 answering an update of the JobSet with `change` applied (a 409 is retried)."""
    for _ in range(20):
        jobset = cluster.jobset(namespace, name)
        change(jobset)
        error = rejected(lambda: cluster.custom.replace_namespaced_custom_object(
            GROUP, VERSION, namespace, PLURAL, name, jobset))
        if error.status != 409:
            assert error.status == 422, error.body
            return error.body
    raise AssertionError(f"could not update JobSet {namespace}/{name}: conflicts")


def pod_template(jobset: dict[str, Any], index: int = 0) -> dict[str, Any]:
    """The pod template of the `index`-th replicated job of a JobSet manifest or object."""
    return jobset["spec"]["replicatedJobs"][index]["template"]["spec"]["template"]


def counters(jobset: dict[str, Any]) -> dict[str, dict[str, int]]:
    """`status.replicatedJobsStatus` as {replicated job: {counter: value}} (absent counters are 0, spec §10.3)."""
    return {entry["name"]: {key: entry.get(key, 0) for key in ("ready", "succeeded", "failed", "active", "suspended")}
            for entry in (jobset.get("status") or {}).get("replicatedJobsStatus") or []}


def counters_reach(cluster: Cluster, namespace: str, name: str, **wanted: dict[str, int]) -> dict[str, Any]:
    """Wait until the named replicated jobs' counters include `wanted`; returns the JobSet."""
    def reached() -> dict[str, Any] | None:
        jobset = cluster.jobset(namespace, name)
        found = counters(jobset)
        ok = all(found.get(rj, {}).get(key) == value for rj, values in wanted.items() for key, value in values.items())
        return jobset if ok else None
    return eventually(reached, what=f"counters {wanted}")


def live_jobs(cluster: Cluster, namespace: str, jobset: str) -> dict[str, Any]:
    """Child Jobs by name, without those being deleted."""
    return {name: job for name, job in cluster.jobs(namespace, jobset).items()
            if not job["metadata"].get("deletionTimestamp")}


def wait_for_jobs(cluster: Cluster, namespace: str, jobset: str, names: list[str]) -> dict[str, Any]:
    """Wait until the JobSet's live Jobs are exactly `names`; returns them by name."""
    return eventually(lambda: (found := live_jobs(cluster, namespace, jobset)) and sorted(found) == sorted(names)
                      and found, what=f"jobs {sorted(names)}")


def ready_jobs(cluster: Cluster, namespace: str, jobset: str, replicated_job: str) -> None:
    """Mark every live Job of one replicated job ready (one active, ready pod each)."""
    for name, job in live_jobs(cluster, namespace, jobset).items():
        if job["metadata"]["labels"]["jobset.sigs.k8s.io/replicatedjob-name"] == replicated_job:
            cluster.make_ready(namespace, name)


def condition_is(cluster: Cluster, namespace: str, name: str, kind: str, status: str) -> dict[str, Any]:
    """Wait until condition `kind` of the JobSet has `status`; returns the condition."""
    return eventually(lambda: (c := condition(cluster.jobset(namespace, name), kind)) and c["status"] == status and c,
                      what=f"{kind}={status}")


def restart_attempts(cluster: Cluster, namespace: str, jobset: str) -> dict[str, str]:
    """The restart-attempt label of every live child Job, by Job name."""
    return {name: job["metadata"]["labels"]["jobset.sigs.k8s.io/restart-attempt"]
            for name, job in live_jobs(cluster, namespace, jobset).items()}


def recorded(cluster: Cluster, namespace: str, name: str, *reasons: str) -> list[tuple[str, str, str]]:
    """(type, reason, message) of the object's events, once one of each of `reasons` was recorded."""
    def events() -> list[tuple[str, str, str]] | None:
        found = [(e["type"], e["reason"], e["message"]) for e in cluster.events(namespace, name)]
        return found if set(reasons) <= {r for _, r, _ in found} else None
    return eventually(events, what=f"events {', '.join(reasons)}")


def create_pod(cluster: Cluster, namespace: str, name: str, *, jobset: str, attempt: str | None) -> None:
    """A Pod labelled as one of `jobset`'s, with the in-place restart attempt annotation when given."""
    annotations = {} if attempt is None else {"jobset.sigs.k8s.io/in-place-restart-attempt": attempt}
    cluster.core.create_namespaced_pod(namespace, {
        "metadata": {"name": name, "labels": {"jobset.sigs.k8s.io/jobset-name": jobset}, "annotations": annotations},
        "spec": {"restartPolicy": "Never", "initContainers": [{"name": "setup", "image": "busybox"}],
                 "containers": [{"name": "main", "image": "busybox"}]}})


def set_pod_status(cluster: Cluster, namespace: str, name: str, *, phase: str = "Running",
                   restarts: int = 0, init_restarts: int = 0) -> None:
    """Write a Pod's phase and the restart counts of its init and main containers (as a kubelet would)."""
    cluster.core.patch_namespaced_pod_status(name, namespace, {"status": {
        "phase": phase,
        "initContainerStatuses": [{"name": "setup", "image": "busybox", "imageID": "", "ready": True,
                                   "restartCount": init_restarts}],
        "containerStatuses": [{"name": "main", "image": "busybox", "imageID": "", "ready": phase == "Running",
                               "restartCount": restarts}]}})


def annotate_pod(cluster: Cluster, namespace: str, name: str, attempt: str) -> None:
    """Set a Pod's in-place restart attempt annotation (as the agent would)."""
    cluster.core.patch_namespaced_pod(name, namespace, {"metadata": {"annotations": {
        "jobset.sigs.k8s.io/in-place-restart-attempt": attempt}}})


# ---- failure, restart, success and status steps (spec §10.3-§10.9) ----------------------------

HOLD = "example.com/hold"


def jobset_where(cluster: Cluster, namespace: str, name: str, check: Callable[[dict[str, Any]], Any], *,
                 what: str) -> dict[str, Any]:
    """The JobSet once `check(jobset)` is truthy."""
    return eventually(lambda: (js := cluster.jobset(namespace, name)) and check(js) and js, what=what)


def replicated_status(jobset: dict[str, Any], name: str) -> dict[str, Any]:
    """The `replicatedJobsStatus` entry of one replicated job (the list is a map keyed by name)."""
    return next(e for e in (jobset.get("status") or {}).get("replicatedJobsStatus") or [] if e["name"] == name)


def jobs_by_attempt(cluster: Cluster, namespace: str, jobset: str) -> dict[int, int]:
    """How many child Jobs exist (deleting or not) per restart-attempt label value."""
    found: dict[int, int] = {}
    for job in cluster.jobs(namespace, jobset).values():
        attempt = int(job["metadata"]["labels"]["jobset.sigs.k8s.io/restart-attempt"])
        found[attempt] = found.get(attempt, 0) + 1
    return found


def wait_for_attempt(cluster: Cluster, namespace: str, jobset: str, attempt: int, count: int) -> dict[str, Any]:
    """The child Jobs once exactly `count` Jobs of `attempt` exist and no other Job does."""
    def reached() -> dict[str, Any] | None:
        jobs = cluster.jobs(namespace, jobset)
        live = restart_attempts(cluster, namespace, jobset)
        return jobs if len(jobs) == len(live) == count and set(live.values()) == {str(attempt)} else None
    return eventually(reached, what=f"{count} jobs of attempt {attempt}")


def hold(cluster: Cluster, namespace: str, name: str) -> None:
    """Give a Job a finalizer of ours, so its deletion stays visible until `release`."""
    cluster.batch.patch_namespaced_job(name, namespace, {"metadata": {"finalizers": [HOLD]}})


def release(cluster: Cluster, namespace: str, name: str) -> None:
    """Take our finalizer off a Job (kept: any other finalizer), retrying on a conflict."""
    def attempt() -> bool:
        meta = cluster.batch.read_namespaced_job(name, namespace).metadata
        rest = [f for f in meta.finalizers or [] if f != HOLD]
        try:
            cluster.batch.patch_namespaced_job(name, namespace, {"metadata": {
                "finalizers": rest or None, "resourceVersion": meta.resource_version}})
        except kubernetes.client.ApiException as error:
            if error.status == 409:
                return False
            raise
        return True
    eventually(attempt, what=f"finalizer {HOLD} removed from {name}")


class Paused:
    """While open, the JobSet owns a Job with a malformed restart-attempt label, so every pass
    stops with an error (spec §10.1) and several Job changes reach the controller in one pass.

    Use as `with Paused(cluster, namespace, jobset): ...`; closing deletes that Job.
    """

    def __init__(self, cluster: Cluster, namespace: str, jobset: str) -> None:
        self.cluster, self.namespace, self.jobset = cluster, namespace, jobset
        self.name = f"{jobset}-paused"

    def __enter__(self) -> "Paused":
        owner = self.cluster.jobset(self.namespace, self.jobset)["metadata"]
        self.cluster.batch.create_namespaced_job(self.namespace, {
            "metadata": {"name": self.name, "labels": {
                "jobset.sigs.k8s.io/jobset-name": self.jobset, "jobset.sigs.k8s.io/restart-attempt": "paused"},
                "ownerReferences": [{"apiVersion": f"{GROUP}/{VERSION}", "kind": "JobSet", "name": self.jobset,
                                     "uid": owner["uid"], "controller": True}]},
            "spec": {"template": {"spec": {"restartPolicy": "Never",
                                           "containers": [{"name": "main", "image": "busybox"}]}}}})
        return self

    def __exit__(self, *_: object) -> None:
        self.cluster.batch.delete_namespaced_job(self.name, self.namespace, propagation_policy="Background")


def quiet(*, still: float = 0.25) -> None:
    """Wait until no controller finished a reconcile for `still` seconds (in-process metrics)."""
    from engine.metrics import metrics

    def total() -> float:
        return sum(sample.value for family in metrics.REGISTRY.collect()
                   if family.name == "controller_runtime_reconcile"
                   for sample in family.samples if sample.name == "controller_runtime_reconcile_total")

    def settled() -> bool:
        before = total()
        time.sleep(still)
        return total() == before
    eventually(settled, what="the controllers to go quiet")
