"""`jobset rules lint` and `jobset rules test`: findings, strict tests, exit codes (§5)."""

from __future__ import annotations

import json
import pathlib
import textwrap
from collections.abc import Callable

import pytest

from engine.cli import main as cli
from engine.rules import evaluating, loading
from rules_fixtures import backend, write_pack  # noqa: F401  (pytest fixtures)

ROOT = pathlib.Path(__file__).resolve().parents[3]
WritePack = Callable[..., pathlib.Path]

PACK = """\
phase: validate
inputs: [{name: object, required: true}]
rules:
  - name: short-name
    assert: "object.metadata.name.size() < 5"
    field: metadata.name
    message: name too long
  - name: has-spec
    assert: "has(object.spec)"
    reason: Required
    field: spec
    message: spec is required
"""

TESTS = """\
apiVersion: rules.jobset.x-k8s.io/v1alpha1
kind: RulePackTest
metadata: {name: basic}
cases:
  - name: a long name is refused
    inputs: {object: {metadata: {name: toolong}, spec: {}}}
    expect:
      errors: [{field: metadata.name, rule: short-name, messageContains: too long}]
      fired: [short-name]
  - name: spec is required
    inputs: {object: {metadata: {name: ok}}}
    expect:
      errors: [{field: spec, reason: Required, message: spec is required}]
"""


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(["rules", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def with_tests(directory: pathlib.Path, text: str = TESTS, name: str = "basic.yaml") -> pathlib.Path:
    (directory / "tests").mkdir(exist_ok=True)
    (directory / "tests" / name).write_text(textwrap.dedent(text))
    return directory


def test_lint_of_a_clean_pack_exits_0(capsys: pytest.CaptureFixture[str], write_pack: WritePack) -> None:
    code, out, err = run(capsys, "lint", str(write_pack("p", PACK)))
    assert (code, out) == (0, "")
    assert "1 pack(s) linted, 0 finding(s)" in err


def test_lint_reports_findings_as_file_line_col_lines(capsys: pytest.CaptureFixture[str], write_pack: WritePack) -> None:
    directory = write_pack("p", """\
phase: validate
inputs: [{name: object}]
rules:
  - {name: never, when: "1 > 2", assert: "object != null", message: m}
  - {name: always, assert: "true || false", message: m}
  - {name: silent, assert: "object.x == 1"}
  - {name: broken, assert: "object.x ==", message: m}
""")
    code, out, _ = run(capsys, "lint", str(directory))
    lines = [line.split("/p/", 1)[1] for line in out.splitlines()]
    assert code == 1
    assert lines[0] == "pack.yaml:11:21: spec.rules[0].when: rule can never fire: 'when' is always false [p/never]"
    assert lines[1] == "pack.yaml:12:22: spec.rules[1].assert: rule can never fire: 'assert' is always true [p/always]"
    assert lines[2] == "pack.yaml:13:22: spec.rules[2].assert: validation rule has no message or messageExpression [p/silent]"
    assert lines[3].startswith("pack.yaml:14:") and "[p/broken]" in lines[3]


def test_lint_json_and_duplicate_pack_names(capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path,
                                            write_pack: WritePack) -> None:
    first = write_pack("p", PACK, root=tmp_path / "one")
    second = write_pack("p", PACK, root=tmp_path / "two")
    code, out, _ = run(capsys, "lint", "-o", "json", str(first), str(second))
    document = json.loads(out)
    assert code == 1 and len(document["packs"]) == 2
    assert [p["message"] for p in document["problems"]] == [f"pack name 'p' is also used by {first / 'pack.yaml'}"]
    assert document["problems"][0]["line"] == 4


def test_bad_paths_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path) -> None:
    assert run(capsys, "lint", str(tmp_path / "missing"))[0] == 2
    assert "no pack.yaml here" in run(capsys, "test", str(tmp_path))[2]


def test_passing_tests_exit_0(capsys: pytest.CaptureFixture[str], write_pack: WritePack) -> None:
    code, _, err = run(capsys, "test", str(with_tests(write_pack("p", PACK))))
    assert code == 0, err
    assert "2 case(s): 2 passed, 0 failed; 0 problem(s)" in err


def test_a_differing_case_fails_with_a_readable_diff(capsys: pytest.CaptureFixture[str], write_pack: WritePack) -> None:
    directory = with_tests(write_pack("p", PACK), TESTS.replace("messageContains: too long", "messageContains: short"))
    code, out, _ = run(capsys, "test", str(directory))
    assert code == 1
    assert "tests/basic.yaml:5: FAIL a long name is refused [p]" in out
    assert 'expected error not produced: {"field": "metadata.name", "messageContains": "short", "rule": "short-name"}' in out
    assert 'unexpected error: {"field": "metadata.name", "message": "name too long", "reason": "Invalid", "rule": "short-name"}' in out


def test_unexpected_errors_fail_even_when_not_listed(capsys: pytest.CaptureFixture[str], write_pack: WritePack) -> None:
    directory = with_tests(write_pack("p", PACK), TESTS.replace(
        "      errors: [{field: spec, reason: Required, message: spec is required}]\n", "      fired: [has-spec]\n"))
    code, out, _ = run(capsys, "test", str(directory))
    assert code == 1 and "FAIL spec is required" in out and "unexpected error" in out


def test_object_and_fired_expectations_are_exact(capsys: pytest.CaptureFixture[str], write_pack: WritePack) -> None:
    directory = with_tests(write_pack("d", """\
phase: default
inputs: [{name: object, required: true}]
rules:
  - {name: label, patch: [{op: add, path: /metadata/labels/a, value: "1"}]}
"""), """\
apiVersion: rules.jobset.x-k8s.io/v1alpha1
kind: RulePackTest
metadata: {name: d}
cases:
  - name: labelled
    inputs: {object: {metadata: {}}}
    expect:
      object: {metadata: {labels: {a: "2"}}}
      fired: [label, other]
""")
    code, out, _ = run(capsys, "test", str(directory))
    assert code == 1
    assert '-      "a": "2"' in out and '+      "a": "1"' in out
    assert "fired: expected ['label', 'other'], got ['label']" in out


def test_unfired_rules_and_files_that_fire_nothing_fail_the_run(capsys: pytest.CaptureFixture[str],
                                                               write_pack: WritePack) -> None:
    directory = with_tests(write_pack("p", PACK), """\
apiVersion: rules.jobset.x-k8s.io/v1alpha1
kind: RulePackTest
metadata: {name: quiet}
cases:
  - name: everything fine
    inputs: {object: {metadata: {name: ok}, spec: {}}}
    expect: {errors: []}
""")
    code, out, _ = run(capsys, "test", str(directory))
    assert code == 1
    assert "tests/basic.yaml:4:1: cases: no case in this file fires any rule of the pack [p]" in out
    assert "spec.rules[0]: no test case fires this rule [p/short-name]" in out
    assert "spec.rules[1]: no test case fires this rule [p/has-spec]" in out


def test_bad_test_files_and_missing_inputs_are_reported(capsys: pytest.CaptureFixture[str],
                                                        write_pack: WritePack) -> None:
    directory = with_tests(write_pack("p", PACK))
    with_tests(directory, "apiVersion: rules.jobset.x-k8s.io/v1alpha1\nkind: RulePackTest\nmetadata: {name: x}\n"
                          "cases:\n  - name: c\n    inputs: {}\n    expect: {errors: []}\n    extra: 1\n", "bad.yaml")
    with_tests(directory, TESTS.replace("inputs: {object: {metadata: {name: ok}}}", "inputs: {}"), "missing.yaml")
    code, out, _ = run(capsys, "test", str(directory))
    assert code == 1
    assert "tests/bad.yaml:8:5: cases[0].extra: unknown field 'extra'" in out
    assert "FAIL spec is required [p]" in out and "needs input(s): object" in out


def test_a_pack_without_tests_is_a_problem(capsys: pytest.CaptureFixture[str], write_pack: WritePack) -> None:
    code, out, _ = run(capsys, "test", str(write_pack("p", PACK)))
    assert code == 1 and "pack has no tests/*.yaml [p]" in out


def test_the_operator_example_pack_passes_its_tests(capsys: pytest.CaptureFixture[str], backend: object) -> None:
    """docs/rule-packs.md §6: the worked example ships with passing tests, on every backend."""
    code, _, err = run(capsys, "test", "--backend", getattr(backend, "name"), str(ROOT / "examples" / "operator-pack"))
    assert code == 0, err
    assert run(capsys, "lint", str(ROOT / "examples" / "operator-pack"))[0] == 0


def test_path_defaults_to_the_builtin_rules(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "lint")
    count = len(loading.pack_dirs(loading.builtin_directory()))
    assert f"{count} pack(s) linted" in err and code in (0, 1)


def test_cases_run_without_the_wall_clock_budget(capsys: pytest.CaptureFixture[str], write_pack: WritePack,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A verdict must not depend on machine load: every clock reading here is 10 ms later."""
    readings = iter(range(0, 10**9, 10))
    monkeypatch.setattr(evaluating.time, "perf_counter", lambda: next(readings) / 1000)
    directory = with_tests(write_pack("p", PACK.replace("rules:\n", "budget: {milliseconds: 1}\nrules:\n", 1)))
    code, _, err = run(capsys, "test", str(directory))
    assert code == 0, err


def test_a_case_with_an_undeclared_input_fails(capsys: pytest.CaptureFixture[str], write_pack: WritePack) -> None:
    """A misspelt input would otherwise be null and the case could pass for the wrong reason."""
    directory = with_tests(write_pack("p", PACK), TESTS.replace("inputs: {object: {metadata: {name: ok}}}",
                                                                "inputs: {object: {metadata: {name: ok}}, objekt: {}}"))
    code, out, _ = run(capsys, "test", str(directory))
    assert code == 1 and "unknown input(s) objekt; the pack declares object" in out
