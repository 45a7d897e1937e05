"""Certificate rotation through the webhook Secret (spec §14.5): the pure decision and `Rotator.sync`."""

from __future__ import annotations

import asyncio
import base64
import datetime
import pathlib
from collections.abc import Mapping

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from engine.webhook import certificates, rotation

NAMES = certificates.service_dns_names("jobset-webhook-service", "jobset-system")
NOW = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
DAY = datetime.timedelta(days=1)


def fresh(now: datetime.datetime = NOW, validity: datetime.timedelta = DAY) -> rotation.Material:
    return rotation.renew(None, rotation.Action.RENEW_CA, now=now, dns_names=NAMES, validity=validity)


def bundle_subjects(bundle: bytes) -> list[bytes]:
    return [cert.public_bytes(serialization.Encoding.PEM)
            for cert in x509.load_pem_x509_certificates(bundle)]


class MemoryStore:
    """A Secret with a resourceVersion; `rival` writes once just before our first write lands."""

    def __init__(self, rival: Mapping[str, str] | None = None) -> None:
        self.data: dict[str, str] = {}
        self.version = 0
        self.rival = rival
        self.writes = 0

    async def read(self) -> rotation.Stored:
        return rotation.Stored(dict(self.data), str(self.version) if self.version else None)

    async def write(self, data: Mapping[str, str], resource_version: str | None) -> bool:
        if self.rival is not None:
            self.data, self.version, self.rival = dict(self.rival), self.version + 1, None
        if resource_version != (str(self.version) if self.version else None):
            return False
        self.data, self.version = dict(data), self.version + 1
        self.writes += 1
        return True


def test_secret_data_round_trips_through_parse() -> None:
    material = fresh()
    assert set(material.data()) == set(rotation.KEYS)
    assert rotation.parse(material.data(), dns_names=NAMES) == material


@pytest.mark.parametrize("spoil", ["missing key", "not base64", "key of another cert", "other CA",
                                   "other service"])
def test_parse_rejects_inconsistent_secret_data(spoil: str) -> None:
    material, other = fresh(), fresh()
    data = material.data()
    if spoil == "missing key":
        del data["tls.key"]
    elif spoil == "not base64":
        data["tls.crt"] = "!!"
    elif spoil == "key of another cert":
        data["tls.key"] = other.data()["tls.key"]
    elif spoil == "other CA":
        data["ca.crt"], data["ca.key"] = other.data()["ca.crt"], other.data()["ca.key"]
    else:
        assert rotation.parse(data, dns_names=["elsewhere.svc"]) is None
        return
    assert rotation.parse(data, dns_names=NAMES) is None


def test_decide_serves_until_two_thirds_of_a_lifetime_then_renews() -> None:
    material = fresh()
    assert rotation.decide(None, NOW) is rotation.Action.RENEW_CA
    assert rotation.decide(material, NOW + DAY * 0.6) is rotation.Action.SERVE
    assert rotation.decide(material, NOW + DAY * 0.7) is rotation.Action.RENEW_SERVING
    later = rotation.renew(material, rotation.Action.RENEW_SERVING, now=NOW + DAY * 6.6, dns_names=NAMES,
                           validity=DAY)
    assert rotation.decide(later, NOW + DAY * 6.7) is rotation.Action.RENEW_CA
    assert rotation.seconds_until_due(material, NOW) == pytest.approx((DAY * 2 / 3).total_seconds())


def test_ca_rotation_bundles_old_and_new_ca_for_one_period() -> None:
    """§14.5: a new CA is trusted next to the old one until the next serving rotation."""
    first = fresh()
    rotated = rotation.renew(first, rotation.Action.RENEW_CA, now=NOW + DAY * 7, dns_names=NAMES, validity=DAY)
    assert rotated.ca != first.ca
    assert bundle_subjects(rotated.ca_bundle) == [rotated.ca.cert_pem, first.ca.cert_pem]
    assert rotation.parse(rotated.data(), dns_names=NAMES) == rotated
    settled = rotation.renew(rotated, rotation.Action.RENEW_SERVING, now=NOW + DAY * 8, dns_names=NAMES,
                             validity=DAY)
    assert settled.ca == rotated.ca and bundle_subjects(settled.ca_bundle) == [rotated.ca.cert_pem]
    expired = rotation.renew(first, rotation.Action.RENEW_CA, now=NOW + DAY * 11, dns_names=NAMES, validity=DAY)
    assert bundle_subjects(expired.ca_bundle) == [expired.ca.cert_pem]


