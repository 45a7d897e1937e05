"""The kubelet's lifecycle steps and the scenario vocabulary (embedded-apiserver.md §5.5)."""

from __future__ import annotations

import datetime
import pathlib
from typing import Any

import pytest

from engine.localcluster.sim import kubelet, podstate, scenario

T0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)


def at(seconds: float) -> datetime.datetime:
    return T0 + datetime.timedelta(seconds=seconds)


def pod(annotations: dict[str, str] | None = None, restart: str = "Never",
        command: list[str] | None = None, index: int | None = None) -> dict[str, Any]:
    ann = dict(annotations or {})
    if index is not None:
        ann[podstate.INDEX_KEY] = str(index)
    container = {"name": "main", "image": "busybox"}
    if command:
        container["command"] = command
    return {"metadata": {"name": "train-0-abcde", "namespace": "ns", "uid": "u",
                         "annotations": ann},
            "spec": {"nodeName": "n1", "restartPolicy": restart,
                     "containers": [container, {"name": "side"}]}}


def drive(p: dict[str, Any], until: float, sc: scenario.Scenario = scenario.Scenario()
          ) -> list[kubelet.Step]:
    steps, now = [], 0.0
    while now <= until:
        def behaviour(attempt: int) -> scenario.Behaviour:
            return scenario.resolve(p, sc, index=podstate.completion_index(p), attempt=attempt,
                                    default_duration=5.0)
        step = kubelet.step(p, now=at(now), behaviour=behaviour, pod_ip="10.0.0.7")
        if step.status is not None:
            p["status"] = step.status
            steps.append(step)
        if step.wake_at is None:
            break
        now = (step.wake_at - T0).total_seconds()
    return steps


def main_state(p: dict[str, Any]) -> dict[str, Any]:
    return p["status"]["containerStatuses"][0]["state"]


def test_pending_to_running_to_succeeded_with_default_duration() -> None:
    p = pod()
    steps = drive(p, 100)
    first = steps[0].status
    assert first is not None and first["phase"] == "Running" and first["podIP"] == "10.0.0.7"
    assert first["startTime"] == podstate.stamp(T0)
    assert steps[0].wake_at == at(5)
    assert p["status"]["phase"] == "Succeeded"
    assert main_state(p)["terminated"]["exitCode"] == 0
    assert main_state(p)["terminated"]["finishedAt"] == podstate.stamp(at(5))
    assert podstate.condition(p, "Ready")["status"] == "False"


def test_exit_code_by_index_and_sleep_command() -> None:
    p = pod({scenario.PREFIX + "exit-code-index-1": "42"}, index=1,
            command=["sh", "-c", "sleep 30"])
    drive(p, 100)
    assert p["status"]["phase"] == "Failed"
    assert main_state(p)["terminated"] == {**main_state(p)["terminated"], "exitCode": 42,
                                           "reason": "Error"}
    assert main_state(p)["terminated"]["finishedAt"] == podstate.stamp(at(30))
    side = p["status"]["containerStatuses"][1]["state"]["terminated"]
    assert side["exitCode"] == 0
    other = pod({scenario.PREFIX + "exit-code-index-1": "42"}, index=0)
    drive(other, 100)
    assert other["status"]["phase"] == "Succeeded"


