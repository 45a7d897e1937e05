"""`jobset render FILE [-o yaml|json] [--feature-gates ...] [--rules-dir DIR]`.

Prints each JobSet of FILE as it would be stored (defaulted), then every object the
controller creates for it at restart attempt 0, in creation order (spec §8 steps 11, 12,
14): the headless Service, the PVCs, then the Jobs in replicated-job and index order.
Startup gating (InOrder, dependsOn) delays some of those creations on a cluster; render
shows them all. Objects come from the same construct packs the controller uses.
Exit codes as `jobset lint`: 1 when a JobSet is invalid (nothing rendered for it).
Keys are printed sorted, as `kubectl get -o yaml` prints them: maps built by CEL have no
order of their own (cel-cpp's changes from process to process), so the output of two runs
can be compared line by line.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import yaml

from engine.cli.commands import lint as lint_command
from engine.kube import featuregates
from engine.lint import pipeline, report
from engine.planner import construction, packs
from engine.sources import yaml as yamlsource

DEFAULT_NAMESPACE = "default"


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `render` to the command line."""
    parser = subparsers.add_parser("render", help="print a JobSet as stored and the objects the controller creates")
    parser.add_argument("file", metavar="FILE", help="YAML file; - reads standard input")
    parser.add_argument("-o", "--output", choices=("yaml", "json"), default="yaml")
    parser.add_argument("--feature-gates", default="", metavar="A=true,B=false")
    parser.add_argument("--rules-dir", action="append", default=[], type=pathlib.Path)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Render every JobSet document of the file."""
    try:
        gates = lint_command.parse_feature_gates(args.feature_gates)
        checker = pipeline.Checker(feature_gates=gates, rules_dirs=args.rules_dir)
        documents = report.read(args.file)
    except (featuregates.FeatureGateError, pipeline.ConfigurationError, yamlsource.SourceError) as error:
        print(f"jobset render: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"jobset render: {args.file}: {error.strerror}", file=sys.stderr)
        return 2
    decision_packs = packs.RegistryPacks(checker.packs)
    rendered: list[dict[str, Any]] = []
    invalid = False
    for document in documents:
        if report.describe_kind(document) is not None:
            continue
        verdict = (pipeline.Verdict("", (finding,), document.data, ())
                   if (finding := report.version_finding(document.data)) else checker.check(document.data))
        if not verdict.valid:
            invalid = True
            for line in report.text_lines(report.Checked(document, verdict)):
                print(line, file=sys.stderr)
            continue
        rendered.extend(children(decision_packs, stored(verdict.defaulted), gates))
    _print(rendered, args.output)
    return 1 if invalid else 0


def stored(jobset: dict[str, Any]) -> dict[str, Any]:
    """The JobSet as the API server would store it: namespace, a stable stand-in UID, empty status."""
    metadata = dict(jobset.get("metadata") or {})
    metadata.setdefault("namespace", DEFAULT_NAMESPACE)
    if not metadata.get("name"):
        metadata["name"] = str(metadata.get("generateName", "jobset-"))[:58] + "xxxxx"
    metadata.setdefault("uid", str(uuid.uuid5(uuid.NAMESPACE_URL, f"jobset/{metadata['namespace']}/{metadata['name']}")))
    return {**jobset, "metadata": metadata}


def children(decision_packs: packs.Packs, jobset: dict[str, Any], gates: dict[str, bool]) -> Iterator[dict[str, Any]]:
    """The JobSet, then its Service, PVCs and Jobs in creation order."""
    yield jobset
    spec = jobset.get("spec") or {}
    network = spec.get("network")
    if network and network.get("enableDNSHostnames"):
        yield construction.service(decision_packs, jobset)
    for p, policy in enumerate(spec.get("volumeClaimPolicies") or []):
        for t, _ in enumerate(policy.get("templates") or []):
            yield construction.pvc(decision_packs, jobset, policy_index=p, template_index=t)
    for r, replicated_job in enumerate(spec.get("replicatedJobs") or []):
        yield from construction.jobs(decision_packs, jobset, replicated_job_index=r,
                                     job_indexes=range(int(replicated_job.get("replicas", 1))), gates=gates)


def _print(objects: list[dict[str, Any]], output: str) -> None:
    if output == "json":
        json.dump(objects, sys.stdout, indent=2, sort_keys=True)
        sys.stdout.write("\n")
        return
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    sys.stdout.write(yaml.dump_all(objects, Dumper=dumper, sort_keys=True, default_flow_style=False))
