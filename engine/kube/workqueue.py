"""The rate-limited work queue of a controller, as client-go's workqueue.

Owns: `WorkQueue`: de-duplication (a key waits at most once), one key in flight at a time (a
key added while processing is queued again only when `done` is called), delayed adds (the
earliest pending delay wins), rate-limited adds through a `ratelimit.ControllerLimiter`,
`forget`, and shutdown. Depth, adds, retries, time queued and time in flight are published
to `metrics`.
Called by: `kube.controller` (its workers), `kube.handlers` mappers through `add`.
Must not import: anything above `kube` (`planner`, `webhook`, `localcluster`, `cli`).
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import Hashable

from engine.kube import ratelimit
from engine.metrics import metrics


class ShutDown(Exception):
    """Raised by `get` once the queue is shut down and drained of waiting keys."""


class WorkQueue:
    """Keys waiting for a worker; every method except `get` is synchronous and loop-safe."""

    def __init__(self, *, name: str, limiter: ratelimit.ControllerLimiter | None = None) -> None:
        self.name = name
        self.limiter = limiter or ratelimit.ControllerLimiter()
        self._queue: collections.deque[Hashable] = collections.deque()
        self._dirty: set[Hashable] = set()
        self._processing: set[Hashable] = set()
        self._timers: dict[Hashable, tuple[float, asyncio.TimerHandle]] = {}
        self._added_at: dict[Hashable, float] = {}  # queued keys -> when they were queued
        self._started_at: dict[Hashable, float] = {}  # keys in flight -> when a worker took them
        self._ready = asyncio.Event()
        self._shutting_down = False

    def __len__(self) -> int:
        return len(self._queue)

    @property
    def shutting_down(self) -> bool:
        """True once `shutdown` was called."""
        return self._shutting_down

    def add(self, key: Hashable) -> None:
        """Queue `key` unless it is already waiting; a key in flight is re-queued by `done`."""
        if self._shutting_down or key in self._dirty:
            return
        metrics.WORKQUEUE_ADDS.labels(name=self.name).inc()
        self._dirty.add(key)
        if key in self._processing:
            return
        self._enqueue(key)

    def add_after(self, key: Hashable, delay: float) -> None:
        """Queue `key` after `delay` seconds; an earlier pending delay for the same key wins."""
        if self._shutting_down:
            return
        if delay <= 0:
            self.add(key)
            return
        loop = asyncio.get_running_loop()
        due = loop.time() + delay
        pending = self._timers.get(key)
        if pending is not None:
            if pending[0] <= due:
                return
            pending[1].cancel()
        self._timers[key] = (due, loop.call_at(due, self._fire, key))

    def add_rate_limited(self, key: Hashable) -> None:
        """Queue `key` after its back-off (a retry)."""
        metrics.WORKQUEUE_RETRIES.labels(name=self.name).inc()
        self.add_after(key, self.limiter.when(key))

    def forget(self, key: Hashable) -> None:
        """Reset `key`'s back-off (after a success); does not remove it from the queue."""
        self.limiter.forget(key)

    def retries(self, key: Hashable) -> int:
        """How many rate-limited retries `key` had since it was last forgotten."""
        return self.limiter.failures(key)

    async def get(self) -> Hashable:
        """Wait for the next key and mark it in flight; raises `ShutDown` when shut down and empty."""
        while not self._queue:
            if self._shutting_down:
                raise ShutDown(self.name)
            self._ready.clear()
            await self._ready.wait()
        key = self._queue.popleft()
        self._dirty.discard(key)
        self._processing.add(key)
        now = time.monotonic()
        metrics.WORKQUEUE_QUEUE_DURATION.labels(name=self.name).observe(now - self._added_at.pop(key, now))
        self._started_at[key] = now
        self._publish()
        return key

    def done(self, key: Hashable) -> None:
        """Mark `key` processed; if it was added meanwhile, queue it again."""
        self._processing.discard(key)
        started = self._started_at.pop(key, None)
        if started is not None:
            metrics.WORKQUEUE_WORK_DURATION.labels(name=self.name).observe(time.monotonic() - started)
        if key in self._dirty:
            self._enqueue(key)

    def shutdown(self) -> None:
        """Stop accepting keys, drop pending delays, and wake every waiting `get`."""
        self._shutting_down = True
        for _, timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        self._queue.clear()
        self._dirty.clear()
        self._added_at.clear()
        self._publish()

    def _enqueue(self, key: Hashable) -> None:
        self._queue.append(key)
        self._added_at[key] = time.monotonic()
        self._publish()

    def _fire(self, key: Hashable) -> None:
        self._timers.pop(key, None)
        self.add(key)

    def _publish(self) -> None:
        metrics.set_queue_depth(name=self.name, depth=len(self._queue))
        if self._queue or self._shutting_down:
            self._ready.set()
