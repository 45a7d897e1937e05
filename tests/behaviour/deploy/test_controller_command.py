"""`jobset controller` refuses unusable input with exit code 2 and a message naming it (spec §14.1, §14.2).

A running controller is covered by test_controller_rbac; the image that runs it by the checks below
on deploy/Dockerfile (no Docker engine here to build it).
"""

from __future__ import annotations

import pathlib
import re
from typing import Any

import pytest

import deployharness as harness
from engine.cli import main
from engine.rules import documents, loading


@pytest.fixture
def controller(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    """`jobset controller ARGS` in this process, outside any cluster: (exit code, stderr)."""
    for variable in ("KUBECONFIG", "KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT"):
        monkeypatch.delenv(variable, raising=False)

    def run(*args: str) -> tuple[int, str]:
        code = main.main(["controller", *args])
        return code, capsys.readouterr().err
    return run


def test_an_unknown_configuration_field_exits_2_naming_file_and_field(controller: Any, tmp_path: pathlib.Path) -> None:
    """§14.1: strict decoding; the error mentions `unknown field "invalidField"`."""
    config = tmp_path / "config.yaml"
    config.write_text("apiVersion: config.jobset.x-k8s.io/v1alpha1\nkind: Configuration\n"
                      "leaderElection:\n  invalidField: true\n")
    code, stderr = controller("--config", str(config))
    assert code == 2
    assert str(config) in stderr and 'leaderElection.invalidField: unknown field "invalidField"' in stderr


def test_an_invalid_bind_address_exits_2_naming_the_field(controller: Any) -> None:
    code, stderr = controller("--metrics-bind-address", "nowhere")
    assert code == 2
    assert "metrics.bindAddress: invalid bind address 'nowhere'" in stderr


def test_outside_a_cluster_without_kubeconfig_it_exits_2_with_a_hint(controller: Any) -> None:
    code, stderr = controller()
    assert code == 2
    assert "in-cluster configuration" in stderr and "--kubeconfig" in stderr


def test_a_missing_kubeconfig_exits_2_naming_it(controller: Any, tmp_path: pathlib.Path) -> None:
    missing = tmp_path / "absent.kubeconfig"
    code, stderr = controller("--kubeconfig", str(missing))
    assert code == 2
    assert str(missing) in stderr


def test_the_image_holds_what_the_controller_reads_at_run_time(docs: list[dict[str, Any]]) -> None:
    """The Dockerfile copies the built-in packs and schemas the engine finds beside `engine/`, runs as
    a non-root user, and its entrypoint is the Deployment's command."""
    dockerfile = (harness.DEPLOY / "Dockerfile").read_text()
    copied = set(re.findall(r"^COPY (\S+) ", dockerfile, flags=re.MULTILINE))
    needed = {path.relative_to(harness.ROOT).as_posix()
              for path in (loading.builtin_directory(), documents.SCHEMAS, harness.ROOT / "engine")}
    assert needed <= copied, f"not copied: {needed - copied}"
    ignore = (harness.DEPLOY / "Dockerfile.dockerignore").read_text()
    assert all(f"!{path}/**" in ignore for path in needed)
    user = re.findall(r"^USER (\d+)", dockerfile, flags=re.MULTILINE)
    assert user and user[-1] != "0"
    entrypoint = re.search(r"^ENTRYPOINT (.+)$", dockerfile, flags=re.MULTILINE)
    assert entrypoint and entrypoint.group(1) == '["jobset", "controller"]'
    pod = harness.find(docs, "Deployment")["spec"]["template"]["spec"]
    assert pod["containers"][0]["command"] == ["jobset", "controller"]
    assert str(pod["containers"][0]["securityContext"]["runAsUser"]) == user[-1].split(":")[0]
