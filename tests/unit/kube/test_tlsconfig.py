"""TLS of the metrics server: certificates, minimum version, cipher suites, no HTTP/2 (spec §14.4)."""

import asyncio
import pathlib
import ssl

import pytest

from engine import tls
from engine.kube import servers, tlsconfig


def client_context(cert_file: pathlib.Path) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(cert_file))
    context.set_alpn_protocols(["h2", "http/1.1"])
    return context


async def handshake(port: int, context: ssl.SSLContext) -> tuple[str | None, str | None]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=context, server_hostname="localhost")
    ssl_object = writer.get_extra_info("ssl_object")
    answer = ssl_object.selected_alpn_protocol(), ssl_object.version()
    writer.close()
    return answer


def serve_and(context: ssl.SSLContext, client: ssl.SSLContext) -> tuple[str | None, str | None]:
    async def scenario() -> tuple[str | None, str | None]:
        site = await servers.Site.start(servers.metrics_app(), "127.0.0.1", 0, ssl_context=context)
        try:
            return await handshake(site.port, client)
        finally:
            await site.stop()
    return asyncio.run(scenario())


def test_self_signed_metrics_server_speaks_only_http_1_1_spec_14_4(tmp_path: pathlib.Path) -> None:
    cert, key = tlsconfig.self_signed(tmp_path)
    alpn, version = serve_and(tls.server_context(cert_file=cert, key_file=key, alpn=("http/1.1",)), client_context(cert))
    assert alpn == "http/1.1"
    assert version in ("TLSv1.2", "TLSv1.3")


def test_min_version_tls13_refuses_a_tls12_client_spec_14_4(tmp_path: pathlib.Path) -> None:
    cert, key = tlsconfig.self_signed(tmp_path)
    context = tls.server_context(cert_file=cert, key_file=key, min_version="VersionTLS13")
    old_client = client_context(cert)
    old_client.maximum_version = ssl.TLSVersion.TLSv1_2
    with pytest.raises((ssl.SSLError, ConnectionResetError)):
        serve_and(context, old_client)
    assert serve_and(context, client_context(cert))[1] == "TLSv1.3"


def test_cipher_suites_by_go_name_limit_tls12_ciphers_spec_14_4(tmp_path: pathlib.Path) -> None:
    cert, key = tlsconfig.self_signed(tmp_path)
    context = tls.server_context(cert_file=cert, key_file=key,
                                       cipher_suites=["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"])
    tls12 = {c["name"] for c in context.get_ciphers() if c["protocol"] == "TLSv1.2"}
    assert tls12 == {"ECDHE-ECDSA-AES128-GCM-SHA256"}


def test_missing_certificates_in_the_conventional_directory_are_a_clear_error(tmp_path: pathlib.Path) -> None:
    with pytest.raises(tls.TLSError, match=r"cannot load certificate .*tls.crt"):
        tlsconfig.metrics_context(cert_dir=str(tmp_path / "nowhere"), internal_certs=True)


def test_metrics_certificates_come_from_cert_dir_when_given_spec_14_4(tmp_path: pathlib.Path) -> None:
    tlsconfig.self_signed(tmp_path)
    context = tlsconfig.metrics_context(cert_dir=str(tmp_path), internal_certs=False)
    assert context.minimum_version is ssl.TLSVersion.TLSv1_2
