"""`jobset in-place-restart-agent`: the agent of spec §11.2, run in every worker Pod of a JobSet
with restart strategy `InPlaceRestart` (the container's command, or its image's entrypoint).

Owns: the command line: everything else comes from the environment (JOBSET_NAME, POD_NAME,
WORKER_COMMAND, STARTUP_PROBE_PATH, STARTUP_PROBE_PORT, IN_PLACE_RESTART_EXIT_CODE).
`--kubeconfig` and `--namespace` run it outside a Pod (the namespace otherwise comes from
the service-account `namespace` file). Exit codes: see `engine.agent.process`.
Called by: `engine.cli.main`.
Must not import: `engine.localcluster`, `engine.up`.
"""

from __future__ import annotations

import argparse
import os

from engine.agent import process


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `in-place-restart-agent` to the command line."""
    parser = subparsers.add_parser(
        "in-place-restart-agent", help="the in-place restart agent of a JobSet's worker Pods (spec §11.2)",
        description="Configured by the environment: JOBSET_NAME, POD_NAME (required), WORKER_COMMAND "
                    "(main-container mode), STARTUP_PROBE_PATH/PORT (sidecar mode), IN_PLACE_RESTART_EXIT_CODE.")
    parser.add_argument("--kubeconfig", default=os.environ.get("KUBECONFIG") or None,
                        help="kubeconfig file (default: $KUBECONFIG, else the Pod's service account)")
    parser.add_argument("--namespace", default=None,
                        help="the Pod's namespace (default: the service-account namespace file)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run the agent with this process's environment."""
    return process.main(os.environ, namespace=args.namespace, kubeconfig=args.kubeconfig)
