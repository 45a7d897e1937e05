"""The simulated kubelet's decision: where a bound pod's lifecycle stands at a given time.

Owns: `step(pod, ...)`: Pending -> Running (containerStatuses, podIP, startTime, Ready and
ContainersReady) -> Succeeded or Failed with exit codes; container restarts under
restartPolicy OnFailure/Always after the CrashLoopBackOff delay; graceful deletion
(terminal once the grace period is over, then removal). Pure: no I/O, time passed in.
Pods with sidecars, container restartPolicyRules or runtime-run containers go through
`sim.containers` instead, which shares `Step`, `terminate` and the status entries.
Called by: `sim.kubeletdriver`, `sim.containers`, `sim.disruption`.
Must not import: anything in `engine` outside `localcluster`.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
import math
from typing import Any, Callable, Mapping

from engine.localcluster.sim import podstate, scenario

KILLED_EXIT_CODE = 137
CRASH_LOOP = "CrashLoopBackOff"


@dataclasses.dataclass(frozen=True)
class Step:
    """What the kubelet does now: write `status`, then delete the pod if `remove`; stop the
    runtime runs of the containers in `kill`, then launch those in `launch`; wake later."""

    status: podstate.Obj | None = None
    remove: bool = False
    wake_at: datetime.datetime | None = None
    launch: tuple[str, ...] = ()
    kill: tuple[str, ...] = ()


BehaviourFor = Callable[[int], scenario.Behaviour]


def step(pod: Mapping[str, Any], *, now: datetime.datetime, behaviour: BehaviourFor,
         pod_ip: str) -> Step:
    """The next change to `pod` at `now`; `behaviour(attempt)` says what run `attempt` does."""
    if podstate.is_terminal(pod):
        return Step(remove=podstate.is_deleting(pod))
    if podstate.is_deleting(pod):
        return terminate(pod, now)
    if not pod.get("spec", {}).get("nodeName"):
        return Step()
    if podstate.phase(pod) == "Pending":
        return _start(pod, now, behaviour(0), pod_ip)
    return _run(pod, now, behaviour)


def terminate(pod: Mapping[str, Any], now: datetime.datetime) -> Step:
    """A deleted pod: wait for its grace period while it runs, then end every container (137)."""
    deadline = podstate.parse_time(pod["metadata"]["deletionTimestamp"])
    started = podstate.phase(pod) == "Running"
    if started and deadline is not None and now < deadline:
        return Step(wake_at=deadline)
    status = copy.deepcopy(pod.get("status") or {})
    _finish(pod, status, now, exit_code=KILLED_EXIT_CODE, main=None)
    return Step(status=status, remove=True)


def _start(pod: Mapping[str, Any], now: datetime.datetime, first: scenario.Behaviour,
           pod_ip: str) -> Step:
    status = copy.deepcopy(pod.get("status") or {})
    at = podstate.stamp(now)
    status.update(phase="Running", startTime=at, podIP=pod_ip, podIPs=[{"ip": pod_ip}])
    status["containerStatuses"] = [running_entry(c, at, 0) for c in _containers(pod)]
    for entry in status["containerStatuses"]:
        entry["ready"] = not first.never_ready
    conditions = status.setdefault("conditions", [])
    for kind in ("PodReadyToStartContainers", "Initialized"):
        podstate.set_condition(conditions, kind, "True", now=now)
    set_readiness(conditions, now, ready=not first.never_ready)
    return Step(status=status, wake_at=_end_of(status, first, now))


def _run(pod: Mapping[str, Any], now: datetime.datetime, behaviour: BehaviourFor) -> Step:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    state = (statuses[0].get("state") or {}) if statuses else {}
    restarts = int(statuses[0].get("restartCount", 0)) if statuses else 0
    if "waiting" in state and state["waiting"].get("reason") == CRASH_LOOP:
        return _resume(pod, now, restarts, behaviour(restarts))
    if "running" not in state:
        return Step()
    current = behaviour(restarts)
    end = _end_of(pod["status"], current, now)
    if end is not None and now < end:
        return Step(wake_at=end)
    if end is None:
        return Step()
    status = copy.deepcopy(pod["status"])
    policy = pod.get("spec", {}).get("restartPolicy", "Always")
    if policy == "Always" or (policy == "OnFailure" and current.exit_code != 0):
        return _crash_loop(pod, status, now, current)
    _finish(pod, status, now, exit_code=current.exit_code, main=current.container)
    return Step(status=status)


def restart_delay(restarts: int) -> float:
    """The kubelet's container restart back-off: 10 s, doubling, capped at 5 min."""
    return min(300.0, 10.0 * 2 ** max(0, restarts - 1))


