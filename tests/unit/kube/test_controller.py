"""The worker loop: results drive the queue, failures are retried or counted, workers survive (spec §13)."""

import asyncio
import json
import logging

from engine.kube import controller, informers, logs, ratelimit, workqueue
from engine.metrics import metrics

KEY = informers.Key("ns", "js")


def fast_queue(name: str) -> workqueue.WorkQueue:
    limiter = ratelimit.ControllerLimiter(backoff=ratelimit.ItemBackoff(base=0.001))
    return workqueue.WorkQueue(name=name, limiter=limiter)


async def run_until(ctrl: controller.Controller, done: asyncio.Event, timeout: float = 2.0) -> None:
    task = asyncio.create_task(ctrl.run())
    try:
        await asyncio.wait_for(done.wait(), timeout)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def counter(name: str, ctrl: str, **labels: str) -> float:
    return metrics.value(name, {"controller": ctrl, **labels})


def test_exception_means_rate_limited_retry_then_success_forgets_and_counts_errors() -> None:
    """§13: controller_runtime_reconcile_errors_total counts each failed pass."""
    calls: list[informers.Key] = []
    done = asyncio.Event()

    async def reconcile(key: informers.Key) -> controller.Result:
        calls.append(key)
        if len(calls) < 3:
            raise RuntimeError("API hiccup")
        done.set()
        return controller.Result()

    async def scenario() -> controller.Controller:
        ctrl = controller.Controller(name="retry-ctrl", reconcile=reconcile, queue=fast_queue("retry-ctrl"))
        ctrl.queue.add(KEY)
        await run_until(ctrl, done)
        return ctrl

    ctrl = asyncio.run(scenario())
    assert calls == [KEY, KEY, KEY]
    assert ctrl.queue.retries(KEY) == 0
    assert counter("controller_runtime_reconcile_errors_total", "retry-ctrl") == 2
    assert counter("controller_runtime_reconcile_total", "retry-ctrl", result="error") == 2
    assert counter("controller_runtime_reconcile_total", "retry-ctrl", result="success") == 1
    assert counter("controller_runtime_reconcile_time_seconds_count", "retry-ctrl") == 3


def test_terminal_error_is_counted_and_not_retried() -> None:
    calls: list[informers.Key] = []

    async def reconcile(key: informers.Key) -> controller.Result:
        calls.append(key)
        raise controller.TerminalError("spec can never work")

    async def scenario() -> None:
        ctrl = controller.Controller(name="terminal-ctrl", reconcile=reconcile, queue=fast_queue("terminal-ctrl"))
        ctrl.queue.add(KEY)
        task = asyncio.create_task(ctrl.run())
        await asyncio.sleep(0.1)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    asyncio.run(scenario())
    assert calls == [KEY]
    assert counter("controller_runtime_terminal_reconcile_errors_total", "terminal-ctrl") == 1
    assert counter("controller_runtime_reconcile_errors_total", "terminal-ctrl") == 1


def test_requeue_after_brings_the_key_back_after_the_delay() -> None:
    stamps: list[float] = []
    done = asyncio.Event()

    async def reconcile(key: informers.Key) -> controller.Result:
        stamps.append(asyncio.get_running_loop().time())
        if len(stamps) == 2:
            done.set()
        return controller.Result(requeue_after=0.05)

    async def scenario() -> None:
        ctrl = controller.Controller(name="requeue-ctrl", reconcile=reconcile)
        ctrl.queue.add(KEY)
        await run_until(ctrl, done)

    asyncio.run(scenario())
    assert stamps[1] - stamps[0] >= 0.045
    assert counter("controller_runtime_reconcile_total", "requeue-ctrl", result="requeue_after") >= 2


