"""Every built-in pack's data tests (`rules/<pack>/tests/*.yaml`) pass on both CEL backends.

The tests run through `engine.rules.testing`, the production engine behind `jobset rules
test`: strict comparison of patched objects, errors, actions and fired rules, plus a
problem for any rule that no case fires.
"""

import pathlib

import pytest

from engine.cel import backends
from engine.rules import loading, testing

PACKS = sorted(path.parent for path in loading.builtin_directory().glob("*/pack.yaml"))


def test_the_jobset_semantics_packs_are_built_in() -> None:
    """§5.2, §6, §9: defaulting, validation and construction ship as packs."""
    names = {path.name for path in PACKS}
    assert {"jobset-defaults", "jobset-validation", "jobset-construct"} <= names


@pytest.mark.parametrize("backend", backends.available_backends())
@pytest.mark.parametrize("pack", PACKS, ids=[path.name for path in PACKS])
def test_pack_tests_pass(pack: pathlib.Path, backend: str) -> None:
    """The pack's own cases all pass, and every rule of the pack is fired by some case."""
    report = testing.run_tests([pack], backends.get_backend(backend))
    failures = [f"{case.file}:{case.line}: {case.name}\n" + "\n".join(case.differences)
                for case in report.cases if not case.passed]
    assert report.cases, f"{pack.name} has no test case"
    assert not failures, "\n\n".join(failures)
    assert not report.problems, "\n".join(str(problem) for problem in report.problems)
