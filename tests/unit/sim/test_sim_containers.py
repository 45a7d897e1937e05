"""The simulated kubelet container by container: restartPolicyRules, sidecars with startup probes,
and containers run by a container runtime hook (the kubelet side of spec §11's in-place restarts)."""

from __future__ import annotations

import datetime
from typing import Any

from engine.localcluster.sim import containers, kubelet, runtime, scenario

T0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
NOT_ZERO = [{"action": "Restart", "exitCodes": {"operator": "NotIn", "values": [0]}}]
ALL_NOT_ZERO = [{"action": "RestartAllContainers", "exitCodes": {"operator": "NotIn", "values": [0]}}]
AGENT = {"name": "agent", "restartPolicy": "Always", "restartPolicyRules": ALL_NOT_ZERO,
         "startupProbe": {"httpGet": {"path": "/barrier-is-down", "port": 8081}}}


def at(seconds: float) -> datetime.datetime:
    return T0 + datetime.timedelta(seconds=seconds)


def pod(*regular: dict[str, Any], init: tuple[dict[str, Any], ...] = ()) -> dict[str, Any]:
    return {"metadata": {"name": "js-rj-0-0-x", "namespace": "ns", "uid": "u"},
            "spec": {"nodeName": "n1", "restartPolicy": "OnFailure", "initContainers": list(init),
                     "containers": list(regular)}}


class Kubelet:
    """Applies steps to one pod; `external` plays the runtime's reports."""

    def __init__(self, p: dict[str, Any], runs: tuple[str, ...] = (), codes: dict[int, int] | None = None,
                 duration: float = 10.0) -> None:
        self.pod, self.runs, self.codes, self.duration = p, runs, codes or {}, duration
        self.external: dict[str, runtime.External] = {}
        self.launched: list[tuple[str, int]] = []
        self.killed: list[str] = []

    def behaviour(self, attempt: int) -> scenario.Behaviour:
        return scenario.Behaviour(self.duration, exit_code=self.codes.get(attempt, 0))

    def step(self, seconds: float) -> kubelet.Step:
        found = containers.step(self.pod, now=at(seconds), behaviour=self.behaviour, pod_ip="10.0.0.9",
                                runs=lambda c: c["name"] in self.runs, external=self.external)
        if found.status is not None:
            self.pod["status"] = found.status
        for name in found.kill:
            self.killed.append(name)
            self.external.pop(name, None)
        for name in found.launch:
            run = self.entry(name)["restartCount"]
            self.launched.append((name, run))
            self.external[name] = runtime.External(run=run)
        return found

    def report(self, name: str, *, started: bool = False, exit_code: int | None = None) -> None:
        held = self.external[name]
        self.external[name] = runtime.External(run=held.run, started=held.started or started, exit_code=exit_code)

    def entry(self, name: str) -> dict[str, Any]:
        status = self.pod["status"]
        return next(e for e in status.get("initContainerStatuses", []) + status["containerStatuses"]
                    if e["name"] == name)

    def state(self, name: str) -> str:
        [kind] = self.entry(name)["state"]
        return kind


def test_restart_rule_restarts_the_container_in_place_then_the_pod_succeeds() -> None:
    """A matching restartPolicyRule (Restart): restartCount + 1, the pod stays Running; attempt 1 exits 0."""
    k = Kubelet(pod({"name": "main", "restartPolicy": "Never", "restartPolicyRules": NOT_ZERO}), codes={0: 3})
    first = k.step(0)
    assert k.pod["status"]["phase"] == "Running" and first.wake_at == at(10)
    k.step(10)
    assert k.pod["status"]["phase"] == "Running"
    entry = k.entry("main")
    assert entry["restartCount"] == 1 and k.state("main") == "running"
    assert entry["lastState"]["terminated"]["exitCode"] == 3
    k.step(20)
    assert k.pod["status"]["phase"] == "Succeeded" and k.entry("main")["restartCount"] == 1


def test_exit_code_outside_the_rules_ends_the_container_as_its_own_policy_says() -> None:
    """restartPolicy Never on the container beats the pod's OnFailure when no rule matches."""
    rules = [{"action": "Restart", "exitCodes": {"operator": "In", "values": [42]}}]
    k = Kubelet(pod({"name": "main", "restartPolicy": "Never", "restartPolicyRules": rules}), codes={0: 1})
    k.step(0)
    k.step(10)
    assert k.pod["status"]["phase"] == "Failed" and k.entry("main")["restartCount"] == 0


