"""TLS for the manager's metrics server (spec §14.4): server contexts, Go cipher names, self-signing.

Owns: `GO_CIPHER_SUITES` (Go cipher-suite name -> OpenSSL name; "" for TLS 1.3 suites, which
neither Go nor OpenSSL let one configure), `server_context` (certificate, `tls.minVersion`,
`tls.cipherSuites`, ALPN `http/1.1` only: no HTTP/2), `self_signed` and `metrics_context`
(certificates from `metrics.certDir` or the conventional directory when internal certificate
management is off or a directory is given, else self-signed).
Called by: `kube.configuration` (validates cipher names), `kube.manager`
(`Options.from_configuration` builds the metrics context).
Must not import: anything in `engine` outside `kube`.
"""

from __future__ import annotations

import datetime
import ipaddress
import pathlib
import ssl
import tempfile

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

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
_VERSIONS = {"": ssl.TLSVersion.TLSv1_2, "VersionTLS12": ssl.TLSVersion.TLSv1_2,
             "VersionTLS13": ssl.TLSVersion.TLSv1_3}


class TLSError(ValueError):
    """Certificates or TLS settings that cannot be used."""


def server_context(*, cert_file: pathlib.Path, key_file: pathlib.Path, min_version: str = "",
                   cipher_suites: list[str] | None = None) -> ssl.SSLContext:
    """A server context; `min_version` and `cipher_suites` use Go's names (already validated)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = _VERSIONS[min_version]
    context.set_alpn_protocols(["http/1.1"])
    try:
        context.load_cert_chain(cert_file, key_file)
    except (OSError, ssl.SSLError) as error:
        raise TLSError(f"cannot load certificate {cert_file} / key {key_file}: {error}") from error
    openssl_names = [GO_CIPHER_SUITES[name] for name in cipher_suites or [] if GO_CIPHER_SUITES[name]]
    if openssl_names:
        try:
            context.set_ciphers(":".join(openssl_names))
        except ssl.SSLError as error:
            raise TLSError(f"none of the cipher suites {cipher_suites} is available here") from error
    return context


def self_signed(directory: pathlib.Path, *, hosts: tuple[str, ...] = ("localhost", "127.0.0.1")) -> tuple[
        pathlib.Path, pathlib.Path]:
    """Write a fresh self-signed `tls.crt`/`tls.key` (P-256, one year) for `hosts` into `directory`."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "jobset-metrics")])
    alternatives: list[x509.GeneralName] = []
    for host in hosts:
        try:
            alternatives.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            alternatives.append(x509.DNSName(host))
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
                   .not_valid_after(now + datetime.timedelta(days=365))
                   .add_extension(x509.SubjectAlternativeName(alternatives), critical=False)
                   .sign(key, hashes.SHA256()))
    directory.mkdir(parents=True, exist_ok=True)
    cert_file, key_file = directory / "tls.crt", directory / "tls.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_file.chmod(0o600)
    return cert_file, key_file


def metrics_context(*, cert_dir: str, internal_certs: bool, min_version: str = "",
                    cipher_suites: list[str] | None = None) -> ssl.SSLContext:
    """The metrics server's context per spec §14.4: `tls.crt`/`tls.key` from `cert_dir` (or the
    conventional `k8s-metrics-server/serving-certs` temp directory) when internal certificate
    management is off or `cert_dir` is set; otherwise a fresh self-signed certificate."""
    if cert_dir or not internal_certs:
        directory = pathlib.Path(cert_dir or pathlib.Path(tempfile.gettempdir(), "k8s-metrics-server", "serving-certs"))
        cert_file, key_file = directory / "tls.crt", directory / "tls.key"
    else:
        cert_file, key_file = self_signed(pathlib.Path(tempfile.mkdtemp(prefix="jobset-metrics-")))
    return server_context(cert_file=cert_file, key_file=key_file, min_version=min_version,
                          cipher_suites=cipher_suites)