def _crash_loop(pod: Mapping[str, Any], status: podstate.Obj, now: datetime.datetime,
                ended: scenario.Behaviour) -> Step:
    """The container exited and will be restarted after the back-off (CrashLoopBackOff)."""
    at = podstate.stamp(now)
    main = _main_name(pod, ended.container)
    name = pod.get("metadata", {}).get("name")
    for entry in status["containerStatuses"]:
        started = entry["state"].get("running", {}).get("startedAt", at)
        code = ended.exit_code if entry["name"] == main else 0
        restarts = int(entry.get("restartCount", 0)) + 1
        delay = restart_delay(restarts)
        entry.update(lastState={"terminated": terminated_entry(code, started, at)}, ready=False,
                     started=False, restartCount=restarts, state={"waiting": {
                         "reason": CRASH_LOOP, "message": f"back-off {delay:g}s restarting "
                         f"failed container={entry['name']} pod={name}"}})
    set_readiness(status["conditions"], now, ready=False)
    wake = now + datetime.timedelta(seconds=restart_delay(
        int(status["containerStatuses"][0]["restartCount"])))
    return Step(status=status, wake_at=wake)


def _resume(pod: Mapping[str, Any], now: datetime.datetime, restarts: int,
            following: scenario.Behaviour) -> Step:
    """Start the next run once the restart back-off is over."""
    last = (pod["status"]["containerStatuses"][0].get("lastState") or {}).get("terminated") or {}
    ended = podstate.parse_time(last.get("finishedAt")) or now
    resume_at = ended + datetime.timedelta(seconds=restart_delay(restarts))
    if now < resume_at:
        return Step(wake_at=resume_at)
    status = copy.deepcopy(pod["status"])
    at = podstate.stamp(now)
    for entry in status["containerStatuses"]:
        entry.update(state={"running": {"startedAt": at}}, ready=not following.never_ready,
                     started=True)
    set_readiness(status["conditions"], now, ready=not following.never_ready)
    return Step(status=status, wake_at=_end_of(status, following, now))


def _finish(pod: Mapping[str, Any], status: podstate.Obj, now: datetime.datetime, *,
            exit_code: int, main: str | None) -> None:
    at = podstate.stamp(now)
    main_name = _main_name(pod, main)
    entries = status.get("containerStatuses") or [_waiting(c) for c in _containers(pod)]
    for entry in entries:
        started = (entry.get("state") or {}).get("running", {}).get("startedAt", at)
        code = exit_code if entry["name"] == main_name or exit_code == KILLED_EXIT_CODE else 0
        entry.update(state={"terminated": terminated_entry(code, started, at)}, ready=False,
                     started=False)
    status["containerStatuses"] = entries
    failed = any(e["state"]["terminated"]["exitCode"] != 0 for e in entries)
    status["phase"] = "Failed" if failed else "Succeeded"
    reason = "PodFailed" if failed else "PodCompleted"
    conditions = status.setdefault("conditions", [])
    for kind in ("ContainersReady", "Ready"):
        podstate.set_condition(conditions, kind, "False", now=now, reason=reason)
    podstate.set_condition(conditions, "PodReadyToStartContainers", "False", now=now)


def _end_of(status: Mapping[str, Any], run: scenario.Behaviour,
            now: datetime.datetime) -> datetime.datetime | None:
    if math.isinf(run.duration):
        return None
    running = status["containerStatuses"][0]["state"].get("running", {})
    started = podstate.parse_time(running.get("startedAt")) or now
    return started + datetime.timedelta(seconds=run.duration)


def set_readiness(conditions: list[podstate.Obj], now: datetime.datetime, *, ready: bool) -> None:
    """The pod's ContainersReady and Ready conditions."""
    value = "True" if ready else "False"
    reason = "" if ready else "ContainersNotReady"
    for kind in ("ContainersReady", "Ready"):
        podstate.set_condition(conditions, kind, value, now=now, reason=reason)


def _containers(pod: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return list(pod.get("spec", {}).get("containers") or [{"name": "main"}])


def _main_name(pod: Mapping[str, Any], wanted: str | None) -> str:
    names = [str(c.get("name")) for c in _containers(pod)]
    return wanted if wanted in names else names[0]


def running_entry(container: Mapping[str, Any], at: str, restarts: int) -> podstate.Obj:
    """A container status entry, running since `at`."""
    return {"name": container.get("name"), "image": container.get("image", ""),
            "imageID": "", "containerID": f"sim://{container.get('name')}",
            "ready": True, "started": True, "restartCount": restarts,
            "state": {"running": {"startedAt": at}}, "lastState": {}}


def _waiting(container: Mapping[str, Any]) -> podstate.Obj:
    entry = running_entry(container, "", 0)
    entry.update(ready=False, started=False, state={"waiting": {"reason": "ContainerCreating"}})
    return entry


def terminated_entry(code: int, started: str, finished: str) -> podstate.Obj:
    """A container's terminated state."""
    return {"exitCode": code, "reason": "Completed" if code == 0 else "Error",
            "startedAt": started, "finishedAt": finished, "containerID": "sim://exited"}