def test_runtime_sidecar_holds_the_workers_until_its_startup_probe_passes() -> None:
    """A restartable init container with a startup probe: regular containers wait in PodInitializing."""
    k = Kubelet(pod({"name": "worker"}, init=(AGENT,)), runs=("agent",))
    k.step(0)
    assert k.launched == [("agent", 0)]
    assert k.entry("worker")["state"] == {"waiting": {"reason": "PodInitializing"}}
    assert k.state("agent") == "running" and not k.entry("agent")["started"]
    k.report("agent", started=True)
    found = k.step(3)
    assert k.state("worker") == "running" and k.entry("agent")["started"]
    assert found.wake_at == at(13)
    k.step(13)
    assert k.pod["status"]["phase"] == "Succeeded"
    assert k.entry("agent")["state"]["terminated"]["exitCode"] == containers.SIGTERM_EXIT_CODE
    assert k.killed == ["agent"]


def test_restart_all_containers_from_the_worker_restarts_the_sidecar_first() -> None:
    """RestartAllContainers: every container's restartCount + 1, the runtime's sidecar killed and relaunched."""
    k = Kubelet(pod({"name": "worker", "restartPolicy": "Never", "restartPolicyRules": ALL_NOT_ZERO}, init=(AGENT,)),
                runs=("agent",), codes={0: 1})
    k.step(0)
    k.report("agent", started=True)
    k.step(1)
    k.step(11)
    assert k.killed == ["agent"] and k.launched == [("agent", 0), ("agent", 1)]
    assert (k.entry("agent")["restartCount"], k.entry("worker")["restartCount"]) == (1, 1)
    assert k.entry("worker")["lastState"]["terminated"]["exitCode"] == 1
    assert k.entry("agent")["lastState"]["terminated"]["exitCode"] == kubelet.KILLED_EXIT_CODE
    assert k.entry("worker")["state"] == {"waiting": {"reason": "PodInitializing"}}
    assert k.pod["status"]["phase"] == "Running"


def test_runtime_sidecar_exit_restarts_all_containers_in_place() -> None:
    """The agent exits non-zero (a restart request): the worker is killed and everything runs again."""
    k = Kubelet(pod({"name": "worker", "restartPolicy": "Never", "restartPolicyRules": ALL_NOT_ZERO}, init=(AGENT,)),
                runs=("agent",), duration=1000)
    k.step(0)
    k.report("agent", started=True)
    k.step(1)
    k.report("agent", exit_code=1)
    k.step(5)
    assert k.entry("worker")["lastState"]["terminated"]["exitCode"] == kubelet.KILLED_EXIT_CODE
    assert k.launched[-1] == ("agent", 1) and k.killed == []
    k.report("agent", started=True)
    k.step(6)
    assert k.state("worker") == "running" and k.entry("worker")["restartCount"] == 1


def test_runtime_main_container_exit_follows_its_restart_rule() -> None:
    """Main-container mode: the runtime's exit code goes through the Restart rule; the next run is launched."""
    k = Kubelet(pod({"name": "agent", "restartPolicy": "Never", "restartPolicyRules": NOT_ZERO}), runs=("agent",))
    first = k.step(0)
    assert first.wake_at is None and k.launched == [("agent", 0)]
    k.report("agent", exit_code=1)
    k.step(2)
    assert k.launched == [("agent", 0), ("agent", 1)] and k.entry("agent")["restartCount"] == 1
    k.report("agent", exit_code=0)
    k.step(4)
    assert k.pod["status"]["phase"] == "Succeeded"


def test_a_deleted_pod_kills_its_runtime_runs_when_it_ends() -> None:
    k = Kubelet(pod({"name": "agent", "restartPolicyRules": NOT_ZERO}), runs=("agent",))
    k.step(0)
    k.pod["metadata"]["deletionTimestamp"] = kubelet.podstate.stamp(at(1))
    found = k.step(1)
    assert found.kill == ("agent",) and k.pod["status"]["phase"] == "Failed"


def test_needs_only_pods_with_sidecars_rules_or_runtime_containers() -> None:
    assert not containers.needs(pod({"name": "main"}), lambda c: False)
    assert containers.needs(pod({"name": "main"}), lambda c: True)
    assert containers.needs(pod({"name": "main", "restartPolicyRules": NOT_ZERO}), lambda c: False)
    assert containers.needs(pod({"name": "main"}, init=({"name": "s", "restartPolicy": "Always"},)), lambda c: False)
    assert not containers.needs(pod({"name": "main"}, init=({"name": "setup"},)), lambda c: False)


def test_environment_resolves_values_and_downward_api_field_refs() -> None:
    p = pod()
    p["metadata"]["annotations"] = {"jobset.sigs.k8s.io/jobset-name": "js"}
    p["status"] = {"podIP": "10.0.0.9"}
    container = {"env": [
        {"name": "A", "value": "1"},
        {"name": "JOBSET_NAME", "valueFrom": {"fieldRef": {
            "fieldPath": "metadata.annotations['jobset.sigs.k8s.io/jobset-name']"}}},
        {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": "IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
        {"name": "MISSING", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['absent']"}}},
        {"name": "SECRET", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]}
    assert runtime.environment(p, container) == {"A": "1", "JOBSET_NAME": "js", "POD_NAME": "js-rj-0-0-x",
                                                 "IP": "10.0.0.9", "MISSING": ""}
