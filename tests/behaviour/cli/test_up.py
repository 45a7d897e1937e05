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
