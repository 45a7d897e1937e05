"""Keys to process, one at a time per key, now or after a delay on the virtual clock.

Owns: `WorkQueue` (de-duplicated keys, a key is never processed twice at once, delayed
re-adds through one timer task that sleeps on the clock, retries with back-off when the
handler raises).
Called by: the simulation drivers.
Must not import: anything in `engine` outside `localcluster`.
"""

from __future__ import annotations

import asyncio
import collections
import datetime
import heapq
import itertools
import logging
from typing import Any, Awaitable, Callable, Hashable

from engine.localcluster import clock as clocks

log = logging.getLogger(__name__)
Handler = Callable[[Any], Awaitable[float | None]]


class WorkQueue:
    """Runs `handler(key) -> requeue_after` for queued keys with `workers` workers."""

    def __init__(self, clock: clocks.Clock, handler: Handler, *, name: str, workers: int = 4,
                 retry_cap: float = 30.0) -> None:
        self.clock = clock
        self.name = name
        self._handler = handler
        self._workers = workers
        self._retry_cap = retry_cap
        self._ready: collections.deque[Hashable] = collections.deque()
        self._queued: set[Hashable] = set()
        self._busy: set[Hashable] = set()
        self._again: set[Hashable] = set()
        self._failures: dict[Hashable, int] = {}
        self._timers: list[tuple[datetime.datetime, int, Hashable]] = []
        self._due: dict[Hashable, datetime.datetime] = {}
        self._serial = itertools.count()
        self._has_work = asyncio.Event()
        self._timer_changed = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def add(self, key: Hashable) -> None:
        """Process `key` soon (once, however often it is added)."""
        if key in self._busy:
            self._again.add(key)
        elif key not in self._queued:
            self._queued.add(key)
            self._ready.append(key)
            self._has_work.set()

    def add_after(self, key: Hashable, seconds: float) -> None:
        """Process `key` after `seconds` of virtual time."""
        if seconds <= 0:
            self.add(key)
            return
        when = self.clock.now() + datetime.timedelta(seconds=seconds)
        due = self._due.get(key)
        if due is not None and due <= when:
            return
        self._due[key] = when
        if not self._timers or when < self._timers[0][0]:
            self._timer_changed.set()
        heapq.heappush(self._timers, (when, next(self._serial), key))

    def start(self) -> None:
        """Start the workers and the timer on the running loop."""
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._work()) for _ in range(self._workers)]
        self._tasks.append(loop.create_task(self._tick()))

    def stop(self) -> None:
        """Cancel workers and timer."""
        for task in self._tasks:
            task.cancel()

    @property
    def idle(self) -> bool:
        """Nothing queued or running (timers may be pending)."""
        return not self._ready and not self._busy

    async def _work(self) -> None:
        while True:
            while not self._ready:
                self._has_work.clear()
                await self._has_work.wait()
            key = self._ready.popleft()
            self._queued.discard(key)
            self._busy.add(key)
            try:
                again = await self._handler(key)
                self._failures.pop(key, None)
            except asyncio.CancelledError:
                raise
            except Exception:
                failures = self._failures[key] = self._failures.get(key, 0) + 1
                again = min(self._retry_cap, 0.1 * 2 ** failures)
                log.exception("%s: processing %s failed (retry in %.1fs)", self.name, key, again)
            finally:
                self._busy.discard(key)
            await asyncio.sleep(0)
            if key in self._again:
                self._again.discard(key)
                self.add(key)
            elif again is not None:
                self.add_after(key, again)

    async def _tick(self) -> None:
        while True:
            if not self._timers:
                self._timer_changed.clear()
                await self._timer_changed.wait()
                continue
            delay = (self._timers[0][0] - self.clock.now()).total_seconds()
            if delay <= 0:
                when, _, key = heapq.heappop(self._timers)
                if self._due.get(key) == when:
                    del self._due[key]
                    self.add(key)
                continue
            self._timer_changed.clear()
            sleeper = asyncio.ensure_future(self.clock.sleep(delay))
            changed = asyncio.ensure_future(self._timer_changed.wait())
            try:
                await asyncio.wait({sleeper, changed}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                sleeper.cancel()
                changed.cancel()
