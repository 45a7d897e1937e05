"""The repository keeps the shape DEVELOPERS.md asks for, and CI runs the README's test command."""

import pathlib
import subprocess

ROOT = pathlib.Path(__file__).resolve().parent.parent


def readme_commands() -> list[str]:
    lines = (ROOT / "README.md").read_text().splitlines()
    return [lines[i + 1] for i, line in enumerate(lines) if line == "```sh"]


def test_readme_starts_with_exactly_two_commands() -> None:
    commands = readme_commands()
    assert len(commands) == 2
    assert "jobset up" in commands[0]
    assert "pytest" in commands[1]


def test_ci_runs_the_readme_test_command() -> None:
    script = (ROOT / ".ci" / "run").read_text()
    extracted = subprocess.run(
        ["awk", "/^```sh$/{getline; n++; if (n == 2) {print; exit}}", str(ROOT / "README.md")],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    assert extracted == readme_commands()[1]
    assert "README.md" in script


def test_top_level_layout() -> None:
    for name in ["pyproject.toml", "engine", "rules", "schemas", "tests", "examples", "deploy",
                 "README.md", "docs", "bench", ".ci/run"]:
        assert (ROOT / name).exists(), name


def test_layers_are_kept() -> None:
    """docs/architecture.md: the import-linter contracts in pyproject.toml hold."""
    import sys

    linter = pathlib.Path(sys.executable).parent / "lint-imports"
    done = subprocess.run([str(linter)], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_test_module_basenames_are_unique() -> None:
    """Test folders have no __init__.py, so pytest needs every test module's file name to be unique."""
    seen: dict[str, pathlib.Path] = {}
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        assert path.name not in seen, f"{path} has the same file name as {seen[path.name]}"
        seen[path.name] = path
