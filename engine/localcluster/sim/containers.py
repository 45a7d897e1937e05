"""The simulated kubelet container by container, for pods one run per pod cannot describe:
sidecars (init containers with restartPolicy Always; the regular containers start once every
sidecar's startup probe passes), container `restartPolicyRules` (restart the container, or all
of the pod's containers, in place on matching exit codes: restartCount + 1, same pod, same
node) and containers run by a container runtime hook (`sim.runtime`).

Owns: `needs(pod, runs)` (whether a pod takes this path) and `step(...)`, the counterpart of
`kubelet.step` for those pods. Simplifications: plain init containers are not simulated;
restarts happen at once (no CrashLoopBackOff delay); a scenario-run sidecar's startup probe
passes at once, a runtime's when the runtime reports it; sidecars stopped once the regular
containers ended exit 143 (SIGTERM). Pure: no I/O, time passed in.
Called by: `sim.kubeletdriver`.
Must not import: anything in `engine` outside `localcluster`.
"""

from __future__ import annotations

import dataclasses
import datetime
import marshal
import math
from collections.abc import Callable, Mapping
from typing import Any

from engine.localcluster.sim import kubelet, podstate, runtime

RunsBy = Callable[[Mapping[str, Any]], bool]  # whether the runtime runs this container
SIGTERM_EXIT_CODE = 143
RESTART_ALL = "RestartAllContainers"
RESTART = "Restart"


def needs(pod: Mapping[str, Any], runs: RunsBy) -> bool:
    """Pods with sidecars, restartPolicyRules or runtime-run containers."""
    spec = pod.get("spec") or {}
    if any(_sidecar(c) for c in spec.get("initContainers") or []):
        return True
    return any(c.get("restartPolicyRules") or runs(c) for c in spec.get("containers") or [])


def step(pod: Mapping[str, Any], *, now: datetime.datetime, behaviour: kubelet.BehaviourFor, pod_ip: str,
         runs: RunsBy, external: Mapping[str, runtime.External]) -> kubelet.Step:
    """The next change to `pod` at `now`: status, runtime runs to kill then to launch, next wake-up."""
    spec = pod.get("spec") or {}
    owned = tuple(str(c.get("name")) for c in _sidecars(spec) + list(spec.get("containers") or []) if runs(c))
    if podstate.is_terminal(pod):
        return kubelet.Step(remove=podstate.is_deleting(pod), kill=owned)
    if podstate.is_deleting(pod):
        ended = kubelet.terminate(pod, now)
        return ended if ended.status is None else dataclasses.replace(ended, kill=owned)
    if not spec.get("nodeName"):
        return kubelet.Step()
    status = marshal.loads(marshal.dumps(pod.get("status") or {}))  # plain JSON: ~10x cheaper than deepcopy
    if podstate.phase(pod) == "Pending":
        _start(spec, status, now, pod_ip)
    lifecycle = _Lifecycle(spec, status, now, behaviour, runs, external)
    lifecycle.settle()
    return kubelet.Step(status=status if status != pod.get("status") else None, wake_at=lifecycle.wake(),
                        launch=lifecycle.launches(), kill=tuple(lifecycle.kills))


def _sidecar(container: Mapping[str, Any]) -> bool:
    return container.get("restartPolicy") == "Always"


