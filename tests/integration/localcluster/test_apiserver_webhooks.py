"""Admission webhooks called over HTTPS with caBundle verification, as kube-apiserver calls them."""

from __future__ import annotations

import asyncio
import base64
import datetime
import json
import ssl
import threading
from collections.abc import Iterator

import pytest
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

SERVICE = ("hooks", "admission", 443)
SERVICE_HOST = "admission.hooks.svc"


def _certificate(host: str) -> tuple[bytes, bytes]:
    """A self-signed certificate for `host` and its key, both PEM."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


class HookServer:
    """An HTTPS admission webhook: /mutate adds a label and a warning, /deny refuses."""

    def __init__(self, tmp_path) -> None:
        self.cert, key = _certificate(SERVICE_HOST)
        (tmp_path / "tls.crt").write_bytes(self.cert)
        (tmp_path / "tls.key").write_bytes(key)
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.load_cert_chain(tmp_path / "tls.crt", tmp_path / "tls.key")
        self.reviews: list[dict] = []
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(ready,), daemon=True)
        self.thread.start()
        ready.wait()

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        app = web.Application()
        app.router.add_post("/mutate", self._mutate)
        app.router.add_post("/deny", self._deny)
        self.runner = web.AppRunner(app)
        self.loop.run_until_complete(self.runner.setup())
        site = web.TCPSite(self.runner, "127.0.0.1", 0, ssl_context=self.context)
        self.loop.run_until_complete(site.start())
        self.port = self.runner.addresses[0][1]
        ready.set()
        self.loop.run_forever()

    async def _mutate(self, request: web.Request) -> web.Response:
        review = await request.json()
        self.reviews.append(review)
        patch = [{"op": "add", "path": "/metadata/labels/mutated", "value": "yes"}]
        return web.json_response({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": {
            "uid": review["request"]["uid"], "allowed": True, "patchType": "JSONPatch",
            "patch": base64.b64encode(json.dumps(patch).encode()).decode(), "warnings": ["mutated by test"]}})

    async def _deny(self, request: web.Request) -> web.Response:
        review = await request.json()
        self.reviews.append(review)
        return web.json_response({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": {
            "uid": review["request"]["uid"], "allowed": False,
            "status": {"code": 403, "reason": "Forbidden", "message": "names starting with deny- are refused"}}})

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture(scope="module")
def hooks(cluster, tmp_path_factory) -> Iterator[HookServer]:
    server = HookServer(tmp_path_factory.mktemp("hooks"))
    cluster.route_service(*SERVICE, f"127.0.0.1:{server.port}")
    yield server
    server.stop()


def _configuration(kind: str, name: str, path: str, ca: bytes, *, policy: str = "Fail",
                   selector: dict | None = None, service: tuple = SERVICE) -> dict:
    return {"apiVersion": "admissionregistration.k8s.io/v1", "kind": kind, "metadata": {"name": name}, "webhooks": [{
        "name": f"{name}.example.com", "admissionReviewVersions": ["v1"], "sideEffects": "None",
        "failurePolicy": policy, "timeoutSeconds": 2, "objectSelector": selector or {},
        "clientConfig": {"caBundle": base64.b64encode(ca).decode(),
                         "service": {"namespace": service[0], "name": service[1], "port": service[2], "path": path}},
        "rules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["configmaps"]}]}]}


def test_mutating_webhook_patch_is_applied_and_warning_surfaced(raw, hooks) -> None:
    config = _configuration("MutatingWebhookConfiguration", "mutator", "/mutate", hooks.cert,
                            selector={"matchLabels": {"hook": "mutate"}})
    assert raw("POST", "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations", config)[0] == 201
    try:
        code, headers, created = raw("POST", "/api/v1/namespaces/default/configmaps",
                                     {"metadata": {"name": "hooked", "labels": {"hook": "mutate"}}})
        assert code == 201 and created["metadata"]["labels"]["mutated"] == "yes"
        assert headers["Warning"] == '299 - "mutated by test"'
        request = hooks.reviews[-1]["request"]
        assert request["operation"] == "CREATE" and request["resource"]["resource"] == "configmaps"
        code, _, skipped = raw("POST", "/api/v1/namespaces/default/configmaps", {"metadata": {"name": "not-hooked"}})
        assert code == 201 and "labels" not in skipped["metadata"]
    finally:
        raw("DELETE", "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/mutator")


def test_validating_webhook_denial_becomes_the_error(raw, hooks) -> None:
    config = _configuration("ValidatingWebhookConfiguration", "denier", "/deny", hooks.cert)
    raw("POST", "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations", config)
    try:
        code, _, status = raw("POST", "/api/v1/namespaces/default/configmaps", {"metadata": {"name": "deny-me"}})
        assert code == 403 and status["reason"] == "Forbidden"
        assert status["message"] == ('admission webhook "denier.example.com" denied the request: '
                                     "names starting with deny- are refused")
        assert raw("GET", "/api/v1/namespaces/default/configmaps/deny-me")[0] == 404
    finally:
        raw("DELETE", "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/denier")


def test_untrusted_certificate_fails_closed_or_is_ignored(raw, hooks) -> None:
    other_ca, _ = _certificate(SERVICE_HOST)
    for policy, expected in (("Fail", 500), ("Ignore", 201)):
        config = _configuration("ValidatingWebhookConfiguration", "untrusted", "/deny", other_ca, policy=policy)
        raw("POST", "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations", config)
        try:
            code, _, body = raw("POST", "/api/v1/namespaces/default/configmaps",
                                {"metadata": {"name": f"tls-{policy.lower()}"}})
            assert code == expected, body
            if code == 500:
                assert 'failed calling webhook "untrusted.example.com"' in body["message"]
        finally:
            raw("DELETE", "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/untrusted")


def test_unrouted_service_fails_the_request(raw, hooks) -> None:
    config = _configuration("ValidatingWebhookConfiguration", "nowhere", "/deny", hooks.cert,
                            service=("hooks", "missing", 443))
    raw("POST", "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations", config)
    try:
        code, _, body = raw("POST", "/api/v1/namespaces/default/configmaps", {"metadata": {"name": "unrouted"}})
        assert code == 500 and body["reason"] == "InternalError"
    finally:
        raw("DELETE", "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/nowhere")


def test_validating_webhook_sees_deletes_with_the_old_object(raw, hooks) -> None:
    config = _configuration("ValidatingWebhookConfiguration", "guard", "/deny", hooks.cert)
    config["webhooks"][0]["rules"][0]["operations"] = ["DELETE"]
    raw("POST", "/api/v1/namespaces/default/configmaps", {"metadata": {"name": "deny-delete"}})
    raw("POST", "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations", config)
    try:
        code, _, status = raw("DELETE", "/api/v1/namespaces/default/configmaps/deny-delete")
        assert code == 403 and "denied the request" in status["message"]
        request = hooks.reviews[-1]["request"]
        assert request["operation"] == "DELETE" and request["object"] is None
        assert request["oldObject"]["metadata"]["name"] == "deny-delete"
    finally:
        raw("DELETE", "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/guard")
    assert raw("DELETE", "/api/v1/namespaces/default/configmaps/deny-delete")[0] == 200
