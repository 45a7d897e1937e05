"""Certificate rotation: one CA and serving certificate shared by every replica through a Secret.

Owns: the pure decision (`parse` the Secret's data, `decide` what to do at `now`, `renew`
what is due) and `Rotator`, which applies it: `sync(store, now)` reads the webhook Secret and
returns what it holds when valid and not due, otherwise mints and writes it with optimistic
concurrency (a lost race adopts the winner's); `install(material)` then writes
tls.crt/tls.key/ca.crt to the certificate directory (after the caller injected the bundle, so
no client meets a certificate it cannot verify); `ensure(now)` renews without a Secret.
A serving certificate is due once 2/3 of its lifetime is gone; the CA lives ten serving lifetimes, and when it
rotates the bundle carries the old and the new CA until the next serving rotation (spec §14.5).
Called by: `engine.assembly` (the certificates runnable) and tests.
Must not import: `engine.kube`, `engine.localcluster`, `engine.planner`. The Secret is reached
through the `Store` protocol; key material is never logged.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime
import enum
import pathlib
from collections.abc import Mapping
from typing import Protocol

from cryptography import exceptions, x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from engine.webhook import certificates

KEYS = ("ca.crt", "ca.key", "tls.crt", "tls.key")
CA_LIFETIMES = 10  # the CA outlives this many serving certificates
WRITE_ATTEMPTS = 5


class RotationError(Exception):
    """The Secret could not be settled (it kept changing under us)."""


@dataclasses.dataclass(frozen=True)
class Material:
    """A CA, the serving certificate it signed, and the PEM bundle clients should trust."""

    ca: certificates.KeyPair
    serving: certificates.KeyPair
    ca_bundle: bytes

    def data(self) -> dict[str, str]:
        """The Secret's `data`: the four keys, base64-encoded."""
        raw = {"ca.crt": self.ca_bundle, "ca.key": self.ca.key_pem,
               "tls.crt": self.serving.cert_pem, "tls.key": self.serving.key_pem}
        return {key: base64.b64encode(value).decode() for key, value in raw.items()}


class Action(enum.Enum):
    """What a replica must do with the Secret's content at a given time."""

    SERVE = "serve"
    RENEW_SERVING = "renew-serving"
    RENEW_CA = "renew-ca"


@dataclasses.dataclass(frozen=True)
class Stored:
    """The Secret as read: its `data` (empty when absent) and resourceVersion (None when absent)."""

    data: Mapping[str, str]
    resource_version: str | None


class Store(Protocol):
    """Where the shared material lives (the webhook Secret)."""

    async def read(self) -> Stored:
        """The current Secret."""

    async def write(self, data: Mapping[str, str], resource_version: str | None) -> bool:
        """Create (no resourceVersion) or update it; False when another writer got there first."""


@dataclasses.dataclass(frozen=True)
class Rotation:
    """What one `sync`/`ensure` changed on disk: a new serving certificate, a new CA bundle."""

    serving_rotated: bool
    ca_rotated: bool
    ca_bundle: bytes


def parse(data: Mapping[str, str], *, dns_names: list[str]) -> Material | None:
    """The Secret's material, or None when any key is missing, malformed or inconsistent."""
    try:
        raw = {key: base64.b64decode(data[key], validate=True) for key in KEYS}
        bundle = x509.load_pem_x509_certificates(raw["ca.crt"])
        ca_cert, tls_cert = bundle[0], x509.load_pem_x509_certificate(raw["tls.crt"])
        if not (_matches(ca_cert, raw["ca.key"], signs=True) and _matches(tls_cert, raw["tls.key"])):
            return None
        tls_cert.verify_directly_issued_by(ca_cert)
        names = tls_cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (KeyError, ValueError, TypeError, binascii.Error, x509.ExtensionNotFound,
            exceptions.InvalidSignature, exceptions.UnsupportedAlgorithm):
        return None
    if not set(dns_names) <= set(names.get_values_for_type(x509.DNSName)):
        return None
    ca = certificates.load_keypair(ca_cert.public_bytes(serialization.Encoding.PEM), raw["ca.key"])
    return Material(ca, certificates.load_keypair(raw["tls.crt"], raw["tls.key"]), raw["ca.crt"])


def _matches(cert: x509.Certificate, key_pem: bytes, *, signs: bool = False) -> bool:
    """The key belongs to the certificate (and, for a CA, is one `certificates.mint_serving` signs with)."""
    key = serialization.load_pem_private_key(key_pem, password=None)
    if signs and not isinstance(key, ec.EllipticCurvePrivateKey):
        return False
    spki = serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    return bool(key.public_key().public_bytes(*spki) == cert.public_key().public_bytes(*spki))