def _sidecars(spec: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [c for c in spec.get("initContainers") or [] if _sidecar(c)]


def _start(spec: Mapping[str, Any], status: podstate.Obj, now: datetime.datetime, pod_ip: str) -> None:
    at = podstate.stamp(now)
    status.update(phase="Running", startTime=at, podIP=pod_ip, podIPs=[{"ip": pod_ip}])
    sidecars = _sidecars(spec)
    status["initContainerStatuses"] = [_running(c, at, 0, started=False) for c in sidecars]
    status["containerStatuses"] = [_initializing(c, 0) if sidecars else _running(c, at, 0, started=True)
                                   for c in spec.get("containers") or []]


def _running(container: Mapping[str, Any], at: str, restarts: int, *, started: bool) -> podstate.Obj:
    entry = kubelet.running_entry(container, at, restarts)
    entry.update(started=started, ready=started)
    return entry


def _initializing(container: Mapping[str, Any], restarts: int) -> podstate.Obj:
    entry = kubelet.running_entry(container, "", restarts)
    entry.update(ready=False, started=False, state={"waiting": {"reason": "PodInitializing"}})
    return entry


def _rule_action(container: Mapping[str, Any], code: int) -> str | None:
    """The action of the first restartPolicyRule whose exit codes match `code`."""
    for rule in container.get("restartPolicyRules") or []:
        codes = rule.get("exitCodes") or {}
        values = [int(v) for v in codes.get("values") or []]
        operator = codes.get("operator")
        if (operator == "In" and code in values) or (operator == "NotIn" and code not in values):
            return str(rule.get("action"))
    return None


class _Lifecycle:
    """One pod's containers during one step: their spec, their status entries and the runs they need."""

    def __init__(self, spec: Mapping[str, Any], status: podstate.Obj, now: datetime.datetime,
                 behaviour: kubelet.BehaviourFor, runs: RunsBy, external: Mapping[str, runtime.External]) -> None:
        self.sidecars = _sidecars(spec)
        self.regular = list(spec.get("containers") or [])
        self.pod_policy = str(spec.get("restartPolicy") or "Always")
        self.status, self.now, self.behaviour, self.runs, self.external = status, now, behaviour, runs, external
        self.at = podstate.stamp(now)
        entries = list(status.get("initContainerStatuses") or []) + list(status.get("containerStatuses") or [])
        self.entries: dict[str, podstate.Obj] = {str(e.get("name")): e for e in entries}
        self.kills: list[str] = []

    def all(self) -> list[Mapping[str, Any]]:
        return self.sidecars + self.regular

    def entry(self, container: Mapping[str, Any]) -> podstate.Obj:
        return self.entries[str(container.get("name"))]

    def settle(self) -> None:
        """Apply every transition due by now, one at a time, then the pod's phase and conditions."""
        for _ in range(4 * len(self.all()) + 4):
            if all("terminated" in self.entry(c)["state"] for c in self.regular):
                self._finish()
                return
            if not (self._start_sidecars() or self._start_regular() or self._exit_one()):
                break
        self._conditions()

    def _current(self, container: Mapping[str, Any]) -> runtime.External | None:
        """The runtime's report on the container's current run, if any."""
        found = self.external.get(str(container.get("name")))
        return found if found is not None and found.run == int(self.entry(container).get("restartCount", 0)) else None

    def _start_sidecars(self) -> bool:
        changed = False
        for container in self.sidecars:
            entry = self.entry(container)
            if "running" not in entry["state"] or entry.get("started"):
                continue
            report = self._current(container)
            if "startupProbe" not in container or not self.runs(container) or (report and report.started):
                entry.update(started=True, ready=True)
                changed = True
        return changed

    def _start_regular(self) -> bool:
        if not all(self.entry(c).get("started") for c in self.sidecars):
            return False
        waiting = [c for c in self.regular if self.entry(c)["state"].get("waiting", {}).get("reason") == "PodInitializing"]
        for container in waiting:
            self._run(container, int(self.entry(container).get("restartCount", 0)))
        return bool(waiting)

    def _run(self, container: Mapping[str, Any], restarts: int) -> None:
        """Start the container's run `restarts`; a sidecar counts as started once `_start_sidecars` says so."""
        sidecar = container in self.sidecars
        ready = not sidecar and (self.runs(container) or not self.behaviour(restarts).never_ready)
        self.entry(container).update(state={"running": {"startedAt": self.at}}, restartCount=restarts,
                                     started=not sidecar, ready=ready)

    def _exit_one(self) -> bool:
        """Take the earliest exit due (a runtime's report, or a scenario run's end)."""
        due = [found for c in self.all() if (found := self._exit_of(c)) is not None]
        if not due:
            return False
        at, name, code = min(due)
        container = next(c for c in self.all() if c.get("name") == name)
        self._exited(container, code, at)
        return True

    def _exit_of(self, container: Mapping[str, Any]) -> tuple[datetime.datetime, str, int] | None:
        entry = self.entry(container)
        running = entry["state"].get("running")
        if running is None:
            return None
        name = str(container.get("name"))
        if self.runs(container):
            report = self._current(container)
            return (self.now, name, report.exit_code) if report and report.exit_code is not None else None
        if container in self.sidecars:
            return None
        run = self.behaviour(int(entry.get("restartCount", 0)))
        end = self._end(running, run.duration)
        if end is None or end > self.now:
            return None
        return end, name, run.exit_code if name == self._target(run.container) else 0

    def _end(self, running: Mapping[str, Any], duration: float) -> datetime.datetime | None:
        if math.isinf(duration):
            return None
        started = podstate.parse_time(running.get("startedAt")) or self.now
        return started + datetime.timedelta(seconds=duration)

    def _target(self, wanted: str | None) -> str | None:
        """The scenario-run regular container that carries the exit code."""
        names = [str(c.get("name")) for c in self.regular if not self.runs(c)]
        return wanted if wanted in names else (names[0] if names else None)

    def _exited(self, container: Mapping[str, Any], code: int, at: datetime.datetime) -> None:
        action = _rule_action(container, code)
        if action == RESTART_ALL:
            self._restart_all(container, code, at)
        elif action == RESTART or self._policy_restarts(container, code):
            self._ended(container, code, at, restart=True)
        else:
            self._ended(container, code, at, restart=False)

    def _policy_restarts(self, container: Mapping[str, Any], code: int) -> bool:
        policy = container.get("restartPolicy") or self.pod_policy
        return policy == "Always" or (policy == "OnFailure" and code != 0)

    def _ended(self, container: Mapping[str, Any], code: int, at: datetime.datetime, *, restart: bool) -> None:
        entry = self.entry(container)
        started = entry["state"].get("running", {}).get("startedAt", self.at)
        ended = {"terminated": kubelet.terminated_entry(code, started, podstate.stamp(at))}
        if not restart:
            entry.update(state=ended, ready=False, started=False)
            return
        entry["lastState"] = ended
        self._run(container, int(entry.get("restartCount", 0)) + 1)

    def _restart_all(self, failed: Mapping[str, Any], code: int, at: datetime.datetime) -> None:
        """Every container ends (the others killed) and starts again: sidecars first."""
        for container in self.all():
            entry = self.entry(container)
            state = entry["state"]
            if "running" in state:
                if container is not failed and self.runs(container):
                    self.kills.append(str(container.get("name")))
                own = code if container is failed else kubelet.KILLED_EXIT_CODE
                state = {"terminated": kubelet.terminated_entry(own, state["running"].get("startedAt", self.at),
                                                                podstate.stamp(at))}
            restarts = int(entry.get("restartCount", 0)) + 1
            if "terminated" in state:
                entry["lastState"] = state
            if container in self.sidecars or not self.sidecars:
                self._run(container, restarts)
            else:
                entry.update(state={"waiting": {"reason": "PodInitializing"}}, restartCount=restarts, ready=False,
                             started=False)

    def _finish(self) -> None:
        """Every regular container ended: sidecars are stopped and the phase is final."""
        for container in self.sidecars:
            entry = self.entry(container)
            if "running" in entry["state"]:
                if self.runs(container):
                    self.kills.append(str(container.get("name")))
                entry.update(state={"terminated": kubelet.terminated_entry(
                    SIGTERM_EXIT_CODE, entry["state"]["running"].get("startedAt", self.at), self.at)},
                    ready=False, started=False)
        failed = any(self.entry(c)["state"]["terminated"]["exitCode"] != 0 for c in self.regular)
        self.status["phase"] = "Failed" if failed else "Succeeded"
        conditions = self.status.setdefault("conditions", [])
        for kind in ("ContainersReady", "Ready"):
            podstate.set_condition(conditions, kind, "False", now=self.now,
                                   reason="PodFailed" if failed else "PodCompleted")
        podstate.set_condition(conditions, "PodReadyToStartContainers", "False", now=self.now)

    def _conditions(self) -> None:
        conditions = self.status.setdefault("conditions", [])
        podstate.set_condition(conditions, "PodReadyToStartContainers", "True", now=self.now)
        initialized = all(self.entry(c).get("started") for c in self.sidecars)
        podstate.set_condition(conditions, "Initialized", "True" if initialized else "False", now=self.now,
                               reason="" if initialized else "ContainersNotInitialized")
        ready = initialized and all(self.entry(c).get("ready") for c in self.all())
        kubelet.set_readiness(conditions, self.now, ready=ready)

    def launches(self) -> tuple[str, ...]:
        """Runtime-run containers that are running without a run launched for their restart count."""
        return tuple(str(c.get("name")) for c in self.all()
                     if self.runs(c) and "running" in self.entry(c)["state"] and self._current(c) is None)

    def wake(self) -> datetime.datetime | None:
        """When the next scenario-run container ends."""
        ends = [end for c in self.regular if not self.runs(c)
                and (running := self.entry(c)["state"].get("running")) is not None
                and (end := self._end(running, self.behaviour(int(self.entry(c).get("restartCount", 0))).duration))]
        return min(ends, default=None)