def test_a_reconcile_returning_something_else_than_a_result_is_an_error() -> None:
    """No boolean requeue: returning anything but `Result` is a bug, retried with back-off."""
    done = asyncio.Event()
    calls = 0

    async def reconcile(key: informers.Key):  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        if calls == 2:
            done.set()
        return True

    async def scenario() -> None:
        ctrl = controller.Controller(name="bool-ctrl", reconcile=reconcile, queue=fast_queue("bool-ctrl"))
        ctrl.queue.add(KEY)
        await run_until(ctrl, done)

    asyncio.run(scenario())
    assert counter("controller_runtime_reconcile_errors_total", "bool-ctrl") >= 1


def test_one_failing_key_never_kills_a_worker_and_others_proceed() -> None:
    seen: set[str] = set()
    done = asyncio.Event()

    async def reconcile(key: informers.Key) -> controller.Result:
        if key.name == "bad":
            raise ZeroDivisionError("boom")
        seen.add(key.name)
        if len(seen) == 20:
            done.set()
        return controller.Result()

    async def scenario() -> None:
        ctrl = controller.Controller(name="panic-ctrl", reconcile=reconcile, queue=fast_queue("panic-ctrl"))
        ctrl.queue.add(informers.Key("ns", "bad"))
        for i in range(20):
            ctrl.queue.add(informers.Key("ns", f"ok-{i}"))
        await run_until(ctrl, done)

    asyncio.run(scenario())
    assert len(seen) == 20


def test_same_key_is_never_reconciled_concurrently_with_many_workers() -> None:
    running: set[informers.Key] = set()
    overlaps = 0
    count = 0
    done = asyncio.Event()

    async def reconcile(key: informers.Key) -> controller.Result:
        nonlocal overlaps, count
        if key in running:
            overlaps += 1
        running.add(key)
        await asyncio.sleep(0.002)
        running.discard(key)
        count += 1
        if count >= 30:
            done.set()
        return controller.Result()

    async def scenario() -> None:
        ctrl = controller.Controller(name="serial-ctrl", reconcile=reconcile, workers=4)
        task = asyncio.create_task(ctrl.run())
        for _ in range(60):
            ctrl.queue.add(KEY)
            ctrl.queue.add(informers.Key("ns", "other"))
            await asyncio.sleep(0.001)
        await asyncio.wait_for(done.wait(), 3)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    asyncio.run(scenario())
    assert overlaps == 0


def test_shutdown_lets_the_in_flight_reconcile_finish() -> None:
    finished = []
    started = asyncio.Event()

    async def reconcile(key: informers.Key) -> controller.Result:
        started.set()
        await asyncio.sleep(0.05)
        finished.append(key)
        return controller.Result()

    async def scenario() -> None:
        ctrl = controller.Controller(name="drain-ctrl", reconcile=reconcile)
        ctrl.queue.add(KEY)
        task = asyncio.create_task(ctrl.run())
        await started.wait()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    asyncio.run(scenario())
    assert finished == [KEY]


def test_every_log_line_of_a_reconcile_names_the_object(caplog) -> None:  # type: ignore[no-untyped-def]
    done = asyncio.Event()
    lines: list[str] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(logs.JSONFormatter().format(record))

    async def reconcile(key: informers.Key) -> controller.Result:
        logging.getLogger("test.reconcile").warning("creating jobs")
        await asyncio.create_task(asyncio.sleep(0))
        logging.getLogger("test.reconcile").warning("done")
        done.set()
        return controller.Result()

    async def scenario() -> None:
        ctrl = controller.Controller(name="log-ctrl", reconcile=reconcile)
        ctrl.queue.add(KEY)
        await run_until(ctrl, done)

    handler = Capture()
    logging.getLogger("test.reconcile").addHandler(handler)
    try:
        asyncio.run(scenario())
    finally:
        logging.getLogger("test.reconcile").removeHandler(handler)
    records = [json.loads(line) for line in lines]
    assert len(records) == 2
    for record in records:
        assert (record["namespace"], record["name"], record["controller"]) == ("ns", "js", "log-ctrl")
    assert records[0]["reconcileID"] == records[1]["reconcileID"]
