"""`jobset up`: run the embedded control plane with the controller; `--run FILE` runs a JobSet to its end."""

from __future__ import annotations

import argparse
import pathlib
import sys

from engine import assembly, up
from engine.cli.commands import lint as lint_command
from engine.kube import featuregates
from engine.localcluster.sim import scenario, topology


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `up` to the command line."""
    parser = subparsers.add_parser("up", help="start the embedded control plane, simulated cluster and controller")
    parser.add_argument("--port", type=int, default=0, help="API server port on 127.0.0.1 (default: any free port)")
    parser.add_argument("--kubeconfig", type=pathlib.Path, default=pathlib.Path("jobset-up.kubeconfig"),
                        help="where to write the kubeconfig (default: ./jobset-up.kubeconfig)")
    parser.add_argument("--data-dir", type=pathlib.Path, default=None, help="persist the API server's state here")
    parser.add_argument("--nodes", type=pathlib.Path, default=None, metavar="TOPOLOGY",
                        help="topology file of simulated nodes (default: 2 zones x 2 racks x 4 nodes)")
    parser.add_argument("--speed", type=float, default=1.0, help="virtual clock speed factor (default 1)")
    parser.add_argument("--scenario", type=pathlib.Path, default=None, metavar="FILE",
                        help="scenario file: how long simulated pods run and how they exit (by name prefix and labels)")
    parser.add_argument("--run", action="append", type=pathlib.Path, default=[], metavar="FILE",
                        help="submit this JobSet manifest and exit when it finishes (repeatable)")
    parser.add_argument("--timeout", type=float, default=600.0, help="give up on --run after this many seconds")
    parser.add_argument("--feature-gates", default="", metavar="A=true,B=false")
    parser.add_argument("--rules-dir", action="append", default=[], type=pathlib.Path)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Validate the flags, then hand over to `engine.up`."""
    if args.speed <= 0:
        print("jobset up: --speed must be positive", file=sys.stderr)
        return 2
    for flag, paths in (("--run", args.run), ("--scenario", [args.scenario] if args.scenario else []),
                        ("--nodes", [args.nodes] if args.nodes else [])):
        for path in paths:
            if not path.is_file():
                print(f"jobset up: {flag} {path}: no such file", file=sys.stderr)
                return 2
    try:
        gates = lint_command.parse_feature_gates(args.feature_gates)
        options = up.Options(port=args.port, kubeconfig=args.kubeconfig, data_dir=args.data_dir, nodes=args.nodes,
                             speed=args.speed, run=args.run, rules_dirs=args.rules_dir, feature_gates=gates,
                             timeout=args.timeout, scenario=args.scenario)
        return up.run(options)
    except (featuregates.FeatureGateError, up.UpError, assembly.AssemblyError, scenario.ScenarioError,
            topology.TopologyError) as error:
        print(f"jobset up: {error}", file=sys.stderr)
        return 2
