"""The planner's packs pass their own data tests on both CEL backends (docs/rule-packs.md §5)."""

from __future__ import annotations

import pathlib

import pytest

from engine.cel import backends
from engine.rules import testing

RULES = pathlib.Path(__file__).resolve().parents[3] / "rules"
PACKS = ("jobset-failure", "jobset-success", "jobset-startup", "jobset-status")


@pytest.mark.parametrize("backend", backends.available_backends())
def test_planner_packs_pass_their_data_tests(backend: str) -> None:
    report = testing.run_tests([RULES / name for name in PACKS], backends.get_backend(backend))
    failed = [f"{case.file}:{case.line} {case.name}: {case.differences}" for case in report.cases if not case.passed]
    assert report.problems == () and failed == []
    assert {case.pack for case in report.cases} == set(PACKS)
