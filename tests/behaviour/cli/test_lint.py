"""`jobset lint`: the contract of issue "rules engine ... offline CLI" (exit codes, text and JSON)."""

from __future__ import annotations

import copy
import io
import json
import pathlib
import subprocess
import sys

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.cli import main as cli
from engine.lint import pipeline

ROOT = pathlib.Path(__file__).resolve().parents[3]
EXAMPLES = ROOT.parent / "shared" / "upstream-examples"
NEEDS_GATES = {
    "in-place-restart/jobset-main-container-mode.yaml": "InPlaceRestart",
    "in-place-restart/jobset-sidecar-container-mode.yaml": "InPlaceRestart",
    "failure-policy/restartjob-action.yaml": "RestartJob",
    "failure-policy/restartjobandignoremaxrestarts-action.yaml": "RestartJob",
}

VALID = """\
apiVersion: jobset.x-k8s.io/v1alpha2
kind: JobSet
metadata:
  name: demo
spec:
  replicatedJobs:
  - name: workers
    replicas: 2
    template:
      spec:
        template:
          spec:
            containers:
            - name: main
              image: busybox
"""


def run_cli(capsys: pytest.CaptureFixture[str], *args: str, stdin: str | None = None,
            monkeypatch: pytest.MonkeyPatch | None = None) -> tuple[int, str, str]:
    if stdin is not None and monkeypatch is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = cli.main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def example_files() -> list[pathlib.Path]:
    return sorted(EXAMPLES.rglob("*.yaml"))


@pytest.mark.parametrize("path", example_files(), ids=lambda p: str(p.relative_to(EXAMPLES)))
def test_every_upstream_example_gets_upstreams_verdict(path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Upstream examples are valid; those needing an alpha gate are rejected without it (§4, §6.1 V-1, V-16)."""
    relative = str(path.relative_to(EXAMPLES))
    gate = NEEDS_GATES.get(relative)
    code, out, _ = run_cli(capsys, "lint", str(path))
    if gate:
        assert code == 1
        assert f"{gate} feature gate is disabled" in out
        code, out, _ = run_cli(capsys, "lint", "--feature-gates", f"{gate}=true", str(path))
    assert code == 0, out


def test_invalid_document_is_reported_with_file_line_field_and_rule(tmp_path: pathlib.Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """§6.1 V-8: a groupName that is not a DNS-1035 label, reported at its own line."""
    path = tmp_path / "bad.yaml"
    path.write_text(VALID.replace("    replicas: 2\n", "    replicas: 2\n    groupName: Bad_Group\n"))
    code, out, err = run_cli(capsys, "lint", str(path))
    assert code == 1
    [line] = out.splitlines()
    assert line.startswith(f"{path}:9: spec.replicatedJobs[0].groupName: ")
    assert line.endswith("]") and "[jobset-validation/" in line
    assert "1 invalid" in err


def test_unknown_fields_are_rejected_at_their_line(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "typo.yaml"
    path.write_text(VALID.replace("    replicas: 2\n", "    replicas: 2\n    replica: 3\n"))
    code, out, _ = run_cli(capsys, "lint", str(path))
    assert code == 1
    assert f"{path}:9: spec.replicatedJobs[0].replica: unknown field" in out


def test_schema_errors_stop_before_the_validating_webhook(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    """§5.1 and §6.1 S-1: a negative replica count is a schema error, reported at its field."""
    path = tmp_path / "negative.yaml"
    path.write_text(VALID.replace("replicas: 2", "replicas: -1"))
    code, out, _ = run_cli(capsys, "lint", str(path))
    assert code == 1
    assert f"{path}:8: spec.replicatedJobs[0].replicas:" in out
    assert "[apiserver/schema]" in out


def test_json_output_contract(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "two.yaml"
    bad = VALID.replace("name: demo", "name: Demo")
    path.write_text(VALID + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\n" + bad)
    code, out, err = run_cli(capsys, "lint", "-o", "json", str(path))
    assert code == 1
    entries = json.loads(out)
    assert [(e["index"], e["name"], e["valid"]) for e in entries] == [(0, "demo", True), (2, "Demo", False)]
    assert set(entries[1]) == {"file", "index", "name", "valid", "errors"}
    assert set(entries[1]["errors"][0]) == {"field", "message", "rule"}
    assert entries[1]["errors"][0]["field"] == "metadata.name"
    assert "1 other document(s) skipped" in err


def test_standard_input(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, err = run_cli(capsys, "lint", "-", stdin=VALID, monkeypatch=monkeypatch)
    assert code == 0
    assert "1 JobSet(s) checked: 1 valid" in err


@pytest.mark.parametrize("content, fragment", [
    ("apiVersion: v1\nkind: [unclosed\n", ":3:1: YAML syntax error"),
    ("a: 1\na: 2\n", "duplicate"),
    ("- just\n- a list\n", "not a Kubernetes object"),
])
def test_unreadable_input_exits_2_with_a_position(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str],
                                                  content: str, fragment: str) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(content)
    code, _, err = run_cli(capsys, "lint", str(path))
    assert code == 2
    assert str(path) in err and fragment in err
    assert "Traceback" not in err


def test_missing_file_and_bad_flags_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "lint", "does-not-exist.yaml")
    assert code == 2 and "does-not-exist.yaml" in err
    code, _, err = run_cli(capsys, "lint", "--feature-gates", "RestartJob=maybe", "x.yaml")
    assert code == 2 and "--feature-gates" in err
    with pytest.raises(SystemExit) as exited:
        cli.main(["lint"])
    assert exited.value.code == 2


def test_huge_file_is_refused_cleanly(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "huge.yaml"
    path.write_text(VALID + "    # " + "x" * (6 * 1024 * 1024) + "\n")
    code, _, err = run_cli(capsys, "lint", str(path))
    assert code == 2
    assert str(path) in err and "Traceback" not in err


def test_the_console_script_runs_in_a_fresh_process(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text(VALID)
    done = subprocess.run([sys.executable, "-m", "engine.cli.main", "lint", str(path)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr


# Property test: mutated JobSets never crash the checker.
_CHECKER: list[pipeline.Checker] = []


def checker() -> pipeline.Checker:
    if not _CHECKER:
        _CHECKER.append(pipeline.Checker(feature_gates={}))
    return _CHECKER[0]


def _paths(node: object, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, prefix + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, prefix + (index,))
    return found


_JSON = st.recursive(st.none() | st.booleans() | st.integers(-2**40, 2**40) | st.text(max_size=70)
                     | st.floats(allow_nan=False, allow_infinity=False),
                     lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=12), children, max_size=3),
                     max_leaves=8)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_jobsets_never_crash_lint(data: st.DataObject) -> None:
    base = yaml.safe_load((EXAMPLES / "simple" / "failure-policy.yaml").read_text())
    mutated = copy.deepcopy(base)
    for _ in range(data.draw(st.integers(1, 3))):
        paths = [p for p in _paths(mutated) if p]
        path = data.draw(st.sampled_from(paths))
        parent = mutated
        for part in path[:-1]:
            parent = parent[part]
        if data.draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = data.draw(_JSON)
    verdict = checker().check(mutated)
    assert isinstance(verdict.valid, bool)
    for finding in verdict.findings:
        assert isinstance(finding.field, str) and finding.message and finding.rule
