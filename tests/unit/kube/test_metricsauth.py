"""The metrics scrape filter: bearer tokens, review order, and its short bounded cache of decisions."""

from __future__ import annotations

import argparse
import asyncio
import logging
from typing import Any

import pytest

from engine.kube import configuration, errors, metricsauth


class ReviewingServer:
    """Answers the two reviews from tables, counting them; `fail` makes the next call a 503."""

    def __init__(self, users: dict[str, str], readers: set[str]) -> None:
        self.users, self.readers = users, readers
        self.calls: list[str] = []
        self.fail = False

    async def create(self, resource: Any, body: dict[str, Any], **_: Any) -> dict[str, Any]:
        self.calls.append(resource.plural)
        if self.fail:
            raise errors.ServerError({"code": 503, "reason": "ServiceUnavailable", "message": "down"})
        spec = body["spec"]
        if resource is metricsauth.TOKEN_REVIEWS:
            name = self.users.get(spec["token"])
            user = {"username": name, "uid": f"uid-{name}", "groups": ["g"], "extra": {"k": ["v"]}}
            return {**body, "status": {"authenticated": True, "user": user} if name else {"authenticated": False}}
        assert spec["nonResourceAttributes"] == {"path": "/metrics", "verb": "get"}
        assert (spec["uid"], spec["groups"], spec["extra"]) == (f"uid-{spec['user']}", ["g"], {"k": ["v"]})
        return {**body, "status": {"allowed": spec["user"] in self.readers}}


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def reviewer(server: ReviewingServer, clock: Clock, **options: Any) -> metricsauth.Reviewer:
    return metricsauth.Reviewer(server, clock=clock, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize("header, token", [
    ("Bearer abc", "abc"), ("bearer  abc ", "abc"), ("Basic abc", None), ("Bearer", None), (None, None), ("", None),
])
def test_bearer_token(header: str | None, token: str | None) -> None:
    assert metricsauth.bearer_token(header) == token


def test_decisions_need_both_reviews_and_are_cached_for_the_ttl() -> None:
    server, clock = ReviewingServer({"t-reader": "reader", "t-other": "other"}, {"reader"}), Clock()
    check = reviewer(server, clock, ttl=10.0).check

    async def scenario() -> list[int]:
        return [(await check(header, "/metrics")).status
                for header in (None, "Bearer nobody", "Bearer t-other", "Bearer t-reader", "Bearer t-reader")]

    assert asyncio.run(scenario()) == [401, 401, 403, 200, 200]
    assert server.calls == ["tokenreviews", "tokenreviews", "subjectaccessreviews", "tokenreviews",
                            "subjectaccessreviews"]  # no call without a token; the repeat came from the cache
    server.readers.clear()
    clock.now = 9.9
    assert asyncio.run(check("Bearer t-reader", "/metrics")).status == 200
    clock.now = 10.1
    outcome = asyncio.run(check("Bearer t-reader", "/metrics"))
    assert outcome == (403, 'Forbidden: user "reader" may not get /metrics\n')


def test_an_api_failure_is_500_and_not_remembered(caplog: pytest.LogCaptureFixture) -> None:
    server, clock = ReviewingServer({"secret-token": "reader"}, {"reader"}), Clock()
    check = reviewer(server, clock).check
    server.fail = True
    with caplog.at_level(logging.DEBUG):
        assert asyncio.run(check("Bearer secret-token", "/metrics")).status == 500
    server.fail = False
    assert asyncio.run(check("Bearer secret-token", "/metrics")).status == 200
    assert "503" in caplog.text and "secret-token" not in caplog.text


def test_the_cache_is_bounded() -> None:
    server, clock = ReviewingServer({f"t{i}": f"u{i}" for i in range(5)}, {f"u{i}" for i in range(5)}), Clock()
    check = reviewer(server, clock, capacity=2).check

    async def scrape(*tokens: str) -> None:
        for token in tokens:
            assert (await check(f"Bearer {token}", "/metrics")).allowed

    asyncio.run(scrape("t0", "t1", "t2"))
    calls = len(server.calls)
    asyncio.run(scrape("t2", "t1"))  # still cached
    assert len(server.calls) == calls
    asyncio.run(scrape("t0"))  # evicted first
    assert len(server.calls) == calls + 2


def test_the_filter_is_on_by_default_and_only_a_flag_turns_it_off(tmp_path: Any) -> None:
    """`--no-metrics-auth` for local runs; upstream's Configuration file has no such field."""
    parser = argparse.ArgumentParser()
    configuration.add_flags(parser)
    assert configuration.resolve(parser.parse_args([])).metrics.auth_filter is True
    assert configuration.resolve(parser.parse_args(["--no-metrics-auth"])).metrics.auth_filter is False
    path = tmp_path / "config.yaml"
    path.write_text("metrics:\n  auth_filter: false\n")
    with pytest.raises(configuration.ConfigurationError, match='metrics.auth_filter: unknown field'):
        configuration.load(path)
