"""The in-process API of the embedded API server: one code path for HTTP clients and the simulation.

Owns: `ClusterAPI` (create, get, list, update, patch, delete, subscribe on "v1/pods"-style
resource keys, and bind for pods/binding), `Options` (field manager, field validation, dry run,
warnings out) and the write pipeline every change goes through: decoding, system metadata,
defaulting, admission (mutating webhooks, schema and built-in validation, validating webhooks),
storage, watch fan-out and the deletion machinery.
Every method runs on the server's event loop. Objects passed in are copied; objects returned are
fresh copies the caller may mutate.
Pod graceful deletion: deleting a scheduled, non-terminal pod only sets its deletionTimestamp;
the kubelet simulation sees that MODIFIED event, ends the pod and calls
`delete("v1/pods", ns, name, grace_period_seconds=0)`; without it the pod goes when the grace
period elapses on the clock.
Called by: the HTTP layer (`handlers`), `server`, the simulation (`engine.localcluster.sim`).
Must not import: anything in `engine` outside `localcluster`.
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

from engine.localcluster import (admission, clock as clocks, decoding, deletion, errors, objectmeta, patching,
                                 resources, selectors, storage, watching)

_NAMESPACES = "v1/namespaces"


@dataclasses.dataclass
class Options:
    """Per-request options of a write; `warnings` collects what the client should be told."""

    field_manager: str | None = None
    field_validation: str = "Warn"  # Strict | Warn | Ignore
    dry_run: bool = False
    force: bool = False
    applied: dict[str, Any] | None = None  # the configuration of a server-side apply that creates
    warnings: list[str] = dataclasses.field(default_factory=list)


class ObjectStream:
    """Async iterator of (type, object) events of one resource, from subscription on."""

    def __init__(self, subscription: watching.Subscription) -> None:
        self._subscription = subscription

    def __aiter__(self) -> "ObjectStream":
        return self

    async def __anext__(self) -> tuple[str, dict[str, Any]]:
        event = await self._subscription.__anext__()
        return event.type, objectmeta.clone(event.obj)

    def close(self) -> None:
        """Stop the stream; iteration ends."""
        self._subscription.close()


class ClusterAPI:
    """The API server's object model, without HTTP."""

    def __init__(self, store: storage.Storage, *, clock: clocks.Clock | None = None) -> None:
        self.storage = store
        self.clock: clocks.Clock = clock or clocks.VirtualClock()
        self.catalogue = resources.Catalogue()
        self.hub = watching.Hub()
        self.deletion = deletion.Deletion(self)
        self.admission = admission.Admission(self)

    async def start(self) -> None:
        """Bootstrap: default namespaces, re-serve stored CRDs, resume pending deletions."""
        for name in ("default", "kube-system", "kube-public", "kube-node-lease"):
            if self.storage.get("/namespaces", "", name) is None:
                await self.create(_NAMESPACES, {"metadata": {"name": name}})
        await self.admission.restore()
        self.deletion.resume()

    # ---- reads -------------------------------------------------------------------------

    async def get(self, resource: str, namespace: str | None, name: str) -> dict[str, Any]:
        """The object, or NotFound."""
        rt = self.catalogue.lookup(resource)
        return objectmeta.clone(self.stored(rt, namespace, name))

    async def list(self, resource: str, namespace: str | None = None, *, label_selector: str = "",
                   field_selector: str = "") -> list[dict[str, Any]]:
        """Objects matching the selectors, in namespace/name order."""
        rt = self.catalogue.lookup(resource)
        labels = selectors.LabelSelector.parse(label_selector)
        fields = selectors.FieldSelector.parse(field_selector, rt.kind)
        return [objectmeta.clone(o) for o in self.select(rt, namespace, labels, fields)]

    def subscribe(self, resource: str) -> ObjectStream:
        """Every later ADDED / MODIFIED / DELETED event of the resource, in order."""
        rt = self.catalogue.lookup(resource)
        return ObjectStream(self.hub.subscribe(rt.storage_key))

    def stored(self, rt: resources.ResourceType, namespace: str | None, name: str) -> dict[str, Any]:
        """The stored (shared, read-only) object, or NotFound."""
        found = self.storage.get(rt.storage_key, (namespace or "") if rt.namespaced else "", name)
        if found is None:
            raise errors.not_found(rt.group, rt.plural, name)
        return found

    def select(self, rt: resources.ResourceType, namespace: str | None,
               labels: selectors.LabelSelector, fields: selectors.FieldSelector) -> list[dict[str, Any]]:
        """Stored (read-only) objects matching both selectors."""
        namespace = namespace if rt.namespaced else None
        name = fields.name()
        if name is not None and (namespace is not None or not rt.namespaced):
            one = self.storage.get(rt.storage_key, namespace or "", name)
            candidates = [one] if one is not None else []
        else:
            candidates = self.storage.list(rt.storage_key, namespace)
        if labels.empty and fields.empty:
            return candidates
        return [o for o in candidates
                if labels.matches(o["metadata"].get("labels")) and fields.matches(o)]

    # ---- writes ------------------------------------------------------------------------

    async def create(self, resource: str, obj: dict[str, Any], *, namespace: str | None = None,
                     dry_run: bool = False, options: Options | None = None) -> dict[str, Any]:
        """Create; AlreadyExists, Invalid, NotFound (namespace) or Forbidden (terminating namespace)."""
        rt = self.catalogue.lookup(resource)
        opts = options or Options(dry_run=dry_run)
        obj = self._decode(rt, obj)
        meta = obj["metadata"]
        self._check_namespace(rt, namespace, meta, creating=True)
        if not meta.get("name"):
            if not meta.get("generateName"):
                raise errors.invalid(rt.group, rt.kind, "", [
                    ("metadata.name", "Required value: name or generateName is required")])
            meta["name"] = objectmeta.generated_name(meta["generateName"])
        for field in objectmeta.SYSTEM_FIELDS:
            meta.pop(field, None)
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = clocks.rfc3339(self.clock.now())
        if rt.has_generation:
            meta["generation"] = 1
        obj = await self.admission.admit(rt, obj, None, "CREATE", opts)
        if self.storage.get(rt.storage_key, meta.get("namespace", ""), meta["name"]) is not None:
            raise errors.already_exists(rt.group, rt.plural, meta["name"])
        if opts.dry_run or dry_run:
            return obj
        return objectmeta.clone(self.write(rt, obj, None))

    async def update(self, resource: str, obj: dict[str, Any], *, subresource: str | None = None,
                     namespace: str | None = None, options: Options | None = None) -> dict[str, Any]:
        """Replace (PUT); Conflict when `metadata.resourceVersion` is stale."""
        rt = self.catalogue.lookup(resource)
        obj = self._decode(rt, obj)
        meta = obj["metadata"]
        self._check_namespace(rt, namespace, meta, creating=False)
        current = self.stored(rt, meta.get("namespace"), meta.get("name", ""))
        self._check_version(rt, current, meta.get("resourceVersion"))
        return await self.replace(rt, current, obj, subresource, options or Options())

    async def patch(self, resource: str, namespace: str | None, name: str, body: object, *,
                    patch_type: str, subresource: str | None = None, field_manager: str | None = None,
                    force: bool = False, options: Options | None = None) -> dict[str, Any]:
        """Patch with "json", "merge", "strategic" or "apply" (or their content types)."""
        rt = self.catalogue.lookup(resource)
        opts = options or Options()
        opts.field_manager = field_manager or opts.field_manager
        opts.force = force or opts.force
        kind = patching.patch_kind(patch_type, rt)
        ns = (namespace or "") if rt.namespaced else ""
        current = self.storage.get(rt.storage_key, ns, name)
        if kind == "apply":
            return await self.admission.server_side_apply(rt, current, ns, name, body, subresource, opts)
        if current is None:
            raise errors.not_found(rt.group, rt.plural, name)
        patched = patching.apply_patch(kind, rt, current, body)
        self._check_version(rt, current, patched.get("metadata", {}).get("resourceVersion"))
        return await self.replace(rt, current, patched, subresource, opts)

    async def delete(self, resource: str, namespace: str | None, name: str, *,
                     propagation: str | None = "Background", grace_period_seconds: int | None = None,
                     dry_run: bool = False, preconditions: dict[str, str] | None = None
                     ) -> dict[str, Any] | None:
        """Delete; returns the object while deletion is pending (finalizers, grace), else None.

        `propagation` None means the resource's default (Orphan for batch/v1 Jobs)."""
        rt = self.catalogue.lookup(resource)
        current = self.stored(rt, namespace, name)
        for field, value in (preconditions or {}).items():
            if value and current["metadata"].get(field) != value:
                raise errors.conflict(rt.group, rt.plural, name, f"Precondition failed: {field}: "
                                      f"{value}, object {field}: {current['metadata'].get(field)}")
        if propagation is None:
            propagation = "Orphan" if rt.key == "batch/v1/jobs" else "Background"
        if propagation not in ("Background", "Foreground", "Orphan"):
            raise errors.bad_request(f"unsupported propagation policy {propagation!r}")
        await self.admission.webhooks.validate(rt, current, current, "DELETE", Options(dry_run=dry_run))
        result = await self.deletion.delete(rt, current, propagation, grace_period_seconds, dry_run)
        return objectmeta.clone(result) if result is not None else None

    async def bind(self, namespace: str, name: str, node: str) -> dict[str, Any]:
        """pods/binding: set `spec.nodeName` and `PodScheduled=True`; Conflict if already bound."""
        rt = self.catalogue.lookup("v1/pods")
        current = self.stored(rt, namespace, name)
        if current["metadata"].get("deletionTimestamp"):
            raise errors.conflict("", "pods", name, "pod is being deleted, cannot be assigned to a host")
        if (current.get("spec") or {}).get("nodeName"):
            raise errors.conflict("", "pods", name, f"pod {name} is already assigned to node "
                                  f'"{current["spec"]["nodeName"]}"')
        now = clocks.rfc3339(self.clock.now())
        status = dict(current.get("status") or {})
        conditions = [c for c in status.get("conditions") or [] if c.get("type") != "PodScheduled"]
        status["conditions"] = conditions + [{"type": "PodScheduled", "status": "True",
                                              "lastProbeTime": None, "lastTransitionTime": now}]
        bound = {**current, "spec": {**current.get("spec", {}), "nodeName": node}, "status": status,
                 "metadata": dict(current["metadata"])}
        return objectmeta.clone(self.write(rt, bound, current))

    # ---- the pipeline (also used by deletion, admission and server-side apply) --------------

    async def replace(self, rt: resources.ResourceType, current: dict[str, Any], new: dict[str, Any],
                      subresource: str | None, opts: Options | None) -> dict[str, Any]:
        """Turn a client's full object into the stored next version of `current`."""
        opts = opts or Options()
        new = self._split_status(rt, current, new, subresource)
        meta, old_meta = new.setdefault("metadata", {}), current["metadata"]
        objectmeta.keep_system_fields(meta, old_meta)
        if rt.has_generation and _content(new) != _content(current):
            meta["generation"] = old_meta.get("generation", 0) + 1
        if old_meta.get("deletionTimestamp"):
            added = set(meta.get("finalizers") or []) - set(old_meta.get("finalizers") or [])
            if added:
                raise errors.invalid(rt.group, rt.kind, old_meta["name"], [(
                    "metadata.finalizers", "Forbidden: no new finalizers can be added if the "
                    "object is being deleted, found new finalizers " + str(sorted(added)))])
        new = await self.admission.admit(rt, new, current, "UPDATE", opts, subresource=subresource)
        if objectmeta.without_volatile(new) == objectmeta.without_volatile(current):
            return objectmeta.clone(current)
        if opts.dry_run:
            return new
        if (old_meta.get("deletionTimestamp") and not meta.get("finalizers")
                and not meta.get("deletionGracePeriodSeconds")):
            self.erase(rt, new)
            return objectmeta.clone(new)
        return objectmeta.clone(self.write(rt, new, current))

    def write(self, rt: resources.ResourceType, obj: dict[str, Any],
              old: dict[str, Any] | None) -> dict[str, Any]:
        """Store `obj` under a new resourceVersion and tell watchers; returns the stored object."""
        obj["metadata"]["resourceVersion"] = str(self.storage.next_revision())
        event = self.storage.put(rt.storage_key, obj, old)
        self.hub.publish(rt.storage_key, event)
        self.deletion.observe(rt, event)
        self.admission.observe(rt, event)
        return obj

    def erase(self, rt: resources.ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
        """Remove the object for good (DELETED event); returns its last state."""
        last = {**obj, "metadata": {**obj["metadata"],
                                    "resourceVersion": str(self.storage.next_revision())}}
        event = self.storage.remove(rt.storage_key, last)
        self.hub.publish(rt.storage_key, event)
        self.deletion.observe(rt, event)
        self.admission.observe(rt, event)
        return last

    def _decode(self, rt: resources.ResourceType, obj: Any) -> dict[str, Any]:
        if not isinstance(obj, dict):
            raise errors.bad_request(f"the body must be a JSON object, got {type(obj).__name__}")
        obj = objectmeta.clone(obj)
        api_version, kind = obj.get("apiVersion"), obj.get("kind")
        if (api_version and api_version != rt.api_version) or (kind and kind != rt.kind):
            raise errors.bad_request(f"the API version in the data ({api_version}) or kind ({kind}) "
                                     f"does not match the expected {rt.api_version}, {rt.kind}")
        obj = {"apiVersion": rt.api_version, "kind": rt.kind,
               **{k: v for k, v in obj.items() if k not in ("apiVersion", "kind")}}
        if not isinstance(obj.setdefault("metadata", {}), dict):
            raise errors.bad_request(f'{rt.kind} in version "{rt.version}" cannot be handled as a {rt.kind}: '
                                     "json: cannot unmarshal into Go struct field .metadata of type object")
        decoding.check_metadata(rt.kind, rt.version, obj["metadata"])
        return obj

    def _check_namespace(self, rt: resources.ResourceType, namespace: str | None,
                         meta: dict[str, Any], *, creating: bool) -> None:
        if not rt.namespaced:
            meta.pop("namespace", None)
            return
        given = meta.get("namespace")
        if namespace and given and given != namespace:
            raise errors.bad_request("the namespace of the provided object does not match the "
                                     "namespace sent on the request")
        meta["namespace"] = namespace or given or "default"
        if not creating:
            return
        space = self.storage.get("/namespaces", "", meta["namespace"])
        if space is None:
            raise errors.not_found("", "namespaces", meta["namespace"])
        if space["metadata"].get("deletionTimestamp"):
            raise errors.forbidden(f'{rt.plural}{"." + rt.group if rt.group else ""} '
                                   f'"{meta.get("name") or meta.get("generateName", "")}" is forbidden: '
                                   f'unable to create new content in namespace {meta["namespace"]} '
                                   f"because it is being terminated")

    def _check_version(self, rt: resources.ResourceType, current: dict[str, Any],
                       version: str | None) -> None:
        if version and version != current["metadata"]["resourceVersion"]:
            raise errors.conflict(rt.group, rt.plural, current["metadata"]["name"], errors.STALE)

    def _split_status(self, rt: resources.ResourceType, current: dict[str, Any], new: dict[str, Any],
                      subresource: str | None) -> dict[str, Any]:
        if subresource not in (None, "status"):
            raise errors.method_not_allowed(f"the subresource {subresource!r} does not support writes")
        if subresource == "status":
            if not rt.has_status:
                raise errors.not_found(rt.group, f"{rt.plural}/status", current["metadata"]["name"])
            merged = {k: v for k, v in current.items() if k != "status"}
            if "status" in new:
                merged["status"] = new["status"]
            merged["metadata"] = _status_write_metadata(rt, current["metadata"], new.get("metadata") or {})
            return merged
        if rt.has_status:
            new = {k: v for k, v in new.items() if k != "status"}
            if "status" in current:
                new["status"] = current["status"]
        return new


def _status_write_metadata(rt: resources.ResourceType, stored: dict[str, Any],
                           sent: dict[str, Any]) -> dict[str, Any]:
    """The metadata a status write leaves: a custom resource keeps all of its stored metadata
    (only managedFields follow the request); a built-in kind takes the request's, except its
    ownerReferences, as the Kubernetes status strategies do."""
    if rt.custom:
        meta = dict(stored)
        if "managedFields" in sent:
            meta["managedFields"] = sent["managedFields"]
        return meta
    meta = dict(sent)
    meta.pop("ownerReferences", None)
    if stored.get("ownerReferences") is not None:
        meta["ownerReferences"] = stored["ownerReferences"]
    return meta


def _content(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status", "apiVersion", "kind")}
