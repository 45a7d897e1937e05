"""The worker loop: take a key, reconcile it, and let the result drive the work queue.

Owns: `Result` (`requeue_after` seconds or None: there is no boolean requeue), `TerminalError`
(logged and counted, never retried) and `Controller` (N workers over one `workqueue.WorkQueue`).
One `match` maps each outcome to the queue: an exception means a rate-limited retry; a
`TerminalError` is counted and forgotten; `requeue_after` forgets the back-off and re-adds the
key after the delay; anything else forgets the key. No exception escapes a worker, so one
failing reconcile never kills it. Every log line of a reconcile carries controller,
namespace, name and reconcileID (`logs.bind`).
Called by: the manager (runs controllers in the leader-gated group); the JobSet reconciler is
the `reconcile` callable.
Must not import: `webhook`, `localcluster`, `cli`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Hashable

from engine.kube import informers, logs, workqueue
from engine.metrics import metrics

_log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Result:
    """What a reconcile asks of the queue: come back after `requeue_after` seconds, or not at all."""

    requeue_after: float | None = None


class TerminalError(Exception):
    """A failure that retrying cannot fix (e.g. an invalid object): logged and counted, not retried."""


Reconcile = Callable[[informers.Key], Awaitable[Result]]


class Controller:
    """Runs `reconcile` for keys from its queue with `workers` concurrent workers."""

    def __init__(self, *, name: str, reconcile: Reconcile, workers: int = 1, timeout: float | None = None,
                 shutdown_grace: float = 30.0, queue: workqueue.WorkQueue | None = None) -> None:
        if workers < 1:
            raise ValueError(f"controller {name}: workers must be >= 1, got {workers}")
        self.name = name
        self.reconcile = reconcile
        self.workers = workers
        self.timeout = timeout
        self.shutdown_grace = shutdown_grace
        self.queue = queue or workqueue.WorkQueue(name=name)

    async def run(self) -> None:
        """Run the workers until cancelled; then stop the queue and let in-flight reconciles finish."""
        tasks = [asyncio.create_task(self._worker(), name=f"{self.name}-worker-{i}") for i in range(self.workers)]
        try:
            await asyncio.wait(tasks)
        finally:
            self.queue.shutdown()
            _, pending = await asyncio.wait(tasks, timeout=self.shutdown_grace)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending)

    async def _worker(self) -> None:
        while True:
            try:
                key = await self.queue.get()
            except workqueue.ShutDown:
                return
            metrics.ACTIVE_WORKERS.labels(controller=self.name).inc()
            try:
                await self.process(key)
            finally:
                metrics.ACTIVE_WORKERS.labels(controller=self.name).dec()
                self.queue.done(key)

    async def process(self, key: Hashable) -> None:
        """Reconcile one key taken from the queue and apply the outcome to the queue."""
        namespace, name = key if isinstance(key, informers.Key) else ("", str(key))
        started = time.perf_counter()
        with logs.bind(controller=self.name, namespace=namespace, name=name, reconcileID=str(uuid.uuid4())):
            outcome = await self._outcome(key)
            self._apply(key, outcome)
        seconds = time.perf_counter() - started
        metrics.RECONCILE_TIME.labels(controller=self.name).observe(seconds)
        metrics.JOBSET_RECONCILE_DURATION.labels(controller=self.name, result=_label(outcome)).observe(seconds)

    async def _outcome(self, key: Hashable) -> Result | Exception:
        try:
            async with asyncio.timeout(self.timeout):
                result = await self.reconcile(key)  # type: ignore[arg-type]
            if not isinstance(result, Result):
                raise TypeError(f"reconcile returned {type(result).__name__}, not controller.Result")
            return result
        except asyncio.CancelledError:
            raise
        except Exception as error:  # panic-safe: every failure becomes an outcome
            return error

    def _apply(self, key: Hashable, outcome: Result | Exception) -> None:
        label = _label(outcome)
        metrics.RECONCILE_TOTAL.labels(controller=self.name, result=label).inc()
        match outcome:
            case TerminalError():
                metrics.RECONCILE_ERRORS.labels(controller=self.name).inc()
                metrics.TERMINAL_RECONCILE_ERRORS.labels(controller=self.name).inc()
                _log.error("reconcile failed terminally: %s", outcome, exc_info=outcome)
                self.queue.forget(key)
            case Exception():
                metrics.RECONCILE_ERRORS.labels(controller=self.name).inc()
                _log.error("reconcile failed, will retry: %s", outcome, exc_info=outcome)
                self.queue.add_rate_limited(key)
            case Result(requeue_after=None):
                self.queue.forget(key)
            case Result(requeue_after=delay):
                self.queue.forget(key)
                self.queue.add_after(key, float(delay))


def _label(outcome: Result | Exception) -> str:
    match outcome:
        case Exception():
            return "error"
        case Result(requeue_after=None):
            return "success"
        case _:
            return "requeue_after"
