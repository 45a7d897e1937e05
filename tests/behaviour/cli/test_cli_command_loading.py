"""The `jobset` entry point loads only the module of the command it runs (engine/cli/main.py)."""

from __future__ import annotations

import subprocess
import sys

_PROBE = """
import sys
from engine.cli import main
parser = main.build_parser({command!r})
print(sorted(name for name in sys.modules if name.startswith("engine.cli.commands.")))
print("engine.kube.client" in sys.modules)
"""


def _loaded(command: str | None) -> tuple[str, str]:
    done = subprocess.run([sys.executable, "-c", _PROBE.format(command=command)], capture_output=True, text=True,
                          check=True)
    modules, kube = done.stdout.splitlines()
    return modules, kube


def test_a_command_imports_only_its_own_module() -> None:
    modules, kube = _loaded("lint")
    assert modules == "['engine.cli.commands.lint']"
    assert kube == "False"


def test_the_agent_command_does_not_load_the_controller() -> None:
    modules, _ = _loaded("in-place-restart-agent")
    assert modules == "['engine.cli.commands.in_place_restart_agent']"


def test_help_and_unknown_commands_list_every_command() -> None:
    for command in (None, "--help", "no-such-command"):
        modules, _ = _loaded(command)
        for name in ("controller", "in_place_restart_agent", "lint", "render", "rules", "up"):
            assert f"engine.cli.commands.{name}'" in modules


def test_an_unknown_command_is_a_usage_error_naming_the_choices() -> None:
    done = subprocess.run([sys.executable, "-m", "engine.cli.main", "no-such-command"], capture_output=True, text=True)
    assert done.returncode == 2
    assert "invalid choice: 'no-such-command'" in done.stderr and "in-place-restart-agent" in done.stderr