def test_a_stale_bundle_does_not_supersede_a_newer_ca() -> None:
    """§14.5: injection by a replica that has not seen the rotation yet would undo it."""
    first = fresh()
    rotated = rotation.renew(first, rotation.Action.RENEW_CA, now=NOW + DAY * 7, dns_names=NAMES, validity=DAY)
    settled = rotation.renew(rotated, rotation.Action.RENEW_SERVING, now=NOW + DAY * 8, dns_names=NAMES,
                             validity=DAY)
    assert rotation.supersedes(rotated.ca_bundle, first.ca_bundle)
    assert not rotation.supersedes(first.ca_bundle, rotated.ca_bundle)
    assert rotation.supersedes(settled.ca_bundle, rotated.ca_bundle)
    assert rotation.supersedes(rotated.ca_bundle, settled.ca_bundle)  # same CA: either bundle may stand
    assert rotation.supersedes(first.ca_bundle, b"") and rotation.supersedes(b"", first.ca_bundle)
    earlier = fresh(NOW - DAY)  # minted on a replica whose clock is behind, bundled with the CA it served
    wiped = rotation.Material(earlier.ca, earlier.serving, earlier.ca.cert_pem + first.ca.cert_pem)
    assert rotation.supersedes(wiped.ca_bundle, first.ca_bundle)


def test_replicas_share_one_secret(tmp_path: pathlib.Path) -> None:
    """§14.5: the first replica mints and creates the Secret; the second serves the same files."""
    store = MemoryStore()
    one = rotation.Rotator(tmp_path / "one", dns_names=NAMES)
    two = rotation.Rotator(tmp_path / "two", dns_names=NAMES)
    now = datetime.datetime.now(datetime.timezone.utc)
    first = asyncio.run(one.sync(store, now))
    second = asyncio.run(two.sync(store, now))
    assert first == second and store.writes == 1
    assert one.install(first).serving_rotated and two.install(second).ca_rotated
    for name in ("tls.crt", "tls.key", "ca.crt"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()
    assert not one.install(asyncio.run(one.sync(store, now))).serving_rotated


def test_a_lost_race_adopts_the_winners_material(tmp_path: pathlib.Path) -> None:
    """§14.5: on conflict the replica reads again and serves what the other replica wrote."""
    winner = fresh(datetime.datetime.now(datetime.timezone.utc))
    store = MemoryStore(rival=winner.data())
    rotator = rotation.Rotator(tmp_path, dns_names=NAMES)
    adopted = asyncio.run(rotator.sync(store, datetime.datetime.now(datetime.timezone.utc)))
    assert adopted == winner and store.writes == 0


def test_due_material_is_renewed_with_the_version_read(tmp_path: pathlib.Path) -> None:
    store = MemoryStore()
    old = fresh(NOW)
    store.data, store.version = old.data(), 4
    rotator = rotation.Rotator(tmp_path, dns_names=NAMES, validity=DAY)
    renewed = asyncio.run(rotator.sync(store, NOW + DAY * 0.8))
    assert renewed.ca == old.ca and renewed.serving != old.serving
    assert store.version == 5 and rotation.parse(store.data, dns_names=NAMES) == renewed


def test_garbage_in_the_secret_is_replaced(tmp_path: pathlib.Path) -> None:
    store = MemoryStore()
    store.data, store.version = {"tls.crt": base64.b64encode(b"junk").decode()}, 1
    material = asyncio.run(rotation.Rotator(tmp_path, dns_names=NAMES).sync(store, NOW))
    assert rotation.parse(store.data, dns_names=NAMES) == material


def test_a_wiped_secret_gets_a_new_ca_bundled_with_the_one_served(tmp_path: pathlib.Path) -> None:
    """§14.5: replicas still serving the old CA's certificate stay verifiable after a forced renewal."""
    store = MemoryStore()
    rotator = rotation.Rotator(tmp_path, dns_names=NAMES)
    served = asyncio.run(rotator.sync(store, NOW))
    rotator.install(served)
    store.data = {}
    renewed = asyncio.run(rotator.sync(store, NOW + DAY))
    assert renewed.ca != served.ca
    assert bundle_subjects(renewed.ca_bundle) == [renewed.ca.cert_pem, served.ca.cert_pem]


def test_a_secret_that_never_settles_is_an_error(tmp_path: pathlib.Path) -> None:
    class Busy(MemoryStore):
        async def write(self, data: Mapping[str, str], resource_version: str | None) -> bool:
            return False

    with pytest.raises(rotation.RotationError, match="changed 5 times"):
        asyncio.run(rotation.Rotator(tmp_path, dns_names=NAMES).sync(Busy(), NOW))
