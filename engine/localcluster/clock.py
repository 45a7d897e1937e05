"""The one clock of the embedded control plane.

Owns: `Clock` (what the API server and the simulation read time from) and `VirtualClock`
(real time scaled by a speed factor, so a 60 s pod runs in 0.6 s at speed 100).
Called by: the API server (timestamps), the simulation (durations, back-off, deadlines).
Must not import: anything in `engine` outside `localcluster`.
"""

from __future__ import annotations

import asyncio
import datetime
import time
from typing import Protocol


class Clock(Protocol):
    """Reads virtual time and sleeps in virtual seconds."""

    def now(self) -> datetime.datetime: ...

    async def sleep(self, seconds: float) -> None: ...


class VirtualClock:
    """Virtual time = start + (real time elapsed since start) x speed."""

    def __init__(self, speed: float = 1.0, start: datetime.datetime | None = None) -> None:
        if speed <= 0:
            raise ValueError(f"clock speed must be positive, got {speed}")
        self.speed = speed
        self._start = start or datetime.datetime.now(datetime.timezone.utc)
        self._real_start = time.monotonic()

    def now(self) -> datetime.datetime:
        """Current virtual time (UTC, aware)."""
        elapsed = (time.monotonic() - self._real_start) * self.speed
        return self._start + datetime.timedelta(seconds=elapsed)

    async def sleep(self, seconds: float) -> None:
        """Sleep `seconds` of virtual time."""
        await asyncio.sleep(max(0.0, seconds) / self.speed)


def rfc3339(moment: datetime.datetime) -> str:
    """Kubernetes' timestamp format: second precision, UTC, trailing Z."""
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
