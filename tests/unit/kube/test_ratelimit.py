"""Rate limiters: token bucket pacing and per-key exponential back-off (controller-runtime defaults)."""

import pytest

from engine.kube import ratelimit


class FakeTime:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_bucket_allows_burst_then_paces_at_qps() -> None:
    now = FakeTime()
    bucket = ratelimit.TokenBucket(qps=10, burst=3, now=now)
    assert [bucket.reserve() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.reserve() == pytest.approx(0.1)
    assert bucket.reserve() == pytest.approx(0.2)
    now.t += 1.0  # ten tokens refill, capped at burst after repaying the two borrowed
    assert bucket.reserve() == 0.0


def test_bucket_rejects_nonsense_settings() -> None:
    with pytest.raises(ValueError, match="qps > 0"):
        ratelimit.TokenBucket(qps=0, burst=1)


def test_item_backoff_doubles_from_5ms_to_the_1000s_cap_and_forgets() -> None:
    backoff = ratelimit.ItemBackoff()
    delays = [backoff.when("k") for _ in range(20)]
    assert delays[:4] == pytest.approx([0.005, 0.01, 0.02, 0.04])
    assert delays[-1] == 1000.0
    assert backoff.when("other") == pytest.approx(0.005)
    assert backoff.failures("k") == 20
    backoff.forget("k")
    assert backoff.when("k") == pytest.approx(0.005)


def test_item_backoff_survives_huge_failure_counts() -> None:
    backoff = ratelimit.ItemBackoff()
    for _ in range(2000):
        delay = backoff.when("k")
    assert delay == 1000.0


def test_controller_limiter_takes_the_larger_of_backoff_and_bucket() -> None:
    now = FakeTime()
    limiter = ratelimit.ControllerLimiter(bucket=ratelimit.TokenBucket(qps=10, burst=1, now=now))
    assert limiter.when("a") == pytest.approx(0.005)  # bucket has a token
    assert limiter.when("b") == pytest.approx(0.1)  # bucket empty: its delay wins
