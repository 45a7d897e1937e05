"""The per-feature examples keep their promises on paper: each opens with a comment giving the
exact `jobset up --run` command, passes `jobset lint` with that command's feature gates, and is
run by a test of this directory. (examples/simple.yaml and the exclusive-placement examples
belong to the README and the placement tests.)"""

from __future__ import annotations

import pathlib
import re
import subprocess
import sys

import exampleharness as harness

OTHERS = {"simple.yaml"}


def _ours() -> list[str]:
    return sorted(p.name for p in harness.EXAMPLES.glob("*.yaml")
                  if p.name not in OTHERS and not p.name.startswith("exclusive-placement"))


def _command(name: str) -> str:
    """The `jobset up` command of the example's header comment."""
    header = []
    for line in (harness.EXAMPLES / name).read_text().splitlines():
        if not line.startswith("#"):
            break
        header.append(line)
    commands = [line.lstrip("# ").strip() for line in header if "jobset up --run" in line]
    assert len(commands) == 1, f"{name}: one `jobset up --run` line expected in the header, found {commands}"
    return commands[0]


def test_every_example_header_runs_that_very_file() -> None:
    names = _ours()
    assert len(names) >= 14, names
    for name in names:
        assert re.search(rf"--run examples/{re.escape(name)}( |$)", _command(name)), name


def test_every_example_passes_lint_with_the_gates_its_command_names() -> None:
    """§5, §6: what the header's command submits is admitted (RestartJob and InPlaceRestart examples name
    their gate, V-1, V-16)."""
    by_gates: dict[str, list[str]] = {}
    for name in _ours():
        found = re.search(r"--feature-gates (\S+)", _command(name))
        by_gates.setdefault(found.group(1) if found else "", []).append(name)
    assert set(by_gates) == {"", "RestartJob=true", "InPlaceRestart=true"}, by_gates
    for gates, names in by_gates.items():
        argv = [sys.executable, "-m", "engine.cli.main", "lint", *(f"examples/{n}" for n in names)]
        done = subprocess.run(argv + (["--feature-gates", gates] if gates else []),
                              capture_output=True, text=True, cwd=harness.ROOT, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr


def test_every_example_is_run_by_a_test() -> None:
    sources = "".join(p.read_text() for p in pathlib.Path(__file__).parent.glob("test_example_*.py")
                      if p.name != "test_example_catalogue.py")
    assert [name for name in _ours() if f'"{name}"' not in sources] == []
