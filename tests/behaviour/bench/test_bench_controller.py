"""`bench/controller.py` runs end to end at a tiny size: both child processes start, every figure is
printed with its goal, and a steady-state reconcile writes nothing to the API (spec §8, step 17:
status is written only when it changed)."""

from __future__ import annotations

import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[3]
FIGURES = ("create 12 Jobs: JobSet 1 x 12", "create 12 Jobs: python client, sequential",
           "steady-state reconcile of 12 Jobs: API writes", "steady-state reconcile of 12 Jobs: time",
           "RestartJobSet of 6 Jobs", "delete-then-create 6 Jobs: python client, 50 threads",
           "controller RSS, 8 Jobs + 8 Pods")


def test_controller_bench_prints_every_figure_and_a_steady_pass_writes_nothing_section_8() -> None:
    run = subprocess.run([sys.executable, "bench/controller.py", "--jobs", "12", "--restart-jobs", "6",
                          "--rss-jobs", "8", "--pods-per-job", "1"],
                         cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    for figure in FIGURES:
        assert any(line.startswith(figure) and "goal" in line for line in lines), (figure, run.stdout)
    writes = next(line for line in lines if line.startswith("steady-state reconcile of 12 Jobs: API writes"))
    assert re.search(r"\s0\s+goal 0$", writes), writes
    passes = next(line for line in lines if line.startswith("steady-state reconcile of 12 Jobs: time"))
    assert re.search(r"\((\d+) passes\)", passes) and int(re.search(r"\((\d+) passes\)", passes)[1]) >= 1, passes
    ratios = [float(match[1]) for line in lines if (match := re.search(r"^\s+controller / .*?\s([\d.]+)\s+goal", line))]
    assert len(ratios) == 4 and all(ratio > 0 for ratio in ratios), run.stdout
