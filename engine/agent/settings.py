"""The in-place restart agent's settings, read from its environment (spec §11.2).

Owns: the environment variable names and defaults, `Settings`, `from_environment(environ,
namespace=..., namespace_file=...)` and `SettingsError` (a startup error: the agent exits 1).
The namespace is the Pod's service-account `namespace` file unless `namespace` overrides it
(`--namespace`, for running the agent outside a Pod).
Called by: `engine.agent.process`, `engine.agent.simulated`.
Must not import: anything else in `engine`.
"""

from __future__ import annotations

import dataclasses
import pathlib
from collections.abc import Callable, Mapping

NAMESPACE_FILE = pathlib.Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
JOBSET_NAME = "JOBSET_NAME"
POD_NAME = "POD_NAME"
WORKER_COMMAND = "WORKER_COMMAND"
STARTUP_PROBE_PATH = "STARTUP_PROBE_PATH"
STARTUP_PROBE_PORT = "STARTUP_PROBE_PORT"
IN_PLACE_RESTART_EXIT_CODE = "IN_PLACE_RESTART_EXIT_CODE"
DEFAULT_PROBE_PATH = "/barrier-is-down"
DEFAULT_PROBE_PORT = 8081
DEFAULT_EXIT_CODE = 1


class SettingsError(Exception):
    """The environment cannot start the agent; the message names the variable or file."""


@dataclasses.dataclass(frozen=True)
class Settings:
    """Everything the agent needs: whose JobSet, which Pod, and which mode."""

    namespace: str
    jobset: str
    pod: str
    worker_command: str | None = None
    probe_path: str = DEFAULT_PROBE_PATH
    probe_port: int = DEFAULT_PROBE_PORT
    restart_exit_code: int = DEFAULT_EXIT_CODE

    @property
    def sidecar(self) -> bool:
        """Sidecar mode (no WORKER_COMMAND): lifting the barrier starts the startup-probe server."""
        return self.worker_command is None


def from_environment(environ: Mapping[str, str], *, namespace: str | None = None,
                     namespace_file: pathlib.Path = NAMESPACE_FILE) -> Settings:
    """Settings from the agent's environment; an empty variable counts as unset."""
    def value(name: str) -> str | None:
        return environ.get(name) or None

    worker = value(WORKER_COMMAND)
    if worker is not None and (value(STARTUP_PROBE_PATH) or value(STARTUP_PROBE_PORT)):
        raise SettingsError(f"{WORKER_COMMAND} cannot be set with {STARTUP_PROBE_PATH} or {STARTUP_PROBE_PORT}")
    return Settings(namespace=namespace or _namespace(namespace_file), jobset=_required(value, JOBSET_NAME),
                    pod=_required(value, POD_NAME), worker_command=worker,
                    probe_path=value(STARTUP_PROBE_PATH) or DEFAULT_PROBE_PATH,
                    probe_port=_integer(value(STARTUP_PROBE_PORT), STARTUP_PROBE_PORT, DEFAULT_PROBE_PORT,
                                        low=1, high=65535),
                    restart_exit_code=_integer(value(IN_PLACE_RESTART_EXIT_CODE), IN_PLACE_RESTART_EXIT_CODE,
                                               DEFAULT_EXIT_CODE, low=0, high=255))


def _namespace(path: pathlib.Path) -> str:
    try:
        found = path.read_text().strip()
    except OSError as error:
        raise SettingsError(f"cannot read the namespace file {path} ({error.strerror}); is the service-account "
                            "token mounted (automountServiceAccountToken)? Outside a Pod pass --namespace") from None
    if not found:
        raise SettingsError(f"the namespace file {path} is empty")
    return found


def _required(value: Callable[[str], str | None], name: str) -> str:
    found = value(name)
    if found is None:
        raise SettingsError(f"environment variable {name} must be set")
    return found


def _integer(text: str | None, name: str, default: int, *, low: int, high: int) -> int:
    if text is None:
        return default
    try:
        number = int(text.strip())
    except ValueError:
        raise SettingsError(f"environment variable {name}={text!r} is not an integer") from None
    if not low <= number <= high:
        raise SettingsError(f"environment variable {name}={number} is outside {low}..{high}")
    return number
