"""A thin asyncio client for the Kubernetes API that speaks plain JSON dicts.

Owns: `Client` (get, list, create, update, update_status, patch, delete, watch), `PatchType`
and `WatchEvent`. No generated model objects: every object is the dict the server sent (an
informer's transform trims it before caching). Requests go through aiohttp, paced by a
client-side token bucket (spec §14.1 `clientConnection.qps`/`burst`) and identified by the
user agent of spec §14.6. A 429 carrying Retry-After is retried, 5 times at most, as client-go
does. Failures raise the `errors.APIError` tree (drawn in `kube.errors`).
Called by: `kube.informers`, `kube.leaderelection`, the executor, the manager, the CLI.
Must not import: `planner`, `webhook`, `localcluster`, `cli`.
"""

from __future__ import annotations

import asyncio
import enum
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp

from engine.kube import connection as connection_
from engine.kube import errors, ratelimit, resources

RawObject = dict[str, Any]
WatchEvent = tuple[str, RawObject]  # (ADDED | MODIFIED | DELETED | BOOKMARK, object)

_REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=60, sock_connect=10)
_THROTTLE_RETRIES = 5
_log = logging.getLogger(__name__)


class PatchType(enum.StrEnum):
    """The content types of PATCH."""

    JSON = "application/json-patch+json"
    MERGE = "application/merge-patch+json"
    STRATEGIC = "application/strategic-merge-patch+json"
    APPLY = "application/apply-patch+yaml"


