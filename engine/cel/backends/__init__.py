"""CEL backends: pick one by name and get an object implementing `evaluator.Backend`.

Owns: the registry of backend names and `get_backend`/`available_backends`.
Called by: `engine.rules` (compiling packs), the CLI, tests and `bench/`.
Must not import: anything in `engine` outside `engine.cel`. Backend modules are imported
lazily so that an unused backend costs nothing at start-up.
"""

from __future__ import annotations

import importlib
import os

from engine.cel import evaluator

__all__ = ["DEFAULT", "ENV_VAR", "available_backends", "get_backend"]

DEFAULT = "celexpr"
ENV_VAR = "JOBSET_CEL_BACKEND"

_MODULES = {
    "celexpr": "engine.cel.backends.celexpr",
    "celpy": "engine.cel.backends.celpy",
}


def available_backends() -> tuple[str, ...]:
    """Names accepted by `get_backend`, default first."""
    return tuple(_MODULES)


def get_backend(name: str | None = None) -> evaluator.Backend:
    """Return the backend `name`, else `$JOBSET_CEL_BACKEND`, else the default ("celexpr")."""
    chosen = name or os.environ.get(ENV_VAR) or DEFAULT
    if chosen not in _MODULES:
        valid = ", ".join(available_backends())
        raise ValueError(f"unknown CEL backend {chosen!r}; valid backends: {valid}")
    module = importlib.import_module(_MODULES[chosen])
    backend: evaluator.Backend = module.Backend()
    return backend
