"""Certificate rotation: keep a valid CA and serving certificate in a directory.

Owns: `Rotator.ensure(now)`, which mints what is missing or due (2/3 of its lifetime gone),
writes it, and reports what changed so the caller can reload the server and inject the CA
bundle into the webhook configurations (spec §14.5). The CA is kept across serving-cert
rotations, so the injected caBundle stays valid; when the CA itself rotates, the bundle
carries both the old and the new CA for one period.
Called by: the manager's certificate runnable and `jobset up`.
"""

from __future__ import annotations

import dataclasses
import datetime
import pathlib

from engine.webhook import certificates


@dataclasses.dataclass(frozen=True)
class Rotation:
    """What one `ensure` call changed."""

    serving_rotated: bool
    ca_rotated: bool
    ca_bundle: bytes


class Rotator:
    """Owns the files in `cert_dir`: tls.crt, tls.key, ca.crt (and the CA key in memory)."""

    def __init__(self, cert_dir: pathlib.Path, *, dns_names: list[str],
                 validity: datetime.timedelta = datetime.timedelta(days=365),
                 ip_addresses: tuple[str, ...] = ("127.0.0.1",)) -> None:
        self.cert_dir = cert_dir
        self.dns_names = dns_names
        self.validity = validity
        self.ip_addresses = ip_addresses
        self._ca: certificates.KeyPair | None = None
        self._previous_ca: bytes = b""
        self._serving: certificates.KeyPair | None = None

    @property
    def ca_bundle(self) -> bytes:
        """PEM CA certificates a client should trust right now."""
        current = self._ca.cert_pem if self._ca else b""
        return current + self._previous_ca

    def ensure(self, now: datetime.datetime) -> Rotation:
        """Mint and write whatever is missing or due; cheap when nothing is."""
        ca_rotated = False
        if self._ca is None or self._ca.due_for_rotation(now):
            self._previous_ca = self._ca.cert_pem if self._ca else b""
            self._ca = certificates.mint_ca(now=now, validity=self.validity * 10)
            ca_rotated = True
        serving_rotated = False
        if ca_rotated or self._serving is None or self._serving.due_for_rotation(now):
            self._serving = certificates.mint_serving(
                self._ca, dns_names=self.dns_names, now=now, validity=self.validity,
                ip_addresses=self.ip_addresses)
            certificates.write_files(self.cert_dir, self._serving, self.ca_bundle)
            serving_rotated = True
        return Rotation(serving_rotated=serving_rotated, ca_rotated=ca_rotated, ca_bundle=self.ca_bundle)