class Client:
    """One API server connection; create it inside the event loop that uses it, `close()` it after."""

    def __init__(self, conn: connection_.Connection) -> None:
        self.connection = conn
        self._bucket = ratelimit.TokenBucket(qps=conn.qps, burst=conn.burst)
        self._session = aiohttp.ClientSession(
            headers=conn.headers(), json_serialize=json.dumps,
            connector=aiohttp.TCPConnector(limit=256, ssl=conn.ssl_context if conn.ssl_context else False),
        )

    async def close(self) -> None:
        """Close the HTTP session."""
        await self._session.close()

    async def get(self, resource: resources.Resource, name: str, *, namespace: str | None = None,
                  subresource: str | None = None) -> RawObject:
        """GET one object."""
        return await self._call("GET", resource.path(namespace=namespace, name=name, subresource=subresource))

    async def list(self, resource: resources.Resource, *, namespace: str | None = None,
                   label_selector: str | None = None, field_selector: str | None = None,
                   resource_version: str | None = None, limit: int | None = None) -> RawObject:
        """LIST a collection (all namespaces when `namespace` is None) as one List, following `continue`
        tokens; its resourceVersion is the first page's."""
        merged: RawObject | None = None
        async for page in self.list_pages(resource, namespace=namespace, label_selector=label_selector,
                                          field_selector=field_selector, resource_version=resource_version,
                                          limit=limit):
            if merged is None:
                merged = page
            else:
                merged["items"].extend(page["items"])
        assert merged is not None
        merged.setdefault("metadata", {}).pop("continue", None)
        return merged

    async def list_pages(self, resource: resources.Resource, *, namespace: str | None = None,
                         label_selector: str | None = None, field_selector: str | None = None,
                         resource_version: str | None = None, limit: int | None = None) -> AsyncIterator[RawObject]:
        """LIST page by page (`limit` items each), so a caller can trim each page before the next."""
        params = _params(labelSelector=label_selector, fieldSelector=field_selector,
                         resourceVersion=resource_version, limit=limit)
        path = resource.path(namespace=namespace)
        token: str | None = ""
        while token is not None:
            page = await self._call("GET", path, params={**params, "continue": token} if token else params)
            page["items"] = list(page.get("items") or [])
            token = (page.get("metadata") or {}).get("continue") or None
            yield page

    async def create(self, resource: resources.Resource, body: RawObject, *, namespace: str | None = None,
                     field_manager: str | None = None, dry_run: bool = False) -> RawObject:
        """POST a new object; `namespace` defaults to the body's."""
        namespace = namespace or body.get("metadata", {}).get("namespace")
        params = _params(fieldManager=field_manager, dryRun="All" if dry_run else None)
        return await self._call("POST", resource.path(namespace=namespace), params=params, body=body)

    async def update(self, resource: resources.Resource, body: RawObject, *,
                     field_manager: str | None = None) -> RawObject:
        """PUT the object; its `metadata.resourceVersion`, if set, must still be current (else `Conflict`)."""
        return await self._put(resource, body, subresource=None, field_manager=field_manager)

    async def update_status(self, resource: resources.Resource, body: RawObject, *,
                            field_manager: str | None = None) -> RawObject:
        """PUT the object's status subresource."""
        return await self._put(resource, body, subresource="status", field_manager=field_manager)

    async def patch(self, resource: resources.Resource, name: str, patch: Any, *, namespace: str | None = None,
                    patch_type: PatchType = PatchType.MERGE, subresource: str | None = None,
                    field_manager: str | None = None, force: bool | None = None) -> RawObject:
        """PATCH an object; server-side apply (`PatchType.APPLY`) needs `field_manager`."""
        if patch_type is PatchType.APPLY and not field_manager:
            raise ValueError("server-side apply needs a field_manager")
        params = _params(fieldManager=field_manager, force=None if force is None else str(force).lower())
        return await self._call("PATCH", resource.path(namespace=namespace, name=name, subresource=subresource),
                                params=params, body=patch, content_type=patch_type.value)

    async def delete(self, resource: resources.Resource, name: str, *, namespace: str | None = None,
                     propagation: str | None = None, uid: str | None = None,
                     resource_version: str | None = None, grace_period_seconds: int | None = None) -> RawObject:
        """DELETE an object; `propagation` is Foreground, Background or Orphan; `uid` and
        `resource_version` are preconditions (a mismatch raises `Conflict`)."""
        options: RawObject = {"kind": "DeleteOptions", "apiVersion": "v1"}
        if propagation:
            options["propagationPolicy"] = propagation
        if grace_period_seconds is not None:
            options["gracePeriodSeconds"] = grace_period_seconds
        preconditions = {k: v for k, v in (("uid", uid), ("resourceVersion", resource_version)) if v}
        if preconditions:
            options["preconditions"] = preconditions
        return await self._call("DELETE", resource.path(namespace=namespace, name=name), body=options)

    async def watch(self, resource: resources.Resource, *, namespace: str | None = None,
                    resource_version: str | None = None, label_selector: str | None = None,
                    field_selector: str | None = None, timeout_seconds: int = 300,
                    bookmarks: bool = True) -> AsyncIterator[WatchEvent]:
        """Stream watch events until the server ends the stream; an in-stream ERROR raises its
        `APIError` (410 `Gone` when `resource_version` is too old)."""
        params = _params(watch="true", resourceVersion=resource_version, labelSelector=label_selector,
                         fieldSelector=field_selector, timeoutSeconds=timeout_seconds,
                         allowWatchBookmarks="true" if bookmarks else None)
        await asyncio.sleep(self._bucket.reserve())
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=timeout_seconds + 30)
        try:
            path = resource.path(namespace=namespace)
            async with self._session.get(self._url(path), params=params, timeout=timeout,
                                         headers=self._auth()) as response:
                if response.status >= 400:
                    raise await _error(response)
                async for line in _lines(response.content):
                    event = json.loads(line)
                    if event.get("type") == "ERROR":
                        status = event.get("object") or {}
                        raise errors.from_status(int(status.get("code") or 500), status)
                    yield event["type"], event["object"]
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            raise errors.TransportError(f"watch {resource.plural}: {error!r}") from error

    def _url(self, path: str) -> str:
        """The server address may carry a path prefix (API proxies): keep it."""
        return self.connection.host + path

    def _auth(self) -> dict[str, str]:
        authorization = self.connection.authorization()
        return {"Authorization": authorization} if authorization else {}

    async def _put(self, resource: resources.Resource, body: RawObject, *, subresource: str | None,
                   field_manager: str | None) -> RawObject:
        metadata = body.get("metadata") or {}
        if not metadata.get("name"):
            raise ValueError(f"cannot update a {resource.kind} without metadata.name")
        path = resource.path(namespace=metadata.get("namespace"), name=metadata["name"], subresource=subresource)
        return await self._call("PUT", path, params=_params(fieldManager=field_manager), body=body)

    async def _call(self, method: str, path: str, *, params: dict[str, str] | None = None, body: Any = None,
                    content_type: str = "application/json") -> RawObject:
        """One request; a 429 with a Retry-After is retried up to `_THROTTLE_RETRIES` times, as client-go does."""
        data = None if body is None else json.dumps(body).encode()
        attempt = 0
        while True:
            try:
                return await self._send(method, path, params=params, data=data, content_type=content_type)
            except errors.TooManyRequests as error:
                attempt += 1
                if error.retry_after is None or attempt > _THROTTLE_RETRIES:
                    raise
                _log.info("throttled by the API server, retrying in %ss", error.retry_after, extra={"path": path})
                await asyncio.sleep(error.retry_after)

    async def _send(self, method: str, path: str, *, params: dict[str, str] | None, data: bytes | None,
                    content_type: str) -> RawObject:
        await asyncio.sleep(self._bucket.reserve())
        headers = self._auth()
        if data is not None:
            headers["Content-Type"] = content_type
        try:
            async with self._session.request(method, self._url(path), params=params, data=data, headers=headers,
                                             timeout=_REQUEST_TIMEOUT) as response:
                if response.status >= 400:
                    raise await _error(response)
                decoded: RawObject = json.loads(await response.read())
                return decoded
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            raise errors.TransportError(f"{method} {path}: {error!r}") from error


def _params(**values: Any) -> dict[str, str]:
    return {key: str(value) for key, value in values.items() if value is not None}


async def _error(response: aiohttp.ClientResponse) -> errors.APIError:
    text = (await response.read()).decode(errors="replace")
    try:
        body: Any = json.loads(text)
    except ValueError:
        body = None
    error = errors.from_status(response.status, body, text=text)
    retry_after = response.headers.get("Retry-After")
    if isinstance(error, errors.TooManyRequests) and retry_after and retry_after.isdigit():
        error.status.setdefault("details", {}).setdefault("retryAfterSeconds", int(retry_after))
    return error


async def _lines(stream: aiohttp.StreamReader) -> AsyncIterator[bytes]:
    """Newline-delimited chunks of any length (aiohttp's readline caps line length)."""
    buffer = bytearray()
    async for chunk in stream.iter_any():
        start = len(buffer)
        buffer += chunk
        end = buffer.find(b"\n", start)
        while end >= 0:
            line = bytes(buffer[:end])
            del buffer[:end + 1]
            if line.strip():
                yield line
            end = buffer.find(b"\n")
    if buffer.strip():
        yield bytes(buffer)
