"""Watch streams over HTTP: chunked, one JSON event per line.

Owns: `Watches.serve` (watch from a resourceVersion with replay from history, or from "now"
with synthetic ADDED events, streaming lists with `sendInitialEvents=true` ending in the
`k8s.io/initial-events-end` bookmark, periodic bookmarks, selector transitions as
ADDED/DELETED, Table events, `timeoutSeconds`, 410 Expired as an in-stream ERROR event) and
`Watches.drop` (fault injection: end every open stream of a resource).
Called by: `handlers`.
Must not import: anything in `engine` outside `localcluster`.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from aiohttp import web

from engine.localcluster import errors, resources, selectors, storage, tables

BOOKMARK_SECONDS = 5.0


class Watches:
    """Open watch streams of one API server."""

    def __init__(self, api: Any) -> None:
        self._api = api

    def drop(self, resource: str | None = None) -> int:
        """End every open watch (of one resource key); returns how many ended."""
        skey = self._api.catalogue.lookup(resource).storage_key if resource else None
        return self._api.hub.close_all(skey)

    async def serve(self, request: web.Request, rt: resources.ResourceType, namespace: str | None,
                    name: str | None, *, table: bool) -> web.StreamResponse:
        """Stream events until the timeout, a drop, or the client leaving."""
        query = request.query
        labels = selectors.LabelSelector.parse(query.get("labelSelector", ""))
        fields = selectors.FieldSelector.parse(query.get("fieldSelector", ""), rt.kind)
        if name:
            fields = selectors.FieldSelector(fields.terms + [("metadata.name", True, name)])
        send_initial = query.get("sendInitialEvents") == "true"
        version = query.get("resourceVersion", "")
        if send_initial and query.get("resourceVersionMatch") != "NotOlderThan":
            raise errors.invalid("", "ListOptions", "", [("resourceVersionMatch", "Forbidden: sendInitialEvents "
                                                          "requires setting resourceVersionMatch to NotOlderThan")])
        try:
            timeout = float(query.get("timeoutSeconds", "0") or 0)
        except ValueError:
            raise errors.bad_request(f"timeoutSeconds: invalid number {query['timeoutSeconds']!r}") from None
        bookmarks = query.get("allowWatchBookmarks") == "true"
        subscription = self._api.hub.subscribe(rt.storage_key)
        stream = _Stream(rt, namespace, labels, fields, table, self._api.clock)
        initial: list[bytes] = []
        try:
            if send_initial or version in ("", "0"):
                initial = [stream.line("ADDED", o) for o in self._api.select(rt, namespace, labels, fields)]
                if send_initial:
                    initial.append(stream.bookmark(str(self._api.storage.revision), initial_end=True))
            else:
                try:
                    history = self._api.storage.since(rt.storage_key, int(version))
                except ValueError:
                    raise errors.bad_request(f"invalid resourceVersion {version!r}") from None
                initial = [line for event in history if (line := stream.event(event)) is not None]
        except errors.APIStatusError as error:
            if error.code != 410:
                subscription.close()
                raise
            initial = [(json.dumps({"type": "ERROR", "object": error.status()}) + "\n").encode()]
            subscription.close()
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        try:
            if initial:
                await response.write(b"".join(initial))
            await self._pump(request, response, subscription, stream, timeout, bookmarks)
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            subscription.close()
        try:
            await response.write_eof()
        except (ConnectionResetError, RuntimeError):
            pass
        return response

    async def _pump(self, request: web.Request, response: web.StreamResponse, subscription: Any,
                    stream: "_Stream", timeout: float, bookmarks: bool) -> None:
        deadline = time.monotonic() + timeout if timeout > 0 else None
        while not subscription.closed:
            wait = BOOKMARK_SECONDS  # also how often a quiet stream notices a client that left
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                wait = min(BOOKMARK_SECONDS, remaining)
            try:
                event = await subscription.next(wait)
            except StopAsyncIteration:
                return
            if event is None:
                if request.transport is None or request.transport.is_closing():
                    return
                if bookmarks and (deadline is None or deadline > time.monotonic()):
                    await response.write(stream.bookmark(str(self._api.storage.revision)))
                continue
            lines = [line for e in [event, *subscription.ready()] if (line := stream.event(e)) is not None]
            if lines:
                await response.write(b"".join(lines))


class _Stream:
    """Filtering and encoding of one watcher's events."""

    def __init__(self, rt: resources.ResourceType, namespace: str | None, labels: selectors.LabelSelector,
                 fields: selectors.FieldSelector, table: bool, clock: Any) -> None:
        self.rt, self.namespace, self.labels, self.fields = rt, namespace, labels, fields
        self.table, self.clock = table, clock
        self._columns_sent = False

    def _selected(self, obj: dict[str, Any] | None) -> bool:
        if obj is None:
            return False
        if self.namespace is not None and obj["metadata"].get("namespace") != self.namespace:
            return False
        return self.labels.matches(obj["metadata"].get("labels")) and self.fields.matches(obj)

    def event(self, event: storage.Event) -> bytes | None:
        """The line for `event`, or None when this watcher does not see it."""
        now_selected = self._selected(event.obj)
        if event.type == storage.MODIFIED and not (self.labels.empty and self.fields.empty):
            was_selected = self._selected(event.old)
            if was_selected != now_selected:
                return self.line("ADDED" if now_selected else "DELETED", event.obj)
        if not now_selected:
            return None
        if self.table or event.obj.get("apiVersion") != self.rt.api_version:
            return self.line(event.type, event.obj)
        return event.line()

    def line(self, kind: str, obj: dict[str, Any]) -> bytes:
        """Encode one event."""
        if self.table:
            obj = tables.table(self.rt, [obj], self.clock.now(), resource_version=obj["metadata"]["resourceVersion"],
                               include_columns=not self._columns_sent)
            self._columns_sent = True
        elif obj.get("apiVersion") != self.rt.api_version:
            obj = {**obj, "apiVersion": self.rt.api_version}
        return (json.dumps({"type": kind, "object": obj}, separators=(",", ":")) + "\n").encode()

    def bookmark(self, version: str, *, initial_end: bool = False) -> bytes:
        """A BOOKMARK event at `version`."""
        metadata: dict[str, Any] = {"resourceVersion": version}
        if initial_end:
            metadata["annotations"] = {"k8s.io/initial-events-end": "true"}
        obj = {"kind": self.rt.kind, "apiVersion": self.rt.api_version, "metadata": metadata}
        return (json.dumps({"type": "BOOKMARK", "object": obj}, separators=(",", ":")) + "\n").encode()
