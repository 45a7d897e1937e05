"""The webhook transport: TLS, malformed reviews, rotation without restart (issue: webhooks)."""

from __future__ import annotations

import asyncio
import datetime
import json
import pathlib
import ssl

import aiohttp
import pytest
from cryptography import x509

from engine import tls
from engine.webhook import reviews, rotation, server


def review(uid: str = "u-1", **request: object) -> dict:
    body = {"uid": uid, "operation": "CREATE", "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "object": {"metadata": {"name": "p"}}}
    body.update(request)
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": body}


async def echo_handler(request: reviews.AdmissionRequest) -> dict:
    return reviews.allowed(request.uid, warnings=[f"saw {request.operation}"])


async def exploding_handler(request: reviews.AdmissionRequest) -> dict:
    raise RuntimeError("boom")


def client_context(ca_file: pathlib.Path) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(ca_file))
    context.check_hostname = False
    return context


async def start(tmp_path: pathlib.Path, validity: datetime.timedelta = datetime.timedelta(days=1)):
    rotator = rotation.Rotator(tmp_path, dns_names=["jobset-webhook-service.jobset-system.svc"],
                               validity=validity)
    rotator.ensure(datetime.datetime.now(datetime.timezone.utc))
    webhook = server.WebhookServer({"/validate": echo_handler, "/explode": exploding_handler},
                                   cert_dir=tmp_path, port=0)
    await webhook.start()
    return rotator, webhook


def test_review_is_answered_over_tls(tmp_path: pathlib.Path) -> None:
    async def scenario() -> None:
        _, webhook = await start(tmp_path)
        url = f"https://127.0.0.1:{webhook.bound_port}"
        async with aiohttp.ClientSession() as session:
            async with session.post(f"{url}/validate", json=review(),
                                    ssl=client_context(tmp_path / "ca.crt")) as answer:
                assert answer.status == 200
                body = await answer.json()
        await webhook.stop()
        assert body["response"] == {"uid": "u-1", "allowed": True, "warnings": ["saw CREATE"]}

    asyncio.run(scenario())


@pytest.mark.parametrize("payload, fragment", [
    (b"{not json", "not valid JSON"),
    (b"[]", "must be a JSON object"),
    (json.dumps({"kind": "Pod", "apiVersion": "v1"}).encode(), "expected kind AdmissionReview"),
    (json.dumps({"kind": "AdmissionReview", "apiVersion": "admission.k8s.io/v1"}).encode(), "request: required"),
    (json.dumps(review(object=None)).encode(), "request.object: required"),
    (json.dumps(review(uid="")).encode(), "request.uid"),
    (b"x" * (server.MAX_BODY_BYTES + 10), "larger than"),
])
def test_malformed_reviews_get_400_with_a_message(tmp_path: pathlib.Path, payload: bytes, fragment: str) -> None:
    async def scenario() -> tuple[int, str]:
        _, webhook = await start(tmp_path)
        async with aiohttp.ClientSession() as session:
            async with session.post(f"https://127.0.0.1:{webhook.bound_port}/validate", data=payload,
                                    ssl=client_context(tmp_path / "ca.crt")) as answer:
                result = answer.status, await answer.text()
        await webhook.stop()
        return result

    status, text = asyncio.run(scenario())
    assert status in (400, 413)
    assert fragment in text


def test_a_failing_handler_is_a_denial_not_a_500(tmp_path: pathlib.Path) -> None:
    async def scenario() -> tuple[int, dict]:
        _, webhook = await start(tmp_path)
        async with aiohttp.ClientSession() as session:
            async with session.post(f"https://127.0.0.1:{webhook.bound_port}/explode", json=review(),
                                    ssl=client_context(tmp_path / "ca.crt")) as answer:
                result = answer.status, await answer.json()
        await webhook.stop()
        return result

    status, body = asyncio.run(scenario())
    assert status == 200
    assert body["response"]["allowed"] is False
    assert "boom" in body["response"]["status"]["message"]


def test_certificates_rotate_before_expiry_while_serving(tmp_path: pathlib.Path) -> None:
    """§14.5: a short-validity serving certificate is replaced without a restart and no request fails."""

    async def scenario() -> tuple[set[int], int]:
        rotator, webhook = await start(tmp_path, validity=datetime.timedelta(seconds=3))
        url = f"https://127.0.0.1:{webhook.bound_port}/validate"
        context = client_context(tmp_path / "ca.crt")
        serials: set[int] = set()
        failures = 0

        async def served_serial() -> int:
            reader, writer = await asyncio.open_connection("127.0.0.1", webhook.bound_port, ssl=context)
            der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
            writer.close()
            return x509.load_der_x509_certificate(der).serial_number

        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as session:
            deadline = asyncio.get_running_loop().time() + 4.0
            while asyncio.get_running_loop().time() < deadline:
                if rotator.ensure(datetime.datetime.now(datetime.timezone.utc)).serving_rotated:
                    webhook.reload_certificates()
                async with session.post(url, json=review(), ssl=context) as answer:
                    failures += answer.status != 200
                serials.add(await served_serial())
                await asyncio.sleep(0.1)
        await webhook.stop()
        return serials, failures

    serials, failures = asyncio.run(scenario())
    assert failures == 0
    assert len(serials) >= 2, "the serving certificate was never rotated"


def test_tls_options_are_validated_as_upstream() -> None:
    """§14.1: TLS 1.0/1.1 rejected, unknown suites rejected, suites forbidden with TLS 1.3."""
    assert tls.validate("", None) == []
    assert tls.validate("VersionTLS10", None)[0][0] == "tls"
    assert tls.validate("", ("NOPE",))[0][1].startswith("unknown cipher")
    errors = tls.validate("VersionTLS13", ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",))
    assert errors == [("tls.cipherSuites", "cipher suites cannot be configured with minVersion VersionTLS13")]


def test_minimum_tls_version_is_enforced(tmp_path: pathlib.Path) -> None:
    async def scenario() -> bool:
        rotator = rotation.Rotator(tmp_path, dns_names=["x.y.svc"])
        rotator.ensure(datetime.datetime.now(datetime.timezone.utc))
        webhook = server.WebhookServer({"/validate": echo_handler}, cert_dir=tmp_path, port=0,
                                       min_version="VersionTLS13")
        await webhook.start()
        context = client_context(tmp_path / "ca.crt")
        context.maximum_version = ssl.TLSVersion.TLSv1_2
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", webhook.bound_port, ssl=context)
            writer.close()
            refused = False
        except (ssl.SSLError, ConnectionResetError):
            refused = True
        await webhook.stop()
        return refused

    assert asyncio.run(scenario())
