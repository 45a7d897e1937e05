"""Kubernetes Events written by the simulated controllers (v1 `Event` objects).

Owns: `Recorder.record(obj, type, reason, message)`, which names, stamps and creates the
Event through the API; failures to record are logged, never raised.
Called by: `sim.jobdriver`, `sim.schedulerdriver`, `sim.disruption`.
Must not import: anything in `engine` outside `localcluster`.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any, Mapping

from engine.localcluster import clock as clocks, errors
from engine.localcluster.sim import podstate

log = logging.getLogger(__name__)


class Recorder:
    """Creates Events on behalf of one component (e.g. "job-controller")."""

    def __init__(self, api: Any, clock: clocks.Clock, component: str) -> None:
        self.api = api
        self.clock = clock
        self.component = component

    async def record(self, obj: Mapping[str, Any], kind: str, reason: str, message: str) -> None:
        """Create one Event about `obj` (kind is Normal or Warning)."""
        meta = obj["metadata"]
        namespace = meta.get("namespace") or "default"
        at = podstate.stamp(self.clock.now())
        event = {
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": f"{meta['name']}.{secrets.token_hex(8)}", "namespace": namespace},
            "involvedObject": {"apiVersion": obj.get("apiVersion"), "kind": obj.get("kind"),
                               "name": meta["name"], "namespace": meta.get("namespace"),
                               "uid": meta.get("uid"),
                               "resourceVersion": meta.get("resourceVersion")},
            "reason": reason, "message": message, "type": kind, "count": 1,
            "firstTimestamp": at, "lastTimestamp": at,
            "source": {"component": self.component},
            "reportingComponent": self.component, "reportingInstance": self.component,
        }
        try:
            await self.api.create("v1/events", event, namespace=namespace)
        except errors.APIStatusError as err:
            log.warning("event %s for %s not recorded: %s", reason, meta["name"], err.message)
