"""Work queue: de-duplication, one key in flight, delayed and rate-limited adds, shutdown."""

import asyncio

import pytest

from engine.kube import ratelimit, workqueue
from engine.metrics import metrics


def run(coro):
    return asyncio.run(coro)


def test_duplicate_adds_wait_once() -> None:
    async def scenario() -> list[str]:
        queue = workqueue.WorkQueue(name="dedup")
        for key in ["a", "b", "a", "a"]:
            queue.add(key)
        assert len(queue) == 2
        return [await queue.get(), await queue.get()]
    assert run(scenario()) == ["a", "b"]


def test_key_added_while_in_flight_is_requeued_only_after_done() -> None:
    async def scenario() -> None:
        queue = workqueue.WorkQueue(name="inflight")
        queue.add("a")
        key = await queue.get()
        queue.add("a")
        assert len(queue) == 0  # not handed to a second worker while in flight
        queue.done(key)
        assert len(queue) == 1
        assert await queue.get() == "a"
    run(scenario())


def test_add_after_delays_and_earliest_delay_wins() -> None:
    async def scenario() -> None:
        queue = workqueue.WorkQueue(name="delay")
        loop = asyncio.get_running_loop()
        start = loop.time()
        queue.add_after("a", 5.0)
        queue.add_after("a", 0.05)
        queue.add_after("a", 1.0)
        assert await asyncio.wait_for(queue.get(), 1.0) == "a"
        assert 0.04 <= loop.time() - start < 0.5
    run(scenario())


def test_rate_limited_adds_back_off_and_forget_resets() -> None:
    async def scenario() -> None:
        limiter = ratelimit.ControllerLimiter(backoff=ratelimit.ItemBackoff(base=0.01))
        queue = workqueue.WorkQueue(name="retry", limiter=limiter)
        before = metrics.value("workqueue_retries_total", {"name": "retry"})
        for expected in (1, 2, 3):
            queue.add_rate_limited("k")
            key = await asyncio.wait_for(queue.get(), 1.0)
            queue.done(key)
            assert queue.retries("k") == expected
        queue.forget("k")
        assert queue.retries("k") == 0
        assert metrics.value("workqueue_retries_total", {"name": "retry"}) - before == 3
    run(scenario())


def test_depth_is_published_under_both_metric_names() -> None:
    async def scenario() -> None:
        queue = workqueue.WorkQueue(name="depth")
        queue.add("a")
        queue.add("b")
        assert metrics.value("workqueue_depth", {"name": "depth"}) == 2
        assert metrics.value("jobset_workqueue_depth", {"name": "depth"}) == 2
        await queue.get()
        assert metrics.value("jobset_workqueue_depth", {"name": "depth"}) == 1
    run(scenario())


def test_shutdown_wakes_waiting_getters_and_ignores_later_adds() -> None:
    async def scenario() -> None:
        queue = workqueue.WorkQueue(name="stop")
        getters = [asyncio.create_task(queue.get()) for _ in range(3)]
        await asyncio.sleep(0)
        queue.add_after("later", 10.0)
        queue.shutdown()
        for getter in getters:
            with pytest.raises(workqueue.ShutDown):
                await getter
        queue.add("x")
        assert len(queue) == 0
    run(scenario())


def test_many_getters_share_keys_without_loss() -> None:
    async def scenario() -> set[int]:
        queue = workqueue.WorkQueue(name="fanout")
        seen: set[int] = set()

        async def worker() -> None:
            while True:
                try:
                    key = await queue.get()
                except workqueue.ShutDown:
                    return
                seen.add(key)
                await asyncio.sleep(0)
                queue.done(key)
        workers = [asyncio.create_task(worker()) for _ in range(4)]
        for i in range(100):
            queue.add(i)
        while len(seen) < 100:
            await asyncio.sleep(0.001)
        queue.shutdown()
        await asyncio.gather(*workers)
        return seen
    assert run(scenario()) == set(range(100))


def test_time_queued_and_time_in_flight_are_observed() -> None:
    async def scenario() -> None:
        queue = workqueue.WorkQueue(name="durations")
        queue.add("a")
        await asyncio.sleep(0.02)
        key = await queue.get()
        await asyncio.sleep(0.02)
        queue.done(key)
    asyncio.run(scenario())
    labels = {"name": "durations"}
    assert metrics.value("workqueue_queue_duration_seconds_count", labels) == 1
    assert metrics.value("workqueue_queue_duration_seconds_sum", labels) >= 0.015
    assert metrics.value("workqueue_work_duration_seconds_count", labels) == 1
    assert metrics.value("workqueue_work_duration_seconds_sum", labels) >= 0.015
