"""Leader election on a coordination.k8s.io/v1 Lease (spec §14.3).

Owns: `Settings` (lease 15 s, renew deadline 10 s, retry 2 s by default), `LeaderElector`
(acquire, renew, release) and `LeadershipLost`. As client-go does, a lease held by another
candidate is judged expired by the local monotonic time at which this candidate last saw the
record change, never by comparing wall clocks. Updates carry the resourceVersion read, so two
candidates racing for an expired lease cannot both win.
Called by: `kube.manager` (gates the leader-only runnables on `run`).
Must not import: `planner`, `rules`, `webhook`, `localcluster`, `cli`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import logging
import random
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from engine.kube import client as client_
from engine.kube import errors, resources
from engine.metrics import metrics

_log = logging.getLogger(__name__)
_ACQUIRE_JITTER = 1.2  # candidates that start together do not retry in lockstep


class LeadershipLost(Exception):
    """The lease could not be renewed within the renew deadline."""


@dataclasses.dataclass(frozen=True)
class Settings:
    """Which lease, who we are, and the timings (seconds)."""

    name: str
    namespace: str
    identity: str = dataclasses.field(default_factory=lambda: f"{socket.gethostname()}_{uuid.uuid4()}")
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0

    def __post_init__(self) -> None:
        if not self.lease_duration > self.renew_deadline > self.retry_period > 0:
            raise ValueError("leader election needs leaseDuration > renewDeadline > retryPeriod > 0, got "
                             f"{self.lease_duration}/{self.renew_deadline}/{self.retry_period}")


class LeaderElector:
    """One candidate for one lease."""

    def __init__(self, *, client: client_.Client, settings: Settings) -> None:
        self.client = client
        self.settings = settings
        self.is_leader = False
        self._observed_spec: dict[str, Any] | None = None
        self._observed_at = 0.0

    async def run(self, leading: Callable[[], Awaitable[None]]) -> None:
        """Acquire, then run `leading()` while renewing; raise `LeadershipLost` (after cancelling
        `leading`) if renewal fails; release the lease when `leading` ends or this is cancelled."""
        await self.acquire()
        work = asyncio.create_task(leading())
        renewal = asyncio.create_task(self._renew_until_lost())
        try:
            await asyncio.wait({work, renewal}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (work, renewal):
                task.cancel()
            await asyncio.gather(work, renewal, return_exceptions=True)
            if self.is_leader:
                await self.release()
        if renewal.done() and not renewal.cancelled() and renewal.exception():
            lease = f"{self.settings.namespace}/{self.settings.name}"
            raise LeadershipLost(f"lease {lease} lost") from renewal.exception()
        if work.done() and not work.cancelled() and work.exception():
            raise work.exception()  # type: ignore[misc]

    async def acquire(self) -> None:
        """Try every retry period (plus up to 120% jitter, as client-go) until this candidate holds the lease."""
        _log.info("attempting to acquire leader lease", extra=self._fields())
        while not await self._try():
            await asyncio.sleep(self.settings.retry_period * (1.0 + random.random() * _ACQUIRE_JITTER))
        self._set_leader(True)
        _log.info("successfully acquired lease", extra=self._fields())

    async def release(self) -> None:
        """Give the lease up so another candidate can take it at once."""
        try:
            lease = await self.client.get(resources.LEASES, self.settings.name, namespace=self.settings.namespace)
            if (lease.get("spec") or {}).get("holderIdentity") == self.settings.identity:
                now = _micro_time()
                lease["spec"] = {**lease["spec"], "holderIdentity": None, "leaseDurationSeconds": 1,
                                 "renewTime": now, "acquireTime": now}
                await self.client.update(resources.LEASES, lease)
        except errors.APIError as error:
            _log.warning("could not release the lease: %s", error, extra=self._fields())
        self._set_leader(False)

    async def _renew_until_lost(self) -> None:
        settings = self.settings
        while True:
            await asyncio.sleep(settings.retry_period)
            deadline = time.monotonic() + settings.renew_deadline
            while not await self._try_before(deadline):
                if time.monotonic() + settings.retry_period >= deadline:
                    self._set_leader(False)
                    raise LeadershipLost("renew deadline passed")
                await asyncio.sleep(settings.retry_period)

    async def _try_before(self, deadline: float) -> bool:
        try:
            async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                return await self._try()
        except TimeoutError:
            return False

    async def _try(self) -> bool:
        """One attempt to acquire or renew; True if this candidate now holds the lease."""
        try:
            lease = await self.client.get(resources.LEASES, self.settings.name, namespace=self.settings.namespace)
        except errors.NotFound:
            return await self._create()
        except errors.APIError as error:
            _log.warning("error retrieving lease: %s", error, extra=self._fields())
            return False
        spec = lease.get("spec") or {}
        if spec != self._observed_spec:
            self._observed_spec, self._observed_at = spec, time.monotonic()
        holder = spec.get("holderIdentity") or ""
        duration = float(spec.get("leaseDurationSeconds") or self.settings.lease_duration)
        if holder and holder != self.settings.identity and self._observed_at + duration > time.monotonic():
            return False
        lease["spec"] = self._spec(previous=spec)
        try:
            updated = await self.client.update(resources.LEASES, lease)
        except errors.APIError as error:
            _log.info("lease update lost: %s", error, extra=self._fields())
            return False
        self._observed_spec, self._observed_at = updated.get("spec") or {}, time.monotonic()
        return True

    async def _create(self) -> bool:
        body = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                "metadata": {"name": self.settings.name, "namespace": self.settings.namespace},
                "spec": self._spec(previous={})}
        try:
            created = await self.client.create(resources.LEASES, body)
        except errors.APIError as error:
            _log.info("lease creation lost: %s", error, extra=self._fields())
            return False
        self._observed_spec, self._observed_at = created.get("spec") or {}, time.monotonic()
        return True

    def _spec(self, *, previous: dict[str, Any]) -> dict[str, Any]:
        now = _micro_time()
        ours = previous.get("holderIdentity") == self.settings.identity
        transitions = int(previous.get("leaseTransitions") or 0)
        return {"holderIdentity": self.settings.identity,
                "leaseDurationSeconds": int(round(self.settings.lease_duration)) or 1,
                "acquireTime": previous.get("acquireTime", now) if ours else now, "renewTime": now,
                "leaseTransitions": transitions if ours or not previous else transitions + 1}

    def _set_leader(self, leading: bool) -> None:
        self.is_leader = leading
        metrics.LEADER.labels(name=self.settings.name).set(1 if leading else 0)

    def _fields(self) -> dict[str, str]:
        return {"lease": f"{self.settings.namespace}/{self.settings.name}", "identity": self.settings.identity}


def _micro_time() -> str:
    """Kubernetes MicroTime: RFC 3339 with microseconds, UTC."""
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
