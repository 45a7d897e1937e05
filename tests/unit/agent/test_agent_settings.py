"""The in-place restart agent's environment and its startup errors (spec §11.2)."""

from __future__ import annotations

import pathlib

import pytest

from engine.agent import settings

BASE = {"JOBSET_NAME": "js", "POD_NAME": "js-rj-0-0-abcde"}


def _namespace_file(tmp_path: pathlib.Path, text: str = "team-a\n") -> pathlib.Path:
    path = tmp_path / "namespace"
    path.write_text(text)
    return path


def test_section_11_2_sidecar_mode_defaults(tmp_path: pathlib.Path) -> None:
    """§11.2: without WORKER_COMMAND the agent serves /barrier-is-down on 8081; restart code 1."""
    found = settings.from_environment(BASE, namespace_file=_namespace_file(tmp_path))
    assert found == settings.Settings(namespace="team-a", jobset="js", pod="js-rj-0-0-abcde")
    assert found.sidecar and (found.probe_path, found.probe_port, found.restart_exit_code) == ("/barrier-is-down", 8081, 1)


def test_section_11_2_main_mode_and_explicit_values(tmp_path: pathlib.Path) -> None:
    found = settings.from_environment({**BASE, "WORKER_COMMAND": "train.sh", "IN_PLACE_RESTART_EXIT_CODE": "42"},
                                      namespace_file=_namespace_file(tmp_path))
    assert not found.sidecar and found.worker_command == "train.sh" and found.restart_exit_code == 42
    probe = settings.from_environment({**BASE, "STARTUP_PROBE_PATH": "/ok", "STARTUP_PROBE_PORT": "9000"},
                                      namespace_file=_namespace_file(tmp_path))
    assert (probe.probe_path, probe.probe_port) == ("/ok", 9000)


def test_namespace_override_skips_the_service_account_file(tmp_path: pathlib.Path) -> None:
    found = settings.from_environment(BASE, namespace="other", namespace_file=tmp_path / "absent")
    assert found.namespace == "other"


@pytest.mark.parametrize(("environ", "message"), [
    ({"POD_NAME": "p"}, "JOBSET_NAME must be set"),
    ({"JOBSET_NAME": "js", "POD_NAME": ""}, "POD_NAME must be set"),
    ({**BASE, "WORKER_COMMAND": "w", "STARTUP_PROBE_PATH": "/x"}, "cannot be set with"),
    ({**BASE, "WORKER_COMMAND": "w", "STARTUP_PROBE_PORT": "1"}, "cannot be set with"),
    ({**BASE, "IN_PLACE_RESTART_EXIT_CODE": "one"}, "IN_PLACE_RESTART_EXIT_CODE='one' is not an integer"),
    ({**BASE, "STARTUP_PROBE_PORT": "http"}, "STARTUP_PROBE_PORT='http' is not an integer"),
    ({**BASE, "STARTUP_PROBE_PORT": "70000"}, "outside 1..65535"),
])
def test_section_11_2_startup_errors_name_the_variable(tmp_path: pathlib.Path, environ: dict[str, str],
                                                       message: str) -> None:
    """§11.2: missing names, WORKER_COMMAND with a probe variable and a non-integer code are startup errors."""
    with pytest.raises(settings.SettingsError, match=message):
        settings.from_environment(environ, namespace_file=_namespace_file(tmp_path))


def test_section_11_2_missing_namespace_file_is_a_startup_error(tmp_path: pathlib.Path) -> None:
    with pytest.raises(settings.SettingsError, match=r"cannot read the namespace file .*--namespace"):
        settings.from_environment(BASE, namespace_file=tmp_path / "absent")
