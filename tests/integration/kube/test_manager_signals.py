"""A manager process stops gracefully on SIGTERM and SIGINT, releasing its lease (spec §14.3)."""

import asyncio
import pathlib
import signal
import subprocess
import sys

import pytest

from engine.kube import client, connection, resources
from engine.localcluster import server

ROOT = pathlib.Path(__file__).resolve().parents[3]

PROGRAM = """
import asyncio, sys
from engine.kube import client, connection, leaderelection, logs, manager

async def main(url, namespace):
    logs.configure(fmt="json")
    api = client.Client(connection.Connection(host=url))
    settings = leaderelection.Settings(name="sig", namespace=namespace, identity="proc",
                                       lease_duration=2, renew_deadline=1, retry_period=0.2)
    options = manager.Options(health_address="127.0.0.1:0", metrics_address="0", leader_election=settings)
    mgr = manager.Manager(client=api, options=options)

    async def lead():
        print("leading", flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            print("stopped leading", flush=True)

    mgr.add(manager.Runnable(name="work", run=lead, group=manager.Group.LEADER))
    try:
        return await mgr.serve()
    finally:
        await api.close()

sys.exit(asyncio.run(main(sys.argv[1], sys.argv[2])))
"""


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_the_manager_and_releases_the_lease(cluster: server.RunningServer, namespace: str,
                                                         signum: signal.Signals) -> None:
    process = subprocess.Popen([sys.executable, "-c", PROGRAM, cluster.url, namespace], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "leading"
        process.send_signal(signum)
        out, err = process.communicate(timeout=10)
    finally:
        process.kill()
    assert process.returncode == 0, err
    assert out.strip() == "stopped leading"
    assert '"msg": "successfully acquired lease"' in err

    async def holder() -> object:
        api = client.Client(connection.Connection(host=cluster.url))
        try:
            lease = await api.get(resources.LEASES, "sig", namespace=namespace)
            return lease["spec"].get("holderIdentity")
        finally:
            await api.close()
    assert not asyncio.run(holder())
