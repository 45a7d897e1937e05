"""`jobset controller`: the controller manager process that runs in a cluster (the image's entrypoint).

Owns: the command line of the Deployment in `deploy/` (the spec §14.2 flags, `--kubeconfig`,
`--rules-dir`), choosing the connection (a kubeconfig when given, else the Pod's service
account), and serving the process `engine.assembly.build` wires until SIGTERM.
Exit codes: 0 after a clean stop, 1 after a failed runnable or a lost lease, 2 for a
configuration, kubeconfig or rule pack that cannot be used (the message says which and where).
Called by: `engine.cli.main`.
Must not import: `engine.localcluster`, `engine.up`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pathlib
import sys
from collections.abc import Sequence

from engine import assembly, tls
from engine.kube import client as client_
from engine.kube import configuration, connection, logs, manager, servers

PROG = "jobset controller"


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `controller` to the command line."""
    parser = subparsers.add_parser("controller", help="run the JobSet controller and webhooks against a cluster")
    configuration.add_flags(parser)
    parser.add_argument("--kubeconfig", default=os.environ.get("KUBECONFIG") or None,
                        help="kubeconfig file (default: $KUBECONFIG, else the Pod's service account)")
    parser.add_argument("--rules-dir", action="append", default=[], type=pathlib.Path,
                        help="directory of operator rule packs, read after the built-in ones (repeatable)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Resolve the configuration and the connection, then serve until stopped."""
    try:
        config = configuration.resolve(args)
    except configuration.ConfigurationError as error:
        return _usage(str(error))
    for field, address in (("metrics.bindAddress", config.metrics.bind_address),
                           ("health.healthProbeBindAddress", config.health.health_probe_bind_address)):
        try:
            servers.parse_address(address)
        except ValueError as error:
            return _usage(f"{field}: {error}")
    qps, burst = config.client_connection.qps, config.client_connection.burst
    try:
        conn = (connection.from_kubeconfig(args.kubeconfig, qps=qps, burst=burst) if args.kubeconfig
                else connection.in_cluster(qps=qps, burst=burst))
    except connection.ConfigError as error:
        hint = "" if args.kubeconfig else " (outside a cluster, pass --kubeconfig)"
        return _usage(f"{error}{hint}")
    fmt, level = configuration.log_settings(args)
    logs.configure(fmt=fmt, level=level)
    return asyncio.run(_serve(config, conn, args.rules_dir))


async def _serve(config: configuration.Configuration, conn: connection.Connection,
                 rules_dirs: Sequence[pathlib.Path]) -> int:
    api = client_.Client(conn)
    try:
        settings = assembly.Settings(config=config, namespace=manager.own_namespace(), rules_dirs=rules_dirs)
        try:
            built = assembly.build(settings, api)
        except (assembly.AssemblyError, tls.TLSError) as error:
            return _usage(str(error))
        return await built.manager.serve()
    finally:
        await api.close()


def _usage(message: str) -> int:
    print(f"{PROG}: {message}", file=sys.stderr)
    return 2
