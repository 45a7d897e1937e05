"""`jobset rules test`: run each pack's `tests/*.yaml` through the production engine, strictly.

Owns: `CaseResult`, `TestReport`, `run_tests(paths, backend)`. A case passes only when every
expectation holds: `object` (the whole patched subject), `errors` (exactly these, in any
order; absent means none: an unexpected error always fails), `actions` (exactly these, in
order), `fired` (exactly these rules); other absent keys are not checked. Failures carry a
readable diff. A case giving an input the pack does not declare fails; a test file none of
whose cases fires a rule is a problem, and so is every rule that no case fired. Cases run
without the wall-clock budget, so a verdict never depends on how busy the machine is.
Called by: `engine.cli.commands.rules`.
Must not import: `kube`, `localcluster`, `planner`, `model`, `webhook`.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import pathlib
from collections.abc import Sequence
from typing import Any

from engine.cel import evaluator
from engine.rules import compiling, decisions, documents, evaluating, linting, problems
from engine.sources import yaml as sources_yaml

TESTS_DIR = "tests"


@dataclasses.dataclass(frozen=True)
class CaseResult:
    """One case: where it is, and what differed (empty when it passed)."""

    pack: str
    file: str
    line: int
    name: str
    differences: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.differences


@dataclasses.dataclass(frozen=True)
class TestReport:
    cases: tuple[CaseResult, ...]
    problems: tuple[problems.Problem, ...]  # load errors, empty files, rules never fired

    @property
    def ok(self) -> bool:
        return not self.problems and all(case.passed for case in self.cases)


def run_tests(paths: Sequence[pathlib.Path], backend: evaluator.Backend) -> TestReport:
    """Run the tests of every pack under `paths`; raises linting.PathError for a bad path."""
    cases: list[CaseResult] = []
    found: list[problems.Problem] = []
    for directory in linting.resolve(paths):
        checked = linting.check(directory, backend)
        found += checked.problems
        if checked.compiled is not None:
            pack_cases, pack_problems = _run_pack(checked.compiled)
            cases += pack_cases
            found += pack_problems
    return TestReport(tuple(cases), tuple(found))


def _run_pack(compiled: compiling.CompiledPack) -> tuple[list[CaseResult], list[problems.Problem]]:
    pack = compiled.pack
    files = sorted((pack.directory / TESTS_DIR).glob("*.yaml"))
    if not files:
        return [], [documents.problem(pack.source, (), f"pack has no {TESTS_DIR}/*.yaml", pack=pack.name)]
    results: list[CaseResult] = []
    found: list[problems.Problem] = []
    fired_in_pack: set[str] = set()
    for path in files:
        for test_file, file_problems in _read_tests(path):
            found += file_problems
            if test_file is None:
                continue
            fired_in_file: set[str] = set()
            for case in test_file.cases:
                result, fired = _run_case(compiled, test_file, case)
                results.append(result)
                fired_in_file |= fired
            if not fired_in_file:
                found.append(documents.problem(test_file.source, ("cases",),
                                               "no case in this file fires any rule of the pack", pack=pack.name))
            fired_in_pack |= fired_in_file
    found += [documents.problem(pack.source, rule.where, "no test case fires this rule", pack=pack.name, rule=rule.name)
              for rule in pack.rules if rule.name not in fired_in_pack]
    return results, found


def _read_tests(path: pathlib.Path) -> list[tuple[documents.TestFile | None, list[problems.Problem]]]:
    try:
        loaded = sources_yaml.load_file(path)
    except sources_yaml.SourceError as error:
        return [(None, [problems.Problem(error.filename, error.line, error.column, error.message)])]
    if not loaded:
        return [(None, [problems.Problem(str(path), 1, 1, "test file is empty")])]
    return [documents.read_test(document) for document in loaded]


def _run_case(compiled: compiling.CompiledPack, test_file: documents.TestFile,
              case: documents.TestCase) -> tuple[CaseResult, set[str]]:
    line, _ = test_file.source.locate(("cases", case.index))
    def result(differences: list[str]) -> CaseResult:
        return CaseResult(compiled.pack.name, test_file.source.filename, line, case.name, tuple(differences))
    declared = [i.name for i in compiled.pack.inputs]
    unknown = sorted(set(case.inputs) - set(declared))
    if unknown:  # a misspelt input would silently be null
        return result([f"unknown input(s) {', '.join(unknown)}; the pack declares {', '.join(declared)}"]), set()
    try:
        outcome = evaluating.evaluate(compiled, case.inputs, enforce_budget=False)
    except evaluating.MissingInputError as error:
        return result([str(error)]), set()
    fired = {origin.rsplit("/", 1)[-1] for origin in outcome.fired}
    return result(compare(case.expect, outcome)), fired


def compare(expect: documents.Expectation, outcome: decisions.Result) -> list[str]:
    """Every way `outcome` differs from `expect`, as readable text."""
    differences: list[str] = []
    if expect.checks_object and expect.object != outcome.subject:
        differences.append("object differs (- expected, + actual):\n" + _diff(expect.object, outcome.subject))
    differences += _compare_errors(expect.errors or (), outcome.errors)
    if expect.actions is not None:
        differences += _compare_actions(expect.actions, outcome.actions)
    if expect.fired is not None:
        actual = sorted({origin.rsplit("/", 1)[-1] for origin in outcome.fired})
        if sorted(set(expect.fired)) != actual:
            differences.append(f"fired: expected {sorted(set(expect.fired))}, got {actual}")
    return differences


def _compare_errors(expected: Sequence[dict[str, Any]], actual: Sequence[decisions.FieldError]) -> list[str]:
    unmatched = list(actual)
    missing = []
    for wanted in sorted(expected, key=lambda w: -len(w)):  # most specific first
        match = next((error for error in unmatched if _error_matches(wanted, error)), None)
        if match is None:
            missing.append(wanted)
        else:
            unmatched.remove(match)
    lines = [f"expected error not produced: {json.dumps(w, sort_keys=True)}" for w in missing]
    lines += [f"unexpected error: {json.dumps(dict(e.to_json(), rule=_rule(e.origin)), sort_keys=True)}"
              for e in unmatched]
    return lines


def _error_matches(wanted: dict[str, Any], error: decisions.FieldError) -> bool:
    return (wanted["field"] == error.field
            and wanted.get("rule", _rule(error.origin)) == _rule(error.origin)
            and wanted.get("reason", error.reason) == error.reason
            and wanted.get("message", error.message) == error.message
            and wanted.get("messageContains", "") in error.message)


def _compare_actions(expected: Sequence[dict[str, Any]], actual: Sequence[decisions.Action]) -> list[str]:
    """Actions in order: the type, and params (exactly) and rule where the case gives them."""
    with_rule = any("rule" in wanted for wanted in expected)
    shown = [{"type": a.type, "params": a.params} | ({"rule": _rule(a.origin)} if with_rule else {})
             for a in actual]
    wanted = [dict(w) for w in expected]
    projected = [{key: value for key, value in s.items() if key in w} for w, s in zip(wanted, shown)]
    if len(wanted) == len(shown) and wanted == projected:
        return []
    return ["actions differ (- expected, + actual):\n" + _diff(wanted, shown)]


def _rule(origin: str) -> str:
    return origin.rsplit("/", 1)[-1]


def _diff(expected: Any, actual: Any) -> str:
    left = json.dumps(expected, indent=2, sort_keys=True).splitlines()
    right = json.dumps(actual, indent=2, sort_keys=True).splitlines()
    return "\n".join(difflib.unified_diff(left, right, "expected", "actual", lineterm="", n=2))
