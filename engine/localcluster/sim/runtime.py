"""The simulated kubelet's container runtime hook: containers that something outside the
simulation runs for real (a program, in-process or as a subprocess), instead of the scenario.

Owns: `ContainerRuntime` (the interface a runtime implements: `runs`, `launch`, `kill`),
`ContainerRun` (one run of one container, with its environment resolved), `Reports` (how a
runtime tells the kubelet that a run's startup probe passes or that it exited; callable from
any thread), `External` (what the kubelet knows of a run), and `environment(pod, container)`
(env values and downward-API fieldRefs).
Called by: `sim.kubeletdriver` (launches, kills, takes reports), `sim.containers` (reads
`External`); a runtime is given by whoever starts the simulation (`jobset up`).
Must not import: anything in `engine` outside `localcluster`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from engine.localcluster.sim import scenario

_SUBSCRIPT = re.compile(r"^metadata\.(labels|annotations)\['([^']+)'\]$")
_FIELDS = {"metadata.name": ("metadata", "name"), "metadata.namespace": ("metadata", "namespace"),
           "metadata.uid": ("metadata", "uid"), "spec.nodeName": ("spec", "nodeName"),
           "spec.serviceAccountName": ("spec", "serviceAccountName"), "status.podIP": ("status", "podIP"),
           "status.hostIP": ("status", "hostIP")}


@dataclasses.dataclass(frozen=True)
class ContainerRun:
    """One run of one container: its Pod, its spec, its resolved environment, its restart count
    (`run`) and what the scenario says this run does (a runtime may simulate a workload by it)."""

    namespace: str
    pod: str
    pod_uid: str
    container: Mapping[str, Any]
    env: Mapping[str, str]
    run: int
    behaviour: scenario.Behaviour

    @property
    def name(self) -> str:
        """The container's name."""
        return str(self.container.get("name"))


@dataclasses.dataclass(frozen=True)
class External:
    """What the kubelet knows of a runtime's run: launched at restart count `run`, started
    (its startup probe passes), and its exit code once it exited."""

    run: int
    started: bool = False
    exit_code: int | None = None


class Reports:
    """A run's line back to the kubelet; safe to call from any thread, once the run is over
    (killed or replaced) its reports are ignored."""

    def __init__(self, loop: asyncio.AbstractEventLoop, report: Callable[[bool, int | None], None]) -> None:
        self._loop = loop
        self._report = report

    def started(self) -> None:
        """The run's startup probe passes from now on."""
        self._loop.call_soon_threadsafe(self._report, True, None)

    def exited(self, code: int) -> None:
        """The run ended with `code`."""
        self._loop.call_soon_threadsafe(self._report, False, code)


class ContainerRuntime(Protocol):
    """Runs some containers of simulated Pods for real."""

    def runs(self, pod: Mapping[str, Any], container: Mapping[str, Any]) -> bool:
        """Whether this runtime runs `container` of `pod` (else the scenario decides it)."""

    def launch(self, run: ContainerRun, reports: Reports) -> None:
        """Start `run`; report its startup and its exit through `reports`. Must not block."""

    def kill(self, run: ContainerRun) -> None:
        """Stop `run` at once (the kubelet has already recorded its end). Must not block."""


def environment(pod: Mapping[str, Any], container: Mapping[str, Any]) -> dict[str, str]:
    """The container's environment: literal values and downward-API fieldRefs (other sources,
    such as Secrets and ConfigMaps, are left out)."""
    found: dict[str, str] = {}
    for entry in container.get("env") or []:
        name = entry.get("name")
        if not name:
            continue
        if "value" in entry:
            found[name] = str(entry.get("value") or "")
            continue
        path = ((entry.get("valueFrom") or {}).get("fieldRef") or {}).get("fieldPath")
        value = _field(pod, str(path)) if path else None
        if value is not None:
            found[name] = value
    return found


def _field(pod: Mapping[str, Any], path: str) -> str | None:
    subscript = _SUBSCRIPT.match(path)
    if subscript:
        value = ((pod.get("metadata") or {}).get(subscript.group(1)) or {}).get(subscript.group(2))
        return "" if value is None else str(value)  # as the kubelet: a missing key reads as empty
    if path not in _FIELDS:
        return None
    section, field = _FIELDS[path]
    value = (pod.get(section) or {}).get(field)
    return None if value is None else str(value)
