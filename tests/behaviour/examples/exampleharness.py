"""Steps of the example tests: a manifest submitted over HTTP to a running `up.Environment`,
its Jobs and JobSet watched from before the first write, and the results read back.

Everything goes through the engine's HTTP client on the controller's loop of the
Environment. The watch keeps every Job and JobSet event in resourceVersion order, so
tests can ask in which order Jobs appeared and what the JobSet looked like meanwhile.
"""

from __future__ import annotations

import asyncio
import dataclasses
import pathlib
import time
from collections.abc import Callable
from typing import Any, TypeVar

import yaml

from engine import up
from engine.kube import errors, resources

T = TypeVar("T")
ROOT = pathlib.Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples"
SPEED = 10.0  # virtual seconds per real second; the controller's latency is multiplied by it too
LABEL = "jobset.sigs.k8s.io/"


def eventually(check: Callable[[], T], *, timeout: float = 30.0, what: str = "condition") -> T:
    """Poll `check` until it returns a truthy value (returned)."""
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


def condition(jobset: dict[str, Any] | None, kind: str) -> dict[str, Any] | None:
    """The condition `kind` of `jobset`, or None."""
    conditions = ((jobset or {}).get("status") or {}).get("conditions") or []
    return next((c for c in conditions if c["type"] == kind), None)


def job_finished(job: dict[str, Any], kind: str) -> bool:
    """Whether the Job carries condition `kind` (Complete or Failed) with status True."""
    return any(c.get("type") == kind and c.get("status") == "True"
               for c in (job.get("status") or {}).get("conditions") or [])


@dataclasses.dataclass(frozen=True)
class Event:
    """One watch event: global resourceVersion, kind (Job or JobSet), type and object."""

    version: int
    kind: str
    type: str
    obj: dict[str, Any]


class Cluster:
    """The running installation and the reads and writes the tests make."""

    def __init__(self, environment: up.Environment) -> None:
        self.environment = environment

    def call(self, coroutine: Any, timeout: float = 60.0) -> Any:
        return self.environment.call(coroutine, timeout)

    def create_namespace(self, name: str) -> None:
        self.call(self.environment.api.create(resources.NAMESPACES, {"metadata": {"name": name}}))

    def delete_namespace(self, name: str) -> None:
        self.call(self.environment.api.delete(resources.NAMESPACES, name))

    def submit(self, path: pathlib.Path, namespace: str) -> "Run":
        """Start watching `namespace`, then create the single JobSet of `path` in it."""
        [document] = [d for d in yaml.safe_load_all(path.read_text()) if d]
        return self.submit_document(document, namespace)

    def submit_document(self, document: dict[str, Any], namespace: str) -> "Run":
        """Start watching `namespace`, then create the JobSet `document` in it."""
        run = Run(self, namespace, document["metadata"]["name"])
        self.call(run.start_watching())
        self.call(self.environment.api.create(resources.JOBSETS, document, namespace=namespace))
        return run


class Run:
    """One submitted JobSet: its watched history and reads of its current state."""

    def __init__(self, cluster: Cluster, namespace: str, name: str) -> None:
        self.cluster = cluster
        self.namespace = namespace
        self.name = name
        self.events: list[Event] = []
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def api(self) -> Any:
        return self.cluster.environment.api

    async def start_watching(self) -> None:
        """Watch Jobs and JobSets of the namespace from the current resourceVersion."""
        for kind, resource in (("Job", resources.JOBS), ("JobSet", resources.JOBSETS)):
            listed = await self.api.list(resource, namespace=self.namespace)
            version = listed["metadata"]["resourceVersion"]
            self._tasks.append(asyncio.create_task(self._watch(kind, resource, version)))

    async def _watch(self, kind: str, resource: resources.Resource, version: str) -> None:
        async for kind_of_event, obj in self.api.watch(resource, namespace=self.namespace,
                                                      resource_version=version, bookmarks=False):
            version = obj["metadata"]["resourceVersion"]
            self.events.append(Event(int(version), kind, kind_of_event, obj))

    def stop_watching(self) -> None:
        """Cancel the watches (on the controller's loop)."""
        async def cancel() -> None:
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self.cluster.call(cancel())

    def history(self, kind: str | None = None) -> list[Event]:
        """Events seen so far, in resourceVersion order."""
        return sorted((e for e in list(self.events) if kind is None or e.kind == kind), key=lambda e: e.version)

    def jobs_created(self) -> list[tuple[str, str]]:
        """(name, uid) of every Job in the order they were created."""
        return [(e.obj["metadata"]["name"], e.obj["metadata"]["uid"]) for e in self.history("Job") if e.type == "ADDED"]

    def first(self, kind: str, predicate: Callable[[dict[str, Any]], bool]) -> int:
        """The resourceVersion of the first event of `kind` whose object satisfies `predicate`."""
        return next(e.version for e in self.history(kind) if predicate(e.obj))

    def jobset(self) -> dict[str, Any] | None:
        """The JobSet now, or None once it is gone."""
        try:
            found: dict[str, Any] = self.cluster.call(
                self.api.get(resources.JOBSETS, self.name, namespace=self.namespace))
        except errors.NotFound:
            return None
        return found

    def status(self) -> dict[str, Any]:
        return (self.jobset() or {}).get("status") or {}

    def replicated_job_status(self, name: str) -> dict[str, Any]:
        return next(e for e in self.status().get("replicatedJobsStatus") or [] if e["name"] == name)

    def objects(self, resource: resources.Resource) -> dict[str, dict[str, Any]]:
        """Objects of the namespace by name."""
        items = self.cluster.call(self.api.list(resource, namespace=self.namespace))["items"]
        return {item["metadata"]["name"]: item for item in items}

    def jobs(self) -> dict[str, dict[str, Any]]:
        """This JobSet's Jobs by name, leaving out those being deleted."""
        return {name: job for name, job in self.objects(resources.JOBS).items()
                if job["metadata"].get("labels", {}).get(LABEL + "jobset-name") == self.name
                and not job["metadata"].get("deletionTimestamp")}

    def pods(self) -> list[dict[str, Any]]:
        return [pod for pod in self.objects(resources.PODS).values()
                if pod["metadata"].get("labels", {}).get(LABEL + "jobset-name") == self.name]

    def wait_for(self, check: Callable[[dict[str, Any]], bool], *, what: str, timeout: float = 30.0) -> dict[str, Any]:
        """The JobSet once `check(jobset)` holds."""
        return eventually(lambda: (found := self.jobset()) is not None and check(found) and found,
                          timeout=timeout, what=f"{self.name}: {what}")

    def finished(self, timeout: float = 30.0) -> dict[str, Any]:
        """The JobSet once it has a terminal state."""
        return self.wait_for(lambda js: bool((js.get("status") or {}).get("terminalState")),
                             what="a terminal state", timeout=timeout)
