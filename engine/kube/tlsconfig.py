"""TLS for the manager's metrics server (spec §14.4): self-signing and the metrics context.

Owns: `self_signed` and `metrics_context` (certificates from `metrics.certDir` or the
conventional directory when internal certificate management is off or a directory is given,
else self-signed; ALPN `http/1.1` only: no HTTP/2). Cipher names and contexts: `engine.tls`.
Called by: `kube.manager` (`Options.from_configuration` builds the metrics context).
Must not import: anything in `engine` outside `kube` and `engine.tls`.
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

from engine import tls

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
    return tls.server_context(cert_file=cert_file, key_file=key_file, min_version=min_version,
                              cipher_suites=cipher_suites, alpn=("http/1.1",))
