"""Rate limiters: a token bucket and per-key exponential back-off, as client-go's defaults.

Owns: `TokenBucket` (QPS/burst, used by the API client, spec §14.1 clientConnection, and by
the work queue's overall limit), `ItemBackoff` (per-key exponential delay: 5 ms doubling to
1000 s) and `ControllerLimiter` (the larger of the two, controller-runtime's default).
Limiters are pure: they take the current monotonic time and return a delay in seconds.
Called by: `kube.client`, `kube.workqueue`.
Must not import: anything in `engine`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable

Now = Callable[[], float]


class TokenBucket:
    """`qps` tokens per second, at most `burst` saved; `reserve()` books one and says how long to wait."""

    def __init__(self, *, qps: float, burst: int, now: Now = time.monotonic) -> None:
        if qps <= 0 or burst < 1:
            raise ValueError(f"token bucket needs qps > 0 and burst >= 1, got qps={qps} burst={burst}")
        self.qps = qps
        self.burst = burst
        self._now = now
        self._tokens = float(burst)
        self._stamp = now()

    def reserve(self) -> float:
        """Take one token (possibly borrowed from the future); seconds to wait before using it."""
        moment = self._now()
        self._tokens = min(float(self.burst), self._tokens + (moment - self._stamp) * self.qps)
        self._stamp = moment
        self._tokens -= 1.0
        return 0.0 if self._tokens >= 0 else -self._tokens / self.qps


class ItemBackoff:
    """Per-key exponential back-off: `base * 2**failures`, capped at `cap`."""

    def __init__(self, *, base: float = 0.005, cap: float = 1000.0) -> None:
        self.base = base
        self.cap = cap
        self._failures: dict[Hashable, int] = {}

    def when(self, key: Hashable) -> float:
        """Count one more failure of `key`; the delay before its next attempt."""
        failures = self._failures.get(key, 0)
        self._failures[key] = failures + 1
        if failures >= 64:  # 2**64 * base is beyond any cap; avoid float overflow
            return self.cap
        return min(self.cap, self.base * (2 ** failures))

    def forget(self, key: Hashable) -> None:
        """Reset the failures of `key` (after a success)."""
        self._failures.pop(key, None)

    def failures(self, key: Hashable) -> int:
        """How many times `key` failed since it was last forgotten."""
        return self._failures.get(key, 0)


class ControllerLimiter:
    """The larger of per-key back-off and an overall token bucket (10 qps, burst 100 by default)."""

    def __init__(self, *, backoff: ItemBackoff | None = None, bucket: TokenBucket | None = None) -> None:
        self.backoff = backoff or ItemBackoff()
        self.bucket = bucket or TokenBucket(qps=10.0, burst=100)

    def when(self, key: Hashable) -> float:
        """Delay before retrying `key`."""
        return max(self.backoff.when(key), self.bucket.reserve())

    def forget(self, key: Hashable) -> None:
        """Reset `key`'s back-off."""
        self.backoff.forget(key)

    def failures(self, key: Hashable) -> int:
        """Retries of `key` so far."""
        return self.backoff.failures(key)
