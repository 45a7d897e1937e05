"""The in-place restart agent as an OS process: `jobset in-place-restart-agent` (spec §11.2).

Owns: `main(environ, namespace=..., kubeconfig=...) -> exit code`: settings from the
environment, the connection (a kubeconfig when given, else the Pod's service account), the
workload of the mode, and the exit codes: the worker's code or the restart code as the
runner decides, 1 for a startup error, 128 + n after SIGINT or SIGTERM.
Called by: `engine.cli.commands.in_place_restart_agent`.
Must not import: `engine.assembly`, `engine.up`, `engine.cli`, `engine.localcluster`.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Mapping

from engine.agent import runner, settings as settings_, workloads
from engine.kube import client as client_
from engine.kube import connection

PROG = "in-place-restart-agent"


def main(environ: Mapping[str, str], *, namespace: str | None = None, kubeconfig: str | None = None) -> int:
    """Run the agent until it exits; returns the process exit code."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    try:
        settings = settings_.from_environment(environ, namespace=namespace)
        conn = connection.from_kubeconfig(kubeconfig) if kubeconfig else connection.in_cluster()
    except (settings_.SettingsError, connection.ConfigError) as error:
        hint = "" if kubeconfig or not isinstance(error, connection.ConfigError) else \
            " (outside a Pod, pass --kubeconfig)"
        print(f"{PROG}: {error}{hint}", file=sys.stderr)
        return 1
    lift = (workloads.probe_server(settings.probe_path, settings.probe_port) if settings.sidecar
            else workloads.shell_worker(settings.worker_command or ""))
    return asyncio.run(_serve(settings, conn, lift))


async def _serve(settings: settings_.Settings, conn: connection.Connection, lift: runner.Lift) -> int:
    loop = asyncio.get_running_loop()
    signalled: asyncio.Future[int] = loop.create_future()
    for number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(number, lambda n=number: signalled.done() or signalled.set_result(int(n)))
    client = client_.Client(conn)
    agent = asyncio.create_task(runner.run(settings, client, lift))
    try:
        await asyncio.wait({agent, signalled}, return_when=asyncio.FIRST_COMPLETED)
        if signalled.done():
            agent.cancel()
            await asyncio.gather(agent, return_exceptions=True)
            return 128 + signalled.result()
        return agent.result()
    finally:
        await client.close()
