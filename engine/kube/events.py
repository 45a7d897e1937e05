"""Writing core/v1 Events, with repeats folded into one Event whose `count` grows.

Owns: `Recorder.record(api, involved, ...)`, and `RECORDER`, the process's recorder. A second
identical Event (same client, involved object, type, reason and message) within
`AGGREGATION_WINDOW` is not created again: the first one gets `count + 1` and a new
`lastTimestamp`, as client-go's event correlator does, so a pass retried with back-off shows as
"x5 over 2m" instead of five Events. Failures are logged, never raised.
Called by: `engine.kube.executor` (JobSet events), `engine.kube.packreload` (RulePackRejected).
Must not import: `engine.planner`, `engine.rules`, `engine.localcluster`.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime
import logging
import time
from collections.abc import Callable
from typing import Any

from engine.kube import client as client_
from engine.kube import errors, resources

COMPONENT = "jobset"
AGGREGATION_WINDOW = 600.0  # seconds during which a repeat bumps the count instead of creating an Event
MAX_REMEMBERED = 4096  # Events remembered for aggregation; the oldest are forgotten first
MAX_MESSAGE = 1024
log = logging.getLogger("jobset.events")

_Key = tuple[int, str, str, str, str, str, str]


@dataclasses.dataclass
class _Sent:
    name: str
    count: int
    at: float  # monotonic time of the last write


class Recorder:
    """Creates Events and folds repeats within the window into a count."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._sent: collections.OrderedDict[_Key, _Sent] = collections.OrderedDict()

    async def record(self, api: client_.Client, involved: dict[str, Any], *, type_: str, reason: str, message: str,
                     action: str, now: datetime.datetime | None = None) -> bool:
        """Record one Event about `involved` (apiVersion, kind, name, namespace, uid, ...); True if written."""
        namespace = involved["namespace"]
        message = message[:MAX_MESSAGE]
        stamp = (now or datetime.datetime.now(datetime.timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ")
        key = (id(api), namespace, involved["kind"], involved["name"], involved.get("uid", ""), reason,
               f"{type_}\n{message}")
        sent = self._sent.get(key)
        if sent is not None and self._clock() - sent.at < AGGREGATION_WINDOW:
            if await self._bump(api, namespace, sent, stamp):
                self._sent.move_to_end(key)
                return True
        return await self._create(api, key, involved, type_=type_, reason=reason, message=message, action=action,
                                  stamp=stamp)

    async def _bump(self, api: client_.Client, namespace: str, sent: _Sent, stamp: str) -> bool:
        """count + 1 on the Event already written; False when it is gone (a new one is created)."""
        try:
            await api.patch(resources.EVENTS, sent.name, {"count": sent.count + 1, "lastTimestamp": stamp},
                            namespace=namespace, patch_type=client_.PatchType.MERGE)
        except errors.NotFound:
            return False
        except errors.APIError as error:
            log.warning("event %s not updated: %s", sent.name, error)
            return False
        sent.count += 1
        sent.at = self._clock()
        return True

    async def _create(self, api: client_.Client, key: _Key, involved: dict[str, Any], *, type_: str, reason: str,
                      message: str, action: str, stamp: str) -> bool:
        event = {
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"generateName": f"{involved['name']}.", "namespace": involved["namespace"]},
            "involvedObject": involved, "reason": reason, "message": message, "type": type_, "action": action,
            "source": {"component": COMPONENT}, "reportingComponent": COMPONENT,
            "firstTimestamp": stamp, "lastTimestamp": stamp, "count": 1,
        }
        try:
            created = await api.create(resources.EVENTS, event, namespace=involved["namespace"])
        except errors.APIError as error:
            log.warning("event %s/%s on %s %s/%s not recorded: %s", type_, reason, involved["kind"],
                        involved["namespace"], involved["name"], error)
            return False
        self._sent[key] = _Sent(name=created["metadata"]["name"], count=1, at=self._clock())
        self._sent.move_to_end(key)
        while len(self._sent) > MAX_REMEMBERED:
            self._sent.popitem(last=False)
        return True


RECORDER = Recorder()