def test_on_failure_restarts_container_after_crash_loop_back_off_until_success() -> None:
    p = pod({scenario.PREFIX + "exit-code": "1", scenario.PREFIX + "exit-code-attempt-2": "0",
             scenario.PREFIX + "duration": "10s"}, restart="OnFailure")
    steps = drive(p, 1000)
    waiting = steps[1].status["containerStatuses"][0]
    assert waiting["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert waiting["restartCount"] == 1 and steps[1].wake_at == at(20)
    assert podstate.condition({"status": steps[1].status}, "Ready")["status"] == "False"
    assert steps[2].status["containerStatuses"][0]["state"]["running"]["startedAt"] == \
        podstate.stamp(at(20))
    status = p["status"]["containerStatuses"][0]
    assert p["status"]["phase"] == "Succeeded" and status["restartCount"] == 2
    assert status["lastState"]["terminated"]["exitCode"] == 1
    assert status["state"]["terminated"]["finishedAt"] == podstate.stamp(at(60))
    assert [kubelet.restart_delay(n) for n in (1, 2, 3, 6, 9)] == [10, 20, 40, 300, 300]


def test_fail_at_and_never_ready() -> None:
    p = pod({scenario.PREFIX + "fail-at": "7s", scenario.PREFIX + "never-ready": "true"})
    steps = drive(p, 100)
    assert podstate.condition({"status": steps[0].status}, "Ready")["status"] == "False"
    assert main_state(p)["terminated"]["exitCode"] == 1
    assert main_state(p)["terminated"]["finishedAt"] == podstate.stamp(at(7))


def test_graceful_deletion_waits_for_the_grace_period_then_removes() -> None:
    p = pod({scenario.PREFIX + "duration": "1h"})
    drive(p, 0)
    p["metadata"]["deletionTimestamp"] = podstate.stamp(at(30))
    waiting = kubelet.step(p, now=at(10), behaviour=lambda a: scenario.Behaviour(3600),
                           pod_ip="x")
    assert waiting == kubelet.Step(wake_at=at(30))
    done = kubelet.step(p, now=at(30), behaviour=lambda a: scenario.Behaviour(3600), pod_ip="x")
    assert done.remove and done.status is not None and done.status["phase"] == "Failed"
    assert done.status["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 137


def test_unbound_pods_wait_and_sleep_forms() -> None:
    p = pod()
    del p["spec"]["nodeName"]
    assert kubelet.step(p, now=T0, behaviour=lambda a: scenario.Behaviour(1), pod_ip="x") == \
        kubelet.Step()
    assert scenario.sleep_duration({"command": ["sleep", "2m"]}) == 120
    assert scenario.sleep_duration({"command": ["bash", "-c"], "args": ["sleep 3"]}) == 3
    assert scenario.sleep_duration({"command": ["sh", "-c", "sleep 3 && echo hi"]}) is None
    assert scenario.sleep_duration({"command": ["python", "train.py"]}) is None
    two = pod(command=["sleep", "1"])
    two["spec"]["containers"][1]["command"] = ["sh", "-c", "sleep 40"]
    assert scenario.resolve(two, scenario.Scenario(), index=None, attempt=0,
                            default_duration=5).duration == 40


def test_scenario_file_rules_match_by_prefix_and_labels(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text("defaults: {duration: 9s}\nrules:\n"
                    "  - match: {namePrefix: train-, labels: {role: w}}\n"
                    "    behaviour: {exit-code: '3'}\n")
    sc = scenario.load(path)
    p = pod()
    p["metadata"]["labels"] = {"role": "w"}
    assert scenario.resolve(p, sc, index=None, attempt=0, default_duration=5) == \
        scenario.Behaviour(duration=9, exit_code=3)
    p["metadata"]["labels"] = {}
    assert scenario.resolve(p, sc, index=None, attempt=0, default_duration=5).exit_code == 0


def test_scenario_errors_name_the_place(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("rules:\n  - match: {namePrefix: x}\n    behaviour: {exitcode: '3'}\n")
    with pytest.raises(scenario.ScenarioError, match=r"bad.yaml: rules\[0\].behaviour: unknown key 'exitcode'"):
        scenario.load(path)
    path.write_text("defaults: {exit-code-index-2: one}\n")
    with pytest.raises(scenario.ScenarioError,
                       match=r"bad.yaml: defaults.exit-code-index-2: 'one' is not an integer"):
        scenario.load(path)
    path.write_text("rules:\n  - behaviour: {fail-at: later}\n")
    with pytest.raises(scenario.ScenarioError,
                       match=r"rules\[0\].behaviour.fail-at: 'later' is not a duration"):
        scenario.load(path)
    with pytest.raises(scenario.ScenarioError, match="duration: 'soon' is not a duration"):
        scenario.resolve(pod({scenario.PREFIX + "duration": "soon"}), scenario.Scenario(),
                         index=None, attempt=0, default_duration=1)
