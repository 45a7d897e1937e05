"""The HTTP face of the embedded API server (aiohttp), minus watch streams.

Owns: URL parsing (`/api/v1/...`, `/apis/G/V/...`, namespaced or not, subresources), the
discovery, OpenAPI and health endpoints, request decoding (3 MiB body limit -> 413; JSON,
YAML, or protobuf for the kinds `protobuf` knows; other media types -> 415), query options
(dryRun, fieldManager, fieldValidation, force, selectors, limit/continue, propagationPolicy,
gracePeriodSeconds), Table or JSON answers,
`Warning` headers, fault injection, and turning every `APIStatusError` into a Status body.
An unexpected exception is a server bug: it is logged and answered 500.
Called by: `server` (routes).
Must not import: anything in `engine` outside `localcluster`.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import logging
from typing import Any

import yaml
from aiohttp import web

from engine.localcluster import (admission, api as api_module, authn, discovery, errors, faults as faults_module,
                                 openapi, patching, protobuf, resources, reviews, selectors, streaming, tables)

BODY_LIMIT = 3 * 1024 * 1024
_LOG = logging.getLogger(__name__)
_RETURNS_OBJECT = {"v1/pods", "v1/services", "v1/namespaces"}


@dataclasses.dataclass
class Target:
    """What a resource URL names."""

    rt: resources.ResourceType
    namespace: str | None
    name: str | None
    subresource: str | None
    legacy_watch: bool = False


def _json(body: Any, status: int = 200, *, content_type: str = "application/json",
          warnings: list[str] | None = None) -> web.Response:
    response = web.Response(body=json.dumps(body, separators=(",", ":")).encode(), status=status,
                            content_type=content_type.split(";")[0])
    if ";" in content_type:
        response.headers["Content-Type"] = content_type
    for warning in warnings or []:
        response.headers.add("Warning", f'299 - {json.dumps(warning)}')
    return response


def status_response(error: errors.APIStatusError) -> web.Response:
    """The Status body of an error (with `Retry-After` when the error says when to retry)."""
    response = _json(error.status(), error.code)
    retry = (error.details or {}).get("retryAfterSeconds")
    if retry:
        response.headers["Retry-After"] = str(retry)
    return response


class Handlers:
    """Routes requests to the `ClusterAPI`."""

    def __init__(self, api: api_module.ClusterAPI, faults: faults_module.Faults,
                 tokens: authn.Tokens | None = None) -> None:
        self.api = api
        self.faults = faults
        self.tokens = tokens or authn.Tokens()
        self.documents = openapi.Documents(api.catalogue)
        self.watches = streaming.Watches(api)

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        """The one aiohttp handler."""
        try:
            return await self._dispatch(request)
        except errors.APIStatusError as error:
            return status_response(error)
        except ConnectionResetError:  # the client hung up (e.g. while its watch was starting): nothing to answer
            _LOG.debug("client went away during %s %s", request.method, request.path_qs)
            return web.Response(status=499)
        except Exception:  # a bug in this server; never a client mistake
            _LOG.exception("internal error serving %s %s", request.method, request.path_qs)
            return status_response(errors.internal("Internal error occurred: see the server log"))

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path.rstrip("/") or "/"
        fixed = self._fixed(request, path)
        if fixed is not None:
            return fixed
        target = self._parse(path)
        if target is None:
            group_version = path.removeprefix("/api/").removeprefix("/apis/")
            listed = discovery.resource_list(self.api.catalogue, group_version)
            if listed is None or request.method != "GET":
                raise errors.APIStatusError(404, "NotFound", "the server could not find the requested resource")
            return _json(listed)
        verb = self._verb(request, target)
        for rule in self.faults.take(verb, target.rt.key, target.rt.plural, target.namespace, target.name):
            if rule.latency:
                await asyncio.sleep(rule.latency)
            failure = rule.error()
            if failure is not None:
                raise failure
        return await getattr(self, f"_{verb}")(request, target)

    def _fixed(self, request: web.Request, path: str) -> web.StreamResponse | None:
        accept = request.headers.get("Accept", "")
        if path == "/version":
            return _json(discovery.VERSION)
        if path in ("/healthz", "/readyz", "/livez"):
            return web.Response(text="ok")
        if path in ("/api", "/apis"):
            if "as=APIGroupDiscoveryList" in accept and "v=v2" in accept:
                return _json(discovery.aggregated(self.api.catalogue, core=path == "/api"),
                             content_type=discovery.AGGREGATED_TYPE)
            return _json(discovery.api_versions() if path == "/api" else discovery.api_groups(self.api.catalogue))
        if path == "/openapi/v3":
            return _json(self.documents.root())
        if path.startswith("/openapi/"):
            document = self.documents.document(path.removeprefix("/openapi/v3/"))
            if document is None:
                raise errors.APIStatusError(404, "NotFound", "the server could not find the requested resource")
            return web.Response(body=document, content_type="application/json")
        return None

    def _parse(self, path: str) -> Target | None:
        parts = path.strip("/").split("/")
        if parts[0] == "api" and len(parts) >= 2:
            group_version, rest = parts[1], parts[2:]
        elif parts[0] == "apis" and len(parts) >= 3:
            group_version, rest = f"{parts[1]}/{parts[2]}", parts[3:]
        else:
            raise errors.APIStatusError(404, "NotFound", "the server could not find the requested resource")
        if not rest:
            return None
        legacy_watch = rest[0] == "watch"
        rest = rest[1:] if legacy_watch else rest
        namespace = None
        if len(rest) >= 3 and rest[0] == "namespaces" and rest[2] not in ("status", "finalize"):
            namespace, rest = rest[1], rest[2:]
        if not rest or len(rest) > 3:
            raise errors.APIStatusError(404, "NotFound", "the server could not find the requested resource")
        rt = self.api.catalogue.lookup(f"{group_version}/{rest[0]}")
        name = rest[1] if len(rest) > 1 else None
        subresource = rest[2] if len(rest) > 2 else None
        if (namespace is not None and not rt.namespaced) or (subresource and subresource not in rt.subresources):
            raise errors.APIStatusError(404, "NotFound", "the server could not find the requested resource")
        return Target(rt, namespace, name, subresource, legacy_watch)

    def _verb(self, request: web.Request, target: Target) -> str:
        method = request.method
        if method == "GET":
            watching = target.legacy_watch or request.query.get("watch") in ("true", "1")
            verb = "watch" if watching else "get" if target.name else "list"
        else:
            verbs = {"POST": "create", "PUT": "update", "PATCH": "patch",
                     "DELETE": "delete" if target.name else "deletecollection"}
            if method not in verbs or (method in ("PUT", "PATCH") and not target.name):
                raise errors.method_not_allowed(f"the server does not allow this method on the requested "
                                                f"resource ({method})")
            verb = verbs[method]
        if target.rt.create_only and (verb != "create" or target.name):
            raise errors.method_not_allowed(f"the server does not allow this method on the requested "
                                            f"resource ({method}): {target.rt.plural} can only be created")
        return verb

    # ---- reads -------------------------------------------------------------------------

    def _wants_table(self, request: web.Request) -> bool:
        return "as=Table" in request.headers.get("Accept", "")

    async def _get(self, request: web.Request, target: Target) -> web.StreamResponse:
        obj = self.api.stored(target.rt, target.namespace, target.name or "")
        if self._wants_table(request):
            return _json(tables.table(target.rt, [obj], self.api.clock.now(),
                                      resource_version=obj["metadata"]["resourceVersion"]))
        return _json(obj)

    async def _list(self, request: web.Request, target: Target) -> web.StreamResponse:
        query = request.query
        labels = selectors.LabelSelector.parse(query.get("labelSelector", ""))
        fields = selectors.FieldSelector.parse(query.get("fieldSelector", ""), target.rt.kind)
        objects = self.api.select(target.rt, target.namespace, labels, fields)
        version = str(self.api.storage.revision)
        start = _decode_continue(query.get("continue", ""))
        if start is not None:
            version = start[0]
            objects = [o for o in objects if _sort_key(o) > start[1]]
        token, remaining = "", 0
        limit = _int(query.get("limit", "0"), "limit")
        if limit > 0 and len(objects) > limit:
            remaining, objects = len(objects) - limit, objects[:limit]
            token = base64.urlsafe_b64encode(json.dumps([version, _sort_key(objects[-1])]).encode()).decode()
        if self._wants_table(request):
            return _json(tables.table(target.rt, objects, self.api.clock.now(), resource_version=version,
                                      continue_token=token))
        metadata: dict[str, Any] = {"resourceVersion": version}
        if token:
            metadata.update({"continue": token, "remainingItemCount": remaining})
        return _json({"kind": f"{target.rt.kind}List", "apiVersion": target.rt.api_version,
                      "metadata": metadata, "items": objects})

    async def _watch(self, request: web.Request, target: Target) -> web.StreamResponse:
        return await self.watches.serve(request, target.rt, target.namespace, target.name,
                                        table=self._wants_table(request))

    # ---- writes ------------------------------------------------------------------------

    def _options(self, request: web.Request, body: dict[str, Any] | None = None) -> api_module.Options:
        query = request.query
        validation = query.get("fieldValidation", "") or "Warn"
        if validation not in ("Strict", "Warn", "Ignore"):
            raise errors.bad_request(f"fieldValidation: Unsupported value: {validation!r}: supported values: "
                                     '"Ignore", "Strict", "Warn"')
        dry_run = query.getall("dryRun", []) + list((body or {}).get("dryRun") or [])
        if any(value != "All" for value in dry_run):
            raise errors.bad_request(f'Invalid dry run value: dryRun: Unsupported value: "{dry_run[0]}"')
        manager = query.get("fieldManager") or admission.field_manager_from_agent(request.headers.get("User-Agent", ""))
        force = query.get("force", "false") in ("true", "1")
        return api_module.Options(field_manager=manager, field_validation=validation, dry_run=bool(dry_run),
                                  force=force)

    async def _create(self, request: web.Request, target: Target) -> web.StreamResponse:
        if target.subresource == "binding" and target.rt.key == "v1/pods":
            body = await read_body(request)
            node = ((body.get("target") or {}) if isinstance(body, dict) else {}).get("name")
            if not node:
                raise errors.invalid("", "Binding", target.name or "", [("target.name", "Required value")])
            await self.api.bind(target.namespace or "default", target.name or "", node)
            return _json({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}, 201)
        if target.name:
            raise errors.method_not_allowed("the server does not allow this method on the requested resource")
        body = await read_body(request)
        if target.rt.create_only:
            return _json(reviews.create(target.rt, body, self.tokens, self.api.storage), 201)
        opts = self._options(request)
        created = await self.api.create(target.rt.key, body, namespace=target.namespace, options=opts)
        return _json(created, 201, warnings=opts.warnings)

    async def _update(self, request: web.Request, target: Target) -> web.StreamResponse:
        body = await read_body(request)
        opts = self._options(request)
        if isinstance(body, dict) and (body.get("metadata") or {}).get("name") not in (None, target.name):
            raise errors.bad_request(f"the name of the object ({body['metadata']['name']}) does not match the "
                                     f"name on the URL ({target.name})")
        if isinstance(body, dict):
            body.setdefault("metadata", {})["name"] = target.name
        updated = await self.api.update(target.rt.key, body, subresource=target.subresource,
                                        namespace=target.namespace, options=opts)
        return _json(updated, warnings=opts.warnings)

    async def _patch(self, request: web.Request, target: Target) -> web.StreamResponse:
        content_type = request.headers.get("Content-Type", "")
        kind = patching.patch_kind(content_type, target.rt)
        raw = await read_raw(request)
        opts = self._options(request)
        if kind == "apply" and not request.query.get("fieldManager"):
            raise errors.bad_request("PATCH with apply requires a fieldManager query parameter")
        existed = self.api.storage.get(target.rt.storage_key, target.namespace or "", target.name or "") is not None
        patched = await self.api.patch(target.rt.key, target.namespace, target.name or "", raw, patch_type=kind,
                                       subresource=target.subresource, options=opts)
        return _json(patched, 200 if existed else 201, warnings=opts.warnings)

    async def _delete(self, request: web.Request, target: Target) -> web.StreamResponse:
        body = await read_body(request, optional=True) or {}
        if not isinstance(body, dict):
            raise errors.bad_request("the body of a DELETE must be DeleteOptions")
        opts = self._options(request, body)
        propagation = request.query.get("propagationPolicy") or body.get("propagationPolicy")
        orphan = body.get("orphanDependents") is True or request.query.get("orphanDependents") == "true"
        if propagation is None and orphan:
            propagation = "Orphan"
        grace = body.get("gracePeriodSeconds", request.query.get("gracePeriodSeconds"))
        grace = None if grace is None else _int(str(grace), "gracePeriodSeconds")
        if not isinstance(body.get("preconditions") or {}, dict):
            raise errors.bad_request("preconditions: expected an object with uid and resourceVersion")
        current = self.api.stored(target.rt, target.namespace, target.name or "")
        pending = await self.api.delete(target.rt.key, target.namespace, target.name or "", propagation=propagation,
                                        grace_period_seconds=grace, dry_run=opts.dry_run,
                                        preconditions=body.get("preconditions"))
        if pending is not None:
            return _json(pending)
        if target.rt.custom or target.rt.key in _RETURNS_OBJECT:
            return _json(current)
        return _json({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                      "details": {"name": target.name, "group": target.rt.group, "kind": target.rt.plural,
                                  "uid": current["metadata"]["uid"]}})

    async def _deletecollection(self, request: web.Request, target: Target) -> web.StreamResponse:
        labels = selectors.LabelSelector.parse(request.query.get("labelSelector", ""))
        fields = selectors.FieldSelector.parse(request.query.get("fieldSelector", ""), target.rt.kind)
        body = await read_body(request, optional=True) or {}
        propagation = request.query.get("propagationPolicy") or (body or {}).get("propagationPolicy")
        deleted = []
        for obj in list(self.api.select(target.rt, target.namespace, labels, fields)):
            meta = obj["metadata"]
            try:
                await self.api.delete(target.rt.key, meta.get("namespace"), meta["name"], propagation=propagation)
            except errors.APIStatusError as error:
                if error.code != 404:
                    raise
            deleted.append(obj)
        return _json({"kind": f"{target.rt.kind}List", "apiVersion": target.rt.api_version,
                      "metadata": {"resourceVersion": str(self.api.storage.revision)}, "items": deleted})


async def read_raw(request: web.Request) -> bytes:
    """The request body, at most 3 MiB (413 beyond)."""
    if (request.content_length or 0) > BODY_LIMIT:
        raise errors.too_large(BODY_LIMIT)
    chunks, size = [], 0
    while True:
        chunk = await request.content.read(65536)
        if not chunk:
            break
        size += len(chunk)
        if size > BODY_LIMIT:
            raise errors.too_large(BODY_LIMIT)
        chunks.append(chunk)
    return b"".join(chunks)


async def read_body(request: web.Request, *, optional: bool = False) -> Any:
    """The decoded JSON (or YAML) body; 415 for other media types, 400 for malformed bodies."""
    content_type = request.headers.get("Content-Type", "application/json").split(";")[0].strip()
    raw = await read_raw(request)
    if optional and not raw.strip():
        return None
    if content_type in ("", "application/json", "*/*"):
        try:
            return json.loads(raw)
        except ValueError as error:
            raise errors.bad_request(f"couldn't get version/kind; json parse error: {error}") from None
    if content_type == protobuf.MEDIA_TYPE:
        return protobuf.decode(raw)
    if content_type in ("application/yaml", "application/x-yaml"):
        try:
            return yaml.safe_load(raw)
        except yaml.YAMLError as error:
            raise errors.bad_request(f"error converting YAML to JSON: {error}") from None
    raise errors.APIStatusError(415, "UnsupportedMediaType", f'the body of the request was in an unknown '
                                f'format - accepted media types include: application/json, application/yaml '
                                f'(got "{content_type}")')


def _int(text: str, name: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise errors.bad_request(f"{name}: invalid integer {text!r}") from None


def _sort_key(obj: dict[str, Any]) -> str:
    return f'{obj["metadata"].get("namespace", "")}/{obj["metadata"]["name"]}'


def _decode_continue(token: str) -> tuple[str, str] | None:
    if not token:
        return None
    try:
        version, key = json.loads(base64.urlsafe_b64decode(token.encode()))
        return str(version), str(key)
    except (ValueError, TypeError):
        raise errors.bad_request("continue key is not valid") from None
