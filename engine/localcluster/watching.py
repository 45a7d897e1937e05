"""Fan-out of storage events to watchers on the server loop.

Owns: `Hub` (subscribers per storage key) and `Subscription` (an unbounded queue of
`storage.Event`s from the moment it was opened, iterated asynchronously, closed by `.close()`).
Called by: `api` (publishes every change; `ClusterAPI.subscribe`) and the HTTP watch handler.
Must not import: anything in `engine` outside `localcluster`.
"""

from __future__ import annotations

import asyncio
from typing import Any

from engine.localcluster import storage

_CLOSED: Any = object()


class Subscription:
    """Events of one storage key, in order, from subscription on."""

    def __init__(self, hub: "Hub", skey: str) -> None:
        self._hub = hub
        self.skey = skey
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self.closed = False

    def push(self, event: storage.Event) -> None:
        """Enqueue one event (called by the hub)."""
        if not self.closed:
            self._queue.put_nowait(event)

    def close(self) -> None:
        """Stop receiving; a pending or later `__anext__` ends the iteration."""
        if not self.closed:
            self.closed = True
            self._hub.remove(self)
            self._queue.put_nowait(_CLOSED)

    async def next(self, timeout: float | None = None) -> storage.Event | None:
        """The next event, or None after `timeout` seconds; StopAsyncIteration once closed."""
        try:
            item = await asyncio.wait_for(self._queue.get(), timeout)
        except asyncio.TimeoutError:
            return None
        if item is _CLOSED:
            raise StopAsyncIteration
        return item

    def ready(self) -> list[storage.Event]:
        """Every event already queued, without waiting (stops before a close marker)."""
        events = []
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if item is _CLOSED:
                self._queue.put_nowait(item)
                break
            events.append(item)
        return events

    def __aiter__(self) -> "Subscription":
        return self

    async def __anext__(self) -> storage.Event:
        item = await self._queue.get()
        if item is _CLOSED:
            raise StopAsyncIteration
        return item


class Hub:
    """Subscribers by storage key."""

    def __init__(self) -> None:
        self._subscribers: dict[str, list[Subscription]] = {}

    def subscribe(self, skey: str) -> Subscription:
        """A new subscription to every later event of `skey`."""
        subscription = Subscription(self, skey)
        self._subscribers.setdefault(skey, []).append(subscription)
        return subscription

    def remove(self, subscription: Subscription) -> None:
        """Forget a subscription (idempotent)."""
        subscribers = self._subscribers.get(subscription.skey, [])
        if subscription in subscribers:
            subscribers.remove(subscription)

    def publish(self, skey: str, event: storage.Event) -> None:
        """Deliver `event` to every subscriber of `skey`."""
        for subscription in self._subscribers.get(skey, ()):
            subscription.push(event)

    def close_all(self, skey: str | None = None) -> int:
        """Close every subscription (of `skey`, or all); returns how many were closed."""
        keys = [skey] if skey is not None else list(self._subscribers)
        closed = 0
        for key in keys:
            for subscription in list(self._subscribers.get(key, ())):
                subscription.close()
                closed += 1
        return closed
