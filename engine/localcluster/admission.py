"""The admission chain every write goes through, and the side effects of admitted writes.

Owns: `Admission`: create-time status and built-in defaults, pod priority from PriorityClasses,
structural pruning (or the strict field-validation error) and defaulting of custom resources,
mutating webhooks, built-in and schema validation (422 Invalid with causes), validating
webhooks, managedFields bookkeeping; plus serving CRDs as soon as they are stored (`observe`,
`restore`) and server-side apply.
Called by: `api` (every create, update, patch; start-up).
Must not import: anything in `engine` outside `localcluster`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.localcluster import (applying, crds, decoding, defaulting, errors, objectmeta, resources,
                                 storage, validation, webhooks)

if TYPE_CHECKING:
    from engine.localcluster import api as api_module

_CRDS = "apiextensions.k8s.io/v1/customresourcedefinitions"
_PRIORITY_CLASSES = "scheduling.k8s.io/priorityclasses"


class Admission:
    """Defaulting, validation and webhooks for one `ClusterAPI`."""

    def __init__(self, api: "api_module.ClusterAPI") -> None:
        self._api = api
        self.webhooks = webhooks.Webhooks(api)

    async def admit(self, rt: resources.ResourceType, obj: dict[str, Any], old: dict[str, Any] | None,
                    operation: str, opts: "api_module.Options", *, subresource: str | None = None
                    ) -> dict[str, Any]:
        """The object as it will be stored, or an APIStatusError."""
        self._structural(rt, obj, opts)
        if operation == "CREATE" and rt.key == "v1/pods":
            self._priority_class(obj)
        if operation == "CREATE":
            defaulting.on_create(rt, obj)
        defaulting.apply(rt, obj)
        if subresource is None:
            mutated = await self.webhooks.mutate(rt, obj, old, operation, opts)
            if mutated is not obj:
                obj = mutated
                self._structural(rt, obj, opts)
                defaulting.apply(rt, obj)
        problems = validation.validate(rt, obj, old, subresource)
        if rt.key == _CRDS:
            problems += crds.problems(obj)
        if rt.schema is not None:
            problems += [(e.field, e.body, e.type) for e in rt.schema.validate(obj, old)]
        if problems:
            raise errors.invalid(rt.group, rt.kind, obj["metadata"].get("name", ""), problems)
        if subresource is None:
            await self.webhooks.validate(rt, obj, old, operation, opts)
        if rt.key == _CRDS:
            crds.establish(obj, self._api.clock)
        if opts.field_manager is not None and opts.applied is not None:
            applying.record_apply(rt, obj, opts.applied, opts.field_manager, self._api.clock)
        elif opts.field_manager is not None:
            applying.record_update(rt, old, obj, opts.field_manager, self._api.clock, subresource=subresource)
        return obj

    def _priority_class(self, pod: dict[str, Any]) -> None:
        """The Priority admission plugin: a pod's class (or the global default) sets its priority."""
        spec = pod.setdefault("spec", {})
        classes = self._api.storage.list(_PRIORITY_CLASSES)
        name = spec.get("priorityClassName")
        if name:
            found = next((c for c in classes if c["metadata"]["name"] == name), None)
            if found is None and name not in defaulting.SYSTEM_PRIORITIES:
                pod_name = pod["metadata"].get("name") or pod["metadata"].get("generateName", "")
                raise errors.forbidden(f'pods "{pod_name}" is forbidden: no PriorityClass with name {name} '
                                       "was found")
        else:
            found = next((c for c in classes if c.get("globalDefault")), None)
            if found is not None:
                spec["priorityClassName"] = found["metadata"]["name"]
        if found is not None:
            spec["priority"] = found.get("value", 0)
            spec.setdefault("preemptionPolicy", found.get("preemptionPolicy") or "PreemptLowerPriority")

    def _structural(self, rt: resources.ResourceType, obj: dict[str, Any], opts: "api_module.Options") -> None:
        unknown = rt.schema.prune(obj) if rt.schema is not None else decoding.check(rt, obj)
        if unknown and opts.field_validation == "Strict":
            listed = ", ".join(f'unknown field "{path}"' for path in unknown)
            prefix = "" if rt.custom else (f'{rt.kind} in version "{rt.version}" cannot be handled as a '
                                           f"{rt.kind}: ")
            raise errors.bad_request(f"{prefix}strict decoding error: {listed}")
        if opts.field_validation == "Warn":
            opts.warnings.extend(f'unknown field "{path}"' for path in unknown)
        if rt.schema is not None:
            rt.schema.apply_defaults(obj)

    async def server_side_apply(self, rt: resources.ResourceType, current: dict[str, Any] | None,
                                namespace: str, name: str, body: object, subresource: str | None,
                                opts: "api_module.Options") -> dict[str, Any]:
        """PATCH with application/apply-patch+yaml: create when absent, else merge with ownership."""
        applied = applying.decode(body)
        if opts.field_manager is None:
            raise errors.bad_request("PATCH with apply requires a fieldManager query parameter")
        meta = applied.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise errors.bad_request("error decoding apply patch: metadata must be an object")
        if meta.get("name") not in (None, name):
            raise errors.bad_request(f'the name of the object ({meta.get("name")}) does not match the '
                                     f'name on the URL ({name})')
        meta["name"] = name
        if current is None:
            if subresource is not None:
                raise errors.not_found(rt.group, rt.plural, name)
            opts.applied = objectmeta.clone(applied)
            return await self._api.create(rt.key, applied, namespace=namespace or None, options=opts)
        merged = applying.apply(rt, current, applied, opts.field_manager, force=opts.force,
                                clock=self._api.clock, subresource=subresource)
        version = meta.get("resourceVersion")
        if version and version != current["metadata"]["resourceVersion"]:
            raise errors.conflict(rt.group, rt.plural, name, errors.STALE)
        manager, opts.field_manager = opts.field_manager, None  # apply already recorded ownership
        try:
            return await self._api.replace(rt, current, merged, subresource, opts)
        finally:
            opts.field_manager = manager

    def observe(self, rt: resources.ResourceType, event: storage.Event) -> None:
        """Serve, re-serve or stop serving a CRD's types as it is stored or removed."""
        if rt.key == _CRDS:
            spec = event.obj.get("spec") or {}
            group, plural = spec.get("group", ""), (spec.get("names") or {}).get("plural", "")
            if event.type == storage.DELETED:
                self._drop_instances(group, plural)
            self._api.catalogue.unregister(group, plural)
            if event.type != storage.DELETED:
                self._api.catalogue.register(crds.resource_types(event.obj))
        self.webhooks.observe(rt, event)

    def _drop_instances(self, group: str, plural: str) -> None:
        served = [rt for rt in self._api.catalogue.all() if rt.custom and rt.group == group and rt.plural == plural]
        if served:
            for obj in self._api.storage.list(served[0].storage_key):
                self._api.erase(served[0], obj)

    async def restore(self) -> None:
        """At start: serve every stored CRD and load webhook configurations."""
        crd_type = self._api.catalogue.lookup(_CRDS)
        for crd in self._api.storage.list(crd_type.storage_key):
            self._api.catalogue.register(crds.resource_types(crd))
        for key in webhooks.CONFIGURATIONS:
            rt = self._api.catalogue.lookup(key)
            for config in self._api.storage.list(rt.storage_key):
                self.webhooks.observe(rt, storage.Event(storage.ADDED, config, None, 0))


def field_manager_from_agent(user_agent: str) -> str:
    """The default field manager: the user agent up to its first '/' (as kube-apiserver does)."""
    return (user_agent or "unknown").split("/", 1)[0][:128] or "unknown"

