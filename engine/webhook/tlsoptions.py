"""TLS settings of the webhook and metrics servers (spec §14.1 `tls`, §14.4).

Owns: turning `tls.minVersion` and `tls.cipherSuites` (Go names, as upstream's
configuration spells them) into an `ssl.SSLContext`, and validating them with errors at
field `tls` / `tls.cipherSuites`.
Called by: `webhook.server`, the manager's metrics server, configuration validation.
"""

from __future__ import annotations

import dataclasses
import ssl

# Go cipher-suite names accepted by upstream, mapped to their OpenSSL names (TLS 1.2 suites;
# TLS 1.3 suites are not configurable, as in Go).
GO_CIPHER_SUITES: dict[str, str] = {
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": "ECDHE-ECDSA-AES128-GCM-SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": "ECDHE-ECDSA-AES256-GCM-SHA384",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": "ECDHE-RSA-AES128-GCM-SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384": "ECDHE-RSA-AES256-GCM-SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-ECDSA-CHACHA20-POLY1305",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-RSA-CHACHA20-POLY1305",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305": "ECDHE-ECDSA-CHACHA20-POLY1305",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305": "ECDHE-RSA-CHACHA20-POLY1305",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256": "ECDHE-ECDSA-AES128-SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256": "ECDHE-RSA-AES128-SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA": "ECDHE-ECDSA-AES128-SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA": "ECDHE-ECDSA-AES256-SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA": "ECDHE-RSA-AES128-SHA",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA": "ECDHE-RSA-AES256-SHA",
    "TLS_RSA_WITH_AES_128_GCM_SHA256": "AES128-GCM-SHA256",
    "TLS_RSA_WITH_AES_256_GCM_SHA384": "AES256-GCM-SHA384",
    "TLS_RSA_WITH_AES_128_CBC_SHA": "AES128-SHA",
    "TLS_RSA_WITH_AES_256_CBC_SHA": "AES256-SHA",
}
TLS13_ONLY_NAMES = {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"}
MIN_VERSIONS = {"": ssl.TLSVersion.TLSv1_2, "VersionTLS12": ssl.TLSVersion.TLSv1_2,
                "VersionTLS13": ssl.TLSVersion.TLSv1_3}


@dataclasses.dataclass(frozen=True)
class TLSOptions:
    """`tls.minVersion` ("" means TLS 1.2) and `tls.cipherSuites` (Go names; empty: defaults)."""

    min_version: str = ""
    cipher_suites: tuple[str, ...] = ()


def validate(options: TLSOptions) -> list[tuple[str, str]]:
    """(field, message) errors; empty when the options are usable."""
    errors: list[tuple[str, str]] = []
    problems: list[str] = []
    if options.min_version in ("VersionTLS10", "VersionTLS11"):
        problems.append(f"minVersion {options.min_version} is not supported: TLS 1.2 or newer is required")
    elif options.min_version not in MIN_VERSIONS:
        problems.append(f"unknown minVersion {options.min_version!r}: supported values are VersionTLS12, VersionTLS13")
    unknown = [name for name in options.cipher_suites
               if name not in GO_CIPHER_SUITES and name not in TLS13_ONLY_NAMES]
    if unknown:
        problems.append(f"unknown cipher suites: {', '.join(unknown)}")
    if problems:
        errors.append(("tls", "; ".join(problems)))
    if options.min_version == "VersionTLS13" and options.cipher_suites:
        errors.append(("tls.cipherSuites", "cipher suites cannot be configured with minVersion VersionTLS13"))
    return errors


def server_context(options: TLSOptions, *, cert_file: str, key_file: str,
                   alpn: tuple[str, ...] = ()) -> ssl.SSLContext:
    """A server SSLContext honouring the options; raises ValueError for invalid options."""
    problems = validate(options)
    if problems:
        raise ValueError("; ".join(f"{field}: {message}" for field, message in problems))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = MIN_VERSIONS[options.min_version]
    suites = [GO_CIPHER_SUITES[name] for name in options.cipher_suites if name in GO_CIPHER_SUITES]
    if suites:
        context.set_ciphers(":".join(suites))
    if alpn:
        context.set_alpn_protocols(list(alpn))
    context.load_cert_chain(cert_file, key_file)
    return context
