"""The simulation's work queue and informer bookkeeping: keys processed once at a time,
delays on the virtual clock, stale events ignored."""

from __future__ import annotations

import asyncio
from typing import Any

from engine.localcluster import clock as clocks
from engine.localcluster.sim import informer, workqueue


def test_keys_are_deduplicated_never_concurrent_and_delays_follow_the_clock() -> None:
    clock = clocks.VirtualClock(speed=200)
    seen: list[tuple[str, float]] = []
    running: set[str] = set()

    async def handler(key: str) -> float | None:
        assert key not in running
        running.add(key)
        await asyncio.sleep(0.001)
        running.discard(key)
        seen.append((key, (clock.now() - start).total_seconds()))
        return 30.0 if key == "again" and len(seen) < 3 else None

    async def main() -> None:
        queue = workqueue.WorkQueue(clock, handler, name="test", workers=4)
        queue.start()
        for _ in range(5):
            queue.add("a")
        queue.add("again")
        queue.add_after("late", 20)
        queue.add_after("late", 400)
        for _ in range(300):
            if len(seen) >= 4:
                break
            await asyncio.sleep(0.01)
        queue.stop()

    start = clock.now()
    asyncio.run(main())
    keys = [k for k, _ in seen]
    assert keys.count("a") == 1 and keys.count("late") == 1 and keys.count("again") == 2
    late = next(t for k, t in seen if k == "late")
    assert 20 <= late < 400
    again = [t for k, t in seen if k == "again"]
    assert again[1] - again[0] >= 30


def test_informer_ignores_events_older_than_what_it_holds() -> None:
    calls: list[tuple[Any, Any]] = []
    source = informer.Informer(api=None, resource="v1/pods")
    source.handlers.append(lambda old, new: calls.append((old, new)))

    def pod(rv: str) -> dict[str, Any]:
        return {"metadata": {"namespace": "d", "name": "p", "uid": "u", "resourceVersion": rv}}

    source.observe(pod("5"))
    source.observe(pod("4"))
    source.observe(pod("5"))
    assert len(calls) == 1
    changed = pod("5")
    changed["metadata"]["labels"] = {"late": "content"}
    source.observe(changed)
    assert len(calls) == 2 and source.get(("d", "p")) == changed
    source.observe(pod("7"))
    source.forget(pod("6"))
    assert source.get(("d", "p")) is not None
    source.forget(pod("8"))
    assert source.get(("d", "p")) is None and len(calls) == 4
