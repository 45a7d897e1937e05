"""A serving manager raises CPython's garbage-collector thresholds while it runs and restores them when
it stops: with the defaults, full collections walking the informer caches took a quarter of the
controller's CPU while it created a 5,000-Job JobSet (bench/controller.py, figure 1a)."""

import asyncio
import gc
import os
import signal

from engine.kube import client, connection, manager


def test_serve_runs_with_the_manager_gc_thresholds_and_restores_the_previous_ones() -> None:
    before = gc.get_threshold()
    seen: list[tuple[int, ...]] = []

    async def main() -> int:
        api = client.Client(connection.Connection(host="http://127.0.0.1:1"))  # never called: no leader election
        mgr = manager.Manager(client=api, options=manager.Options(health_address="0", metrics_address="0"))

        async def record_then_stop() -> None:
            seen.append(gc.get_threshold())
            os.kill(os.getpid(), signal.SIGTERM)  # caught by serve's handler: a graceful stop
            await asyncio.Event().wait()

        mgr.add(manager.Runnable(name="probe", run=record_then_stop, group=manager.Group.OTHERS))
        try:
            return await mgr.serve()
        finally:
            await api.close()

    assert asyncio.run(main()) == 0
    assert seen == [manager.GC_THRESHOLDS] and manager.GC_THRESHOLDS != before
    assert gc.get_threshold() == before
