"""A local, always-current copy of one resource for the simulated controllers.

Owns: `Informer`: subscribe, list, then apply every event (ignoring ones older than what
is held, so a controller's own write-through and the watch can interleave), calling
handlers with (old, new) on every change, and `write_status`, a status write-through.
Called by: `sim.__init__` (one per resource, shared by all drivers) and the drivers
(`observe` after their own writes).
Must not import: anything in `engine` outside `localcluster`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable

from engine.localcluster import errors
from engine.localcluster.sim import podstate

Handler = Callable[[podstate.Obj | None, podstate.Obj | None], None]
log = logging.getLogger(__name__)


class Informer:
    """Objects of one resource by (namespace, name), kept current by a subscription.

    Events carrying the version already held are taken only when their content differs
    (a delivered object may show a later write's resourceVersion)."""

    def __init__(self, api: Any, resource: str) -> None:
        self.api = api
        self.resource = resource
        self.objects: dict[tuple[str, str], podstate.Obj] = {}
        self.handlers: list[Handler] = []
        self._stream: Any = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Subscribe, load the current objects, then follow events in the background."""
        self._stream = self.api.subscribe(self.resource)
        for obj in await self.api.list(self.resource):
            self.observe(obj)
        self._task = asyncio.get_running_loop().create_task(self._follow())

    def stop(self) -> None:
        """Stop following events."""
        if self._stream is not None:
            self._stream.close()
        if self._task is not None:
            self._task.cancel()

    def get(self, key: tuple[str, str]) -> podstate.Obj | None:
        """The held object (shared; do not mutate)."""
        return self.objects.get(key)

    def observe(self, obj: podstate.Obj) -> None:
        """Take `obj` unless what is held is newer."""
        key = podstate.key(obj)
        old = self.objects.get(key)
        if old is not None:
            held, given = podstate.resource_version(old), podstate.resource_version(obj)
            if held > given or (held == given and old == obj):
                return
        self.objects[key] = obj
        self._notify(old, obj)

    async def write_status(self, obj: podstate.Obj, status: podstate.Obj) -> bool:
        """Replace `obj`'s status through the API and hold the result; False when the object
        went away or changed meanwhile (404, 409), so the caller decides again later."""
        try:
            updated = await self.api.update(self.resource, {**obj, "status": status}, subresource="status")
        except errors.APIStatusError as err:
            if err.code in (404, 409):
                return False
            raise
        self.observe(updated)
        return True

    def forget(self, obj: podstate.Obj) -> None:
        """Drop the object (a DELETED event, or a delete that finished at once)."""
        key = podstate.key(obj)
        old = self.objects.get(key)
        if old is None or old["metadata"].get("uid") != obj["metadata"].get("uid"):
            return
        if podstate.resource_version(old) > podstate.resource_version(obj) > 0:
            return
        del self.objects[key]
        self._notify(old, None)

    def _notify(self, old: podstate.Obj | None, new: podstate.Obj | None) -> None:
        for handler in self.handlers:
            try:
                handler(old, new)
            except Exception:  # a handler bug must not stop the informer
                log.exception("handler of %s failed", self.resource)

    async def _follow(self) -> None:
        async for kind, obj in self._stream:
            if kind == "DELETED":
                self.forget(obj)
            else:
                self.observe(obj)
