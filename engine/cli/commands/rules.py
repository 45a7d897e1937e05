"""`jobset rules lint [PATH...]` and `jobset rules test [PATH...]`: rule packs, checked offline.

PATH is a pack directory, a directory of packs, or a pack.yaml; it defaults to the built-in
`rules/` directory. Text output is one line per finding, `FILE:LINE:COL: message [pack/rule]`;
`-o json` prints one JSON document. Exit 0 all good, 1 findings or failed tests, 2 unreadable
input or usage.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
from typing import Any

from engine.cel import backends as cel_backends
from engine.rules import linting, loading, problems, testing


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `rules lint` and `rules test` to the command line."""
    parser = subparsers.add_parser("rules", help="lint and test rule packs offline")
    actions = parser.add_subparsers(dest="rules_command", required=True)
    for name, handler, text in [("lint", run_lint, "check packs: schema, CEL, names, rules that cannot fire"),
                                ("test", run_test, "run each pack's tests/*.yaml strictly")]:
        sub = actions.add_parser(name, help=text)
        sub.add_argument("paths", nargs="*", type=pathlib.Path, metavar="PATH",
                         help="pack directory, directory of packs, or pack.yaml (default: the built-in rules/)")
        sub.add_argument("-o", "--output", choices=("text", "json"), default="text")
        sub.add_argument("--backend", choices=cel_backends.available_backends(), default=None,
                         help="CEL backend (default: $JOBSET_CEL_BACKEND or celexpr)")
        sub.set_defaults(handler=handler)


def run_lint(args: argparse.Namespace) -> int:
    """Lint the packs; print findings; return the exit code."""
    try:
        report = linting.lint(_paths(args), cel_backends.get_backend(args.backend))
    except linting.PathError as error:
        print(f"jobset rules lint: {error}", file=sys.stderr)
        return 2
    if args.output == "json":
        _print_json({"packs": [str(c.directory) for c in report.packs],
                     "problems": [p.to_json() for p in report.problems]})
    else:
        _print_problems(report.problems)
    print(f"{len(report.packs)} pack(s) linted, {len(report.problems)} finding(s)", file=sys.stderr)
    return 1 if report.problems else 0


def run_test(args: argparse.Namespace) -> int:
    """Run the packs' tests; print failures and problems; return the exit code."""
    try:
        report = testing.run_tests(_paths(args), cel_backends.get_backend(args.backend))
    except linting.PathError as error:
        print(f"jobset rules test: {error}", file=sys.stderr)
        return 2
    failed = [case for case in report.cases if not case.passed]
    if args.output == "json":
        _print_json({"cases": [_case_json(case) for case in report.cases],
                     "problems": [p.to_json() for p in report.problems]})
    else:
        for case in failed:
            print(f"{case.file}:{case.line}: FAIL {case.name} [{case.pack}]")
            for difference in case.differences:
                print("    " + difference.replace("\n", "\n    "))
        _print_problems(report.problems)
    print(f"{len(report.cases)} case(s): {len(report.cases) - len(failed)} passed, {len(failed)} failed; "
          f"{len(report.problems)} problem(s)", file=sys.stderr)
    return 0 if report.ok else 1


def _paths(args: argparse.Namespace) -> list[pathlib.Path]:
    return list(args.paths) or [loading.builtin_directory()]


def _print_problems(found: tuple[problems.Problem, ...]) -> None:
    for problem in found:
        print(problem)


def _case_json(case: testing.CaseResult) -> dict[str, Any]:
    return {"pack": case.pack, "file": case.file, "line": case.line, "name": case.name,
            "passed": case.passed, "differences": list(case.differences)}


def _print_json(document: dict[str, Any]) -> None:
    print(json.dumps(document, indent=2))