def decide(current: Material | None, now: datetime.datetime) -> Action:
    """SERVE a valid pair not yet due; renew the serving certificate, or the CA with it, otherwise."""
    if current is None or current.ca.due_for_rotation(now):
        return Action.RENEW_CA
    if current.serving.due_for_rotation(now):
        return Action.RENEW_SERVING
    return Action.SERVE


def renew(current: Material | None, action: Action, *, now: datetime.datetime, dns_names: list[str],
          validity: datetime.timedelta, ip_addresses: tuple[str, ...] = ()) -> Material:
    """Mint what `action` asks for; a new CA is bundled with the old one while the old is unexpired."""
    if action is Action.RENEW_SERVING and current is not None:
        ca, bundle = current.ca, current.ca.cert_pem
    else:
        ca = certificates.mint_ca(now=now, validity=validity * CA_LIFETIMES)
        kept = current.ca.cert_pem if current is not None and now < current.ca.not_after else b""
        bundle = ca.cert_pem + kept
    serving = certificates.mint_serving(ca, dns_names=dns_names, now=now, validity=validity,
                                        ip_addresses=ip_addresses)
    return Material(ca, serving, bundle)


def supersedes(bundle: bytes, injected: bytes) -> bool:
    """Whether `bundle` may replace `injected`: it still trusts the CA `injected` leads with, or
    leads with a CA issued no earlier (a stale replica must not put back an older CA). True when
    either cannot be read."""
    try:
        ours, theirs = (x509.load_pem_x509_certificates(pem) for pem in (bundle, injected))
    except ValueError:
        return True
    return theirs[0] in ours or ours[0].not_valid_before_utc >= theirs[0].not_valid_before_utc


def seconds_until_due(material: Material, now: datetime.datetime) -> float:
    """How long until `decide` would stop answering SERVE (0 when already due)."""
    def due_at(pair: certificates.KeyPair) -> datetime.datetime:
        return pair.issued_at + (pair.not_after - pair.issued_at) * (2 / 3)
    return max(0.0, (min(due_at(material.ca), due_at(material.serving)) - now).total_seconds())


class Rotator:
    """Owns the files in `cert_dir` (tls.crt, tls.key, ca.crt) and the material they came from."""

    def __init__(self, cert_dir: pathlib.Path, *, dns_names: list[str],
                 validity: datetime.timedelta = datetime.timedelta(days=365),
                 ip_addresses: tuple[str, ...] = ("127.0.0.1",)) -> None:
        self.cert_dir = cert_dir
        self.dns_names = dns_names
        self.validity = validity
        self.ip_addresses = ip_addresses
        self.material: Material | None = None

    @property
    def ca_bundle(self) -> bytes:
        """PEM CA certificates a client should trust right now."""
        return self.material.ca_bundle if self.material else b""

    def ensure(self, now: datetime.datetime) -> Rotation:
        """Without a Secret: renew in memory whatever is missing or due, and write the files."""
        action = decide(self.material, now)
        if action is Action.SERVE:
            return self._unchanged()
        return self.install(self._renew(self.material, action, now))

    async def sync(self, store: Store, now: datetime.datetime) -> Material:
        """The Secret's material, renewed first (optimistically) when missing or due; `install` serves it."""
        stored = await store.read()
        for _ in range(WRITE_ATTEMPTS):
            current = parse(stored.data, dns_names=self.dns_names)
            action = decide(current, now)
            if current is not None and action is Action.SERVE:  # (None is never served)
                return current
            fresh = self._renew(current or self.material, action, now)  # keeps trusting the CA served so far
            if await store.write(fresh.data(), stored.resource_version):
                return fresh
            stored = await store.read()
        raise RotationError(f"the webhook Secret changed {WRITE_ATTEMPTS} times while this replica renewed it")

    def _renew(self, current: Material | None, action: Action, now: datetime.datetime) -> Material:
        return renew(current, action, now=now, dns_names=self.dns_names, validity=self.validity,
                     ip_addresses=self.ip_addresses)

    def install(self, material: Material) -> Rotation:
        """Write `material` to the certificate directory unless it is already there."""
        previous = self.material
        if previous is not None and previous.serving.cert_pem == material.serving.cert_pem \
                and previous.ca_bundle == material.ca_bundle:
            return self._unchanged()
        certificates.write_files(self.cert_dir, material.serving, material.ca_bundle)
        self.material = material
        return Rotation(serving_rotated=True, ca_rotated=previous is None or previous.ca_bundle != material.ca_bundle,
                        ca_bundle=material.ca_bundle)

    def _unchanged(self) -> Rotation:
        return Rotation(serving_rotated=False, ca_rotated=False, ca_bundle=self.ca_bundle)
