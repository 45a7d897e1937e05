"""TLS settings shared by every server of the controller process (spec §14.1 `tls`, §14.4).

Owns: `GO_CIPHER_SUITES` (Go cipher-suite names, as the Configuration spells them, -> OpenSSL
names; "" for TLS 1.3 suites, which neither Go nor OpenSSL let one configure), `validate`
(errors at field `tls` / `tls.cipherSuites`, as upstream reports them), `server_context`, and
`TLSError`.
Called by: `kube.configuration`, `kube.tlsconfig` (metrics server), `webhook.server`, `assembly`.
Must not import: anything else in `engine`.
"""

from __future__ import annotations

import pathlib
import ssl

GO_CIPHER_SUITES: dict[str, str] = {
    "TLS_AES_128_GCM_SHA256": "", "TLS_AES_256_GCM_SHA384": "", "TLS_CHACHA20_POLY1305_SHA256": "",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA": "ECDHE-ECDSA-AES128-SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA": "ECDHE-ECDSA-AES256-SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA": "ECDHE-RSA-AES128-SHA",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA": "ECDHE-RSA-AES256-SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": "ECDHE-ECDSA-AES128-GCM-SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": "ECDHE-ECDSA-AES256-GCM-SHA384",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": "ECDHE-RSA-AES128-GCM-SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384": "ECDHE-RSA-AES256-GCM-SHA384",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-RSA-CHACHA20-POLY1305",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-ECDSA-CHACHA20-POLY1305",
    "TLS_RSA_WITH_RC4_128_SHA": "RC4-SHA", "TLS_RSA_WITH_3DES_EDE_CBC_SHA": "DES-CBC3-SHA",
    "TLS_RSA_WITH_AES_128_CBC_SHA": "AES128-SHA", "TLS_RSA_WITH_AES_256_CBC_SHA": "AES256-SHA",
    "TLS_RSA_WITH_AES_128_CBC_SHA256": "AES128-SHA256", "TLS_RSA_WITH_AES_128_GCM_SHA256": "AES128-GCM-SHA256",
    "TLS_RSA_WITH_AES_256_GCM_SHA384": "AES256-GCM-SHA384",
    "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA": "ECDHE-ECDSA-RC4-SHA", "TLS_ECDHE_RSA_WITH_RC4_128_SHA": "ECDHE-RSA-RC4-SHA",
    "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA": "ECDHE-RSA-DES-CBC3-SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256": "ECDHE-ECDSA-AES128-SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256": "ECDHE-RSA-AES128-SHA256",
}
MIN_VERSIONS = {"": ssl.TLSVersion.TLSv1_2, "VersionTLS12": ssl.TLSVersion.TLSv1_2,
                "VersionTLS13": ssl.TLSVersion.TLSv1_3}


class TLSError(ValueError):
    """Certificates or TLS settings that cannot be used."""


def validate(min_version: str, cipher_suites: list[str] | tuple[str, ...] | None) -> list[tuple[str, str]]:
    """(field, message) problems of `tls.minVersion` and `tls.cipherSuites`; empty when usable."""
    problems: list[str] = []
    if min_version in ("VersionTLS10", "VersionTLS11"):
        problems.append(f"minVersion {min_version} is not supported: use VersionTLS12 or VersionTLS13")
    elif min_version not in MIN_VERSIONS:
        problems.append(f"unknown minVersion {min_version!r}")
    unknown = [name for name in cipher_suites or () if name not in GO_CIPHER_SUITES]
    if unknown:
        problems.append(f"unknown cipher suites {', '.join(unknown)}")
    found = [("tls", "; ".join(problems))] if problems else []
    if min_version == "VersionTLS13" and cipher_suites:
        found.append(("tls.cipherSuites", "cipher suites cannot be configured with minVersion VersionTLS13"))
    return found


def server_context(*, cert_file: pathlib.Path | str, key_file: pathlib.Path | str, min_version: str = "",
                   cipher_suites: list[str] | tuple[str, ...] | None = None,
                   alpn: tuple[str, ...] = ()) -> ssl.SSLContext:
    """A server context with Go-named settings; raises `TLSError` for unusable settings or files."""
    problems = validate(min_version, cipher_suites)
    if problems:
        raise TLSError("; ".join(f"{field}: {message}" for field, message in problems))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = MIN_VERSIONS[min_version]
    if alpn:
        context.set_alpn_protocols(list(alpn))
    try:
        context.load_cert_chain(cert_file, key_file)
    except (OSError, ssl.SSLError) as error:
        raise TLSError(f"cannot load certificate {cert_file} / key {key_file}: {error}") from error
    openssl_names = [GO_CIPHER_SUITES[name] for name in cipher_suites or () if GO_CIPHER_SUITES[name]]
    if openssl_names:
        try:
            context.set_ciphers(":".join(openssl_names))
        except ssl.SSLError as error:
            raise TLSError(f"none of the cipher suites {list(cipher_suites or ())} is available here") from error
    return context
