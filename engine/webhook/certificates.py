"""Self-signed certificate authority and serving certificates for the webhook server.

Owns: minting a CA (`jobset-ca`, organization `jobset`) and a serving certificate for
`<service>.<namespace>.svc` (spec §14.5), writing `tls.crt`/`tls.key`/`ca.crt` to a
certificate directory, and deciding when a certificate is due for rotation.
Called by: `webhook.rotation` (the long-lived rotator) and tests.
Must not import: `engine.kube`, `engine.localcluster`, `engine.planner`.
"""

from __future__ import annotations

import dataclasses
import datetime
import ipaddress
import os
import pathlib

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_COMMON_NAME = "jobset-ca"
ORGANIZATION = "jobset"


@dataclasses.dataclass(frozen=True)
class KeyPair:
    """A PEM certificate and its PEM private key.

    `issued_at` is when it was minted; `not_before` is backdated a minute for clock skew.
    """

    cert_pem: bytes
    key_pem: bytes
    issued_at: datetime.datetime
    not_after: datetime.datetime

    def due_for_rotation(self, now: datetime.datetime, *, fraction: float = 2 / 3) -> bool:
        """True once `fraction` of the lifetime (issue to expiry) has elapsed."""
        return now >= self.issued_at + (self.not_after - self.issued_at) * fraction


def write_files(cert_dir: pathlib.Path, serving: KeyPair, ca_bundle: bytes) -> None:
    """Write tls.key, tls.crt and ca.crt, each atomically (rename); the key is owner-only."""
    cert_dir.mkdir(parents=True, exist_ok=True)
    _write_atomic(cert_dir / "ca.crt", ca_bundle, 0o644)
    _write_atomic(cert_dir / "tls.key", serving.key_pem, 0o600)
    _write_atomic(cert_dir / "tls.crt", serving.cert_pem, 0o644)


def _write_atomic(path: pathlib.Path, data: bytes, mode: int) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(temporary, path)


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def service_dns_names(service: str, namespace: str) -> list[str]:
    """The names a webhook Service is reached by inside a cluster."""
    return [service, f"{service}.{namespace}", f"{service}.{namespace}.svc",
            f"{service}.{namespace}.svc.cluster.local"]


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION)])


def mint_ca(*, now: datetime.datetime, validity: datetime.timedelta) -> KeyPair:
    """A self-signed CA named `jobset-ca`."""
    now = now.replace(microsecond=0)  # what the certificate can record, so a read-back pair is equal
    key = _new_key()
    start = now - datetime.timedelta(minutes=1)
    end = now + validity
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(CA_COMMON_NAME)).issuer_name(_name(CA_COMMON_NAME))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .sign(key, hashes.SHA256())
    )
    return KeyPair(cert.public_bytes(serialization.Encoding.PEM), _key_pem(key), now, end)


def mint_serving(ca: KeyPair, *, dns_names: list[str], now: datetime.datetime,
                 validity: datetime.timedelta, ip_addresses: tuple[str, ...] = ()) -> KeyPair:
    """A serving certificate for `dns_names` (and IPs), signed by `ca`, never outliving it."""
    ca_cert = x509.load_pem_x509_certificate(ca.cert_pem)
    ca_key = serialization.load_pem_private_key(ca.key_pem, password=None)
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        raise ValueError("the CA key must be an elliptic-curve key")
    now = now.replace(microsecond=0)
    key = _new_key()
    start = now - datetime.timedelta(minutes=1)
    end = min(now + validity, ca.not_after)
    alt_names: list[x509.GeneralName] = [x509.DNSName(name) for name in dns_names]
    alt_names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ip_addresses]
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(dns_names[0])).issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(end)
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return KeyPair(cert.public_bytes(serialization.Encoding.PEM), _key_pem(key), now, end)


def load_keypair(cert_pem: bytes, key_pem: bytes) -> KeyPair:
    """Read back a stored pair (for example from the webhook Secret)."""
    cert = x509.load_pem_x509_certificate(cert_pem)
    issued = cert.not_valid_before_utc + datetime.timedelta(minutes=1)
    return KeyPair(cert_pem, key_pem, issued, cert.not_valid_after_utc)
