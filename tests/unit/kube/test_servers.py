"""Probe and metrics endpoints, and Go-style bind addresses (spec §14.1, §14.4)."""

import asyncio

import aiohttp
import pytest

from engine.kube import servers
from engine.metrics import metrics


@pytest.mark.parametrize("address, expected", [
    (":8081", ("0.0.0.0", 8081)), ("127.0.0.1:0", ("127.0.0.1", 0)), ("[::1]:9", ("::1", 9)), ("0", None), ("", None),
])
def test_parse_address(address: str, expected: tuple | None) -> None:
    assert servers.parse_address(address) == expected


@pytest.mark.parametrize("address", ["8081", "host:", "host:99999", "a:b"])
def test_parse_address_rejects_garbage(address: str) -> None:
    with pytest.raises(ValueError, match="invalid bind address"):
        servers.parse_address(address)


def test_probes_report_failing_checks_by_name() -> None:
    state = {"ready": False}

    async def scenario() -> list[tuple[int, str]]:
        readiness = servers.Checks({"started": lambda: None if state["ready"] else "not yet",
                                    "broken": lambda: None})
        app = servers.probe_app(liveness=("healthz", servers.Checks({"ping": lambda: None})),
                                readiness=("readyz", readiness))
        site = await servers.Site.start(app, "127.0.0.1", 0)
        answers = []
        try:
            async with aiohttp.ClientSession(f"http://127.0.0.1:{site.port}") as session:
                for path in ["/healthz", "/readyz", "/readyz/started", "/readyz/broken", "/readyz/nope"]:
                    async with session.get(path) as response:
                        answers.append((response.status, await response.text()))
                state["ready"] = True
                async with session.get("/readyz") as response:
                    answers.append((response.status, await response.text()))
        finally:
            await site.stop()
        return answers

    answers = asyncio.run(scenario())
    assert answers[0] == (200, "ok")
    assert answers[1][0] == 500 and "[-]started failed: not yet" in answers[1][1]
    assert answers[2][0] == 500
    assert answers[3] == (200, "ok")
    assert answers[4][0] == 404
    assert answers[5] == (200, "ok")


def test_metrics_endpoint_serves_the_registry_spec_13() -> None:
    metrics.record_completed(namespace="ns", name="served")

    async def scenario() -> tuple[int, str, str]:
        site = await servers.Site.start(servers.metrics_app(), "127.0.0.1", 0)
        try:
            async with aiohttp.ClientSession() as session:
                async with session.get(f"http://127.0.0.1:{site.port}/metrics") as response:
                    return response.status, response.headers["Content-Type"], await response.text()
        finally:
            await site.stop()

    code, content_type, text = asyncio.run(scenario())
    assert code == 200 and content_type.startswith("text/plain")
    assert 'jobset_completed_total{jobset_name="served",namespace="ns"} 1.0' in text
