"""`jobset up --run`: the README's main command, end to end in a fresh process."""

from __future__ import annotations

import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[3]


def test_up_runs_the_simple_example_to_completion(tmp_path: pathlib.Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    done = subprocess.run(
        [sys.executable, "-m", "engine.cli.main", "up", "--run", "examples/simple.yaml", "--speed", "5",
         "--kubeconfig", str(kubeconfig), "--timeout", "120"],
        capture_output=True, text=True, cwd=ROOT, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "controller and webhooks ready" in done.stdout
    progress = [line for line in done.stdout.splitlines() if "default/simple:" in line]
    assert len(progress) >= 2, done.stdout
    assert "Completed=True" in progress[-1]
    assert "jobs 0 active, 3 succeeded, 0 failed" in progress[-1]
    assert "Traceback" not in done.stderr, done.stderr
    assert kubeconfig.exists()


def test_up_refuses_bad_flags_cleanly(tmp_path: pathlib.Path) -> None:
    done = subprocess.run([sys.executable, "-m", "engine.cli.main", "up", "--run", str(tmp_path / "missing.yaml")],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 2
    assert "missing.yaml" in done.stderr and "Traceback" not in done.stderr


def test_up_with_a_scenario_where_workers_fail_exits_1(tmp_path: pathlib.Path) -> None:
    """A scenario file makes the workers exit 1: no failure policy, so the JobSet fails (§10.8) and up says so."""
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text("rules:\n- match: {namePrefix: simple-workers-}\n  behaviour: {exit-code: '1', duration: 1s}\n")
    done = subprocess.run(
        [sys.executable, "-m", "engine.cli.main", "up", "--run", "examples/simple.yaml", "--speed", "5",
         "--scenario", str(scenario), "--kubeconfig", str(tmp_path / "kubeconfig"), "--timeout", "120"],
        capture_output=True, text=True, cwd=ROOT, timeout=180)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Failed=True" in done.stdout.splitlines()[-1]


def test_up_rejects_a_bad_scenario_file_naming_the_field(tmp_path: pathlib.Path) -> None:
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text("rules:\n- bogus: 1\n")
    done = subprocess.run([sys.executable, "-m", "engine.cli.main", "up", "--scenario", str(scenario)],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 2
    assert "rules[0]: unknown field 'bogus'" in done.stderr and "Traceback" not in done.stderr


def test_up_without_run_serves_until_ctrl_c_and_stops_cleanly(tmp_path: pathlib.Path) -> None:
    import signal
    import time

    process = subprocess.Popen([sys.executable, "-m", "engine.cli.main", "up", "--kubeconfig", str(tmp_path / "kc")],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None
    deadline = time.monotonic() + 120
    lines = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        lines.append(line)
        if "press Ctrl-C to stop" in line:
            break
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, "".join(lines) + out + err
    assert "stopping" in out and "Traceback" not in err, err
