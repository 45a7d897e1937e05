"""The controller runtime keeps its place in the layers (aesthetics §8.1) and imports modules, not names."""

import ast
import importlib
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
ABOVE_KUBE = ("engine.planner", "engine.webhook", "engine.localcluster", "engine.cli")

# module -> engine packages it may import ("engine.kube" means its siblings)
ALLOWED: dict[str, tuple[str, ...]] = {
    "engine.metrics.metrics": (),
    "engine.kube.errors": (),
    "engine.kube.ratelimit": (),
    "engine.kube.resources": (),
    "engine.kube.logs": (),
    "engine.kube.featuregates": (),
    "engine.kube.tlsconfig": ("engine.tls",),
    "engine.kube.connection": ("engine.kube",),
    "engine.kube.configuration": ("engine.kube", "engine.tls"),
    "engine.kube.workqueue": ("engine.kube", "engine.metrics"),
    "engine.kube.client": ("engine.kube",),
    "engine.kube.informers": ("engine.kube",),
    "engine.kube.handlers": ("engine.kube",),
    "engine.kube.servers": ("engine.kube", "engine.metrics"),
    "engine.kube.controller": ("engine.kube", "engine.metrics"),
    "engine.kube.leaderelection": ("engine.kube", "engine.metrics"),
    "engine.kube.manager": ("engine.kube", "engine.metrics"),
}


def engine_imports(module: str) -> list[tuple[str, str | None]]:
    """(imported module, imported name or None) for every `engine` import of `module`."""
    tree = ast.parse((ROOT / (module.replace(".", "/") + ".py")).read_text())
    found: list[tuple[str, str | None]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("engine"):
            found.extend((node.module, alias.name) for alias in node.names)
        elif isinstance(node, ast.Import):
            found.extend((alias.name, None) for alias in node.names if alias.name.startswith("engine"))
    return found


@pytest.mark.parametrize("module", sorted(ALLOWED))
def test_imports_stay_inside_the_allowed_layers(module: str) -> None:
    for imported, name in engine_imports(module):
        target = f"{imported}.{name}" if name else imported
        assert not target.startswith(ABOVE_KUBE), f"{module} imports {target}"
        assert any(target == allowed or target.startswith(allowed + ".") for allowed in ALLOWED[module]), \
            f"{module} imports {target}"


@pytest.mark.parametrize("module", sorted(ALLOWED))
def test_engine_imports_name_modules_not_names(module: str) -> None:
    for imported, name in engine_imports(module):
        if name is not None:
            assert hasattr(importlib.import_module(f"{imported}.{name}"), "__file__"), f"{module}: {imported}.{name}"


def test_every_module_of_the_runtime_is_listed() -> None:
    mine = {"errors", "ratelimit", "resources", "logs", "featuregates", "tlsconfig", "connection", "configuration",
            "workqueue", "client", "informers", "handlers", "servers", "controller", "leaderelection", "manager"}
    present = {path.stem for path in (ROOT / "engine" / "kube").glob("*.py")} - {"__init__"}
    assert mine <= present
    assert {f"engine.kube.{name}" for name in mine} | {"engine.metrics.metrics"} == set(ALLOWED)


def test_every_module_opens_with_owns_called_by_and_must_not_import() -> None:
    for module in ALLOWED:
        doc = ast.get_docstring(ast.parse((ROOT / (module.replace(".", "/") + ".py")).read_text())) or ""
        for part in ("Owns:", "Called by:", "Must not import:"):
            assert part in doc, f"{module} docstring lacks {part!r}"
