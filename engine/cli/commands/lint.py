"""`jobset lint FILE... [-o text|json] [--feature-gates A=true,B=false] [--rules-dir DIR]`.

Each JobSet document goes through the CREATE admission path a cluster would apply
(engine.lint.pipeline). Exit 0 when all are valid, 1 when any is invalid, 2 for
unreadable input or usage errors.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys

from engine.kube import featuregates
from engine.lint import pipeline, report
from engine.sources import yaml as yamlsource


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `lint` to the command line."""
    parser = subparsers.add_parser("lint", help="check JobSet manifests as the API server and webhooks would")
    parser.add_argument("files", nargs="+", metavar="FILE", help="YAML files; - reads standard input")
    parser.add_argument("-o", "--output", choices=("text", "json"), default="text")
    parser.add_argument("--feature-gates", default="", metavar="A=true,B=false",
                        help="feature gates by upstream name (InPlaceRestart, RestartJob, ElasticJobSet)")
    parser.add_argument("--rules-dir", action="append", default=[], type=pathlib.Path,
                        help="extra rule-pack directory (repeatable); loaded after the built-in packs")
    parser.set_defaults(handler=run)


def parse_feature_gates(text: str) -> dict[str, bool]:
    """'A=true,B=false' -> {'A': True, 'B': False}; raises FeatureGateError on bad input."""
    settings: dict[str, bool] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, value = item.partition("=")
        if not sep or value.lower() not in ("true", "false"):
            raise featuregates.FeatureGateError(f"--feature-gates: expected NAME=true|false, got {item!r}")
        settings[name.strip()] = value.lower() == "true"
    return dict(featuregates.build(settings).values)


def run(args: argparse.Namespace) -> int:
    """Lint every file; print verdicts; return the exit code."""
    try:
        gates = parse_feature_gates(args.feature_gates)
        checker = pipeline.Checker(feature_gates=gates, rules_dirs=args.rules_dir)
    except (featuregates.FeatureGateError, pipeline.ConfigurationError) as error:
        print(f"jobset lint: {error}", file=sys.stderr)
        return 2
    tally = report.Tally()
    for filename in args.files:
        _lint_file(filename, checker, tally)
    if args.output == "json":
        print(json.dumps([report.json_entry(item) for item in tally.checked], indent=2))
    else:
        for item in tally.checked:
            for line in report.text_lines(item):
                print(line)
    print(f"{len(tally.checked)} JobSet(s) checked: {len(tally.checked) - tally.invalid} valid, "
          f"{tally.invalid} invalid; {tally.skipped} other document(s) skipped", file=sys.stderr)
    if tally.unreadable:
        return 2
    return 1 if tally.invalid else 0


def _lint_file(filename: str, checker: pipeline.Checker, tally: report.Tally) -> None:
    try:
        documents = report.read(filename)
    except (yamlsource.SourceError, OSError) as error:
        print(f"{error}" if isinstance(error, yamlsource.SourceError) else f"{filename}: {error.strerror}",
              file=sys.stderr)
        tally.unreadable += 1
        return
    for document in documents:
        problem = report.describe_kind(document)
        if problem in ("empty", "other kind"):
            tally.skipped += 1
            continue
        if problem is not None:
            print(f"{document.filename}:{document.locate(())[0]}: document {document.index}: {problem}",
                  file=sys.stderr)
            tally.unreadable += 1
            continue
        wrong_version = report.version_finding(document.data)
        if wrong_version is not None:
            verdict = pipeline.Verdict(str(document.data.get("metadata", {}).get("name", "")),
                                       (wrong_version,), document.data, ())
        else:
            verdict = checker.check(document.data)
        tally.checked.append(report.Checked(document, verdict))
