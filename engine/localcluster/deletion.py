"""Deletion: finalizers, propagation, garbage collection, namespaces and pod grace periods.

Owns: `Deletion`, which answers DELETE requests (deletionTimestamp while finalizers or a pod's
grace period hold the object; `foregroundDeletion` for Foreground; owner references stripped
for Orphan), and which, as the garbage collector, deletes dependents whose owners are gone,
releases Foreground owners once their blocking dependents are gone, empties terminating
namespaces and removes pods whose grace period elapsed on the clock.
Called by: `api` (delete requests, `observe` of every stored change, `resume` at start).
Must not import: anything in `engine` outside `localcluster`.
"""

from __future__ import annotations

import asyncio
import datetime
from typing import TYPE_CHECKING, Any

from engine.localcluster import clock as clocks, errors, objectmeta, resources, storage

if TYPE_CHECKING:
    from engine.localcluster import api as api_module

FOREGROUND = "foregroundDeletion"
_Ref = tuple[str, str, str]  # (resource key, namespace, name)


class Deletion:
    """Deletion requests and the garbage collector of one `ClusterAPI`."""

    def __init__(self, api: "api_module.ClusterAPI") -> None:
        self._api = api
        self._dependents: dict[str, set[_Ref]] = {}  # owner uid -> dependents
        self._uids: dict[str, _Ref] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._indexing = False  # True while `resume` rebuilds the index (owners may come later)

    # ---- requests ----------------------------------------------------------------------

    async def delete(self, rt: resources.ResourceType, current: dict[str, Any], propagation: str,
                     grace: int | None, dry_run: bool) -> dict[str, Any] | None:
        """Start or finish deleting `current`; the pending object, or None once it is gone."""
        if rt.key == "v1/namespaces":
            return self._delete_namespace(rt, current, dry_run)
        meta = current["metadata"]
        grace = _pod_grace(current, grace) if rt.key == "v1/pods" else 0
        finalizers = list(meta.get("finalizers") or [])
        if propagation == "Foreground" and FOREGROUND not in finalizers:
            finalizers.append(FOREGROUND)
        if propagation == "Orphan" and not dry_run:
            await self._orphan(meta["uid"])
        if not finalizers and (grace == 0 or meta.get("deletionGracePeriodSeconds") == 0):
            if not dry_run:
                self._api.erase(rt, current)
            return None
        pending = self._mark(rt, current, finalizers, grace)
        if dry_run or pending == current:
            return pending
        stored = self._api.write(rt, pending, current)
        if grace > 0 and pending["metadata"]["deletionTimestamp"] != meta.get("deletionTimestamp"):
            self._spawn(self._expire_grace(rt, stored, grace))
        if FOREGROUND in finalizers:
            self._spawn(self._collect(meta["uid"]))
        return stored

    def _mark(self, rt: resources.ResourceType, current: dict[str, Any], finalizers: list[str],
              grace: int) -> dict[str, Any]:
        meta = dict(current["metadata"])
        now = self._api.clock.now()
        deadline = clocks.rfc3339(now + datetime.timedelta(seconds=grace))
        if not meta.get("deletionTimestamp") or grace < meta.get("deletionGracePeriodSeconds", 0):
            meta["deletionTimestamp"] = deadline
            meta["deletionGracePeriodSeconds"] = grace
            if rt.has_generation and not current["metadata"].get("deletionTimestamp"):
                meta["generation"] = meta.get("generation", 0) + 1
        if finalizers:
            meta["finalizers"] = finalizers
        return {**current, "metadata": meta}

    def _delete_namespace(self, rt: resources.ResourceType, current: dict[str, Any],
                          dry_run: bool) -> dict[str, Any]:
        if current["metadata"].get("deletionTimestamp") or dry_run:
            return current
        pending = self._mark(rt, current, list(current["metadata"].get("finalizers") or []), 0)
        pending["spec"] = {**current.get("spec", {}), "finalizers": ["kubernetes"]}
        pending["status"] = {**current.get("status", {}), "phase": "Terminating"}
        stored = self._api.write(rt, pending, current)
        self._spawn(self._empty_namespace(current["metadata"]["name"]))
        return stored

    # ---- the garbage collector ----------------------------------------------------------

    def observe(self, rt: resources.ResourceType, event: storage.Event) -> None:
        """Keep the owner index current and react to removals."""
        meta = event.obj["metadata"]
        ref: _Ref = (rt.key, meta.get("namespace", ""), meta["name"])
        old_owners = {r.get("uid") for r in (event.old or {}).get("metadata", {}).get("ownerReferences") or []}
        owners = {r.get("uid") for r in meta.get("ownerReferences") or []}
        if event.type == storage.DELETED:
            self._uids.pop(meta.get("uid", ""), None)
            owners, old_owners = set(), old_owners | owners
            if self._dependents.get(meta.get("uid", "")):
                self._spawn(self._collect(meta["uid"]))
        else:
            self._uids[meta["uid"]] = ref
        for uid in old_owners - owners:
            self._dependents.get(uid, set()).discard(ref)
            self._spawn(self._release_foreground(uid))
        for uid in owners:
            self._dependents.setdefault(uid, set()).add(ref)
            if self._indexing:
                continue
            if uid not in self._uids:
                self._spawn(self._collect(uid))  # created with an owner that is already gone
            elif event.type == storage.ADDED and self._deleting_dependents(uid):
                self._spawn(self._collect(uid))  # created while its owner waits for its dependents to go

    def resume(self) -> None:
        """After a restart: rebuild the index and restart every pending deletion."""
        seen: set[str] = set()
        self._indexing = True
        for rt in self._api.catalogue.all():
            if rt.storage_key in seen:
                continue
            seen.add(rt.storage_key)
            for obj in self._api.storage.list(rt.storage_key):
                self.observe(rt, storage.Event(storage.ADDED, obj, None, 0))
        self._indexing = False
        for rt in self._api.catalogue.all():
            for obj in self._api.storage.list(rt.storage_key):
                meta = obj["metadata"]
                if not meta.get("deletionTimestamp"):
                    continue
                if rt.key == "v1/namespaces":
                    self._spawn(self._empty_namespace(meta["name"]))
                elif FOREGROUND in (meta.get("finalizers") or []):
                    self._spawn(self._collect(meta["uid"]))
                elif rt.key == "v1/pods":
                    self._spawn(self._expire_grace(rt, obj, 0))
        for uid in [u for u in self._dependents if u not in self._uids]:
            self._spawn(self._collect(uid))

    def _deleting_dependents(self, owner_uid: str) -> bool:
        """The owner is being deleted in foreground (its dependents go first)."""
        owner = self._object(self._uids.get(owner_uid))
        return owner is not None and FOREGROUND in (owner["metadata"].get("finalizers") or [])

    async def _collect(self, owner_uid: str) -> None:
        """Delete (or un-own) the dependents of an owner that is gone or deleting in foreground."""
        owner = self._object(self._uids.get(owner_uid))
        foreground = owner is not None and FOREGROUND in (owner["metadata"].get("finalizers") or [])
        if owner is not None and not foreground:
            return
        for key, namespace, name in sorted(self._dependents.get(owner_uid, set())):
            dependent = self._object((key, namespace, name))
            if dependent is None or dependent["metadata"].get("deletionTimestamp"):
                continue
            refs = dependent["metadata"].get("ownerReferences") or []
            living = [r for r in refs if r.get("uid") != owner_uid and self._owner_alive(r.get("uid"))]
            try:
                if living:
                    await self._set_owners(key, dependent, living)
                else:
                    await self._api.delete(key, namespace, name,
                                           propagation="Foreground" if foreground else "Background")
            except errors.APIStatusError:
                continue  # changed or gone meanwhile; a later event brings us back
        if foreground:
            await self._release_foreground(owner_uid)

    async def _release_foreground(self, owner_uid: str) -> None:
        ref = self._uids.get(owner_uid)
        owner = self._object(ref)
        if ref is None or owner is None or FOREGROUND not in (owner["metadata"].get("finalizers") or []):
            return
        for dependent_ref in self._dependents.get(owner_uid, set()):
            dependent = self._object(dependent_ref)
            if dependent is not None and any(r.get("uid") == owner_uid and r.get("blockOwnerDeletion")
                                             for r in dependent["metadata"].get("ownerReferences") or []):
                return
        rt = self._api.catalogue.lookup(ref[0])
        meta = dict(owner["metadata"])
        meta["finalizers"] = [f for f in meta["finalizers"] if f != FOREGROUND]
        await self._api.replace(rt, owner, objectmeta.clone({**owner, "metadata": meta}), None, None)

    async def _orphan(self, owner_uid: str) -> None:
        for key, _namespace, _name in sorted(self._dependents.get(owner_uid, set())):
            dependent = self._object((key, _namespace, _name))
            if dependent is not None:
                refs = [r for r in dependent["metadata"].get("ownerReferences") or []
                        if r.get("uid") != owner_uid]
                await self._set_owners(key, dependent, refs)

    async def _set_owners(self, key: str, obj: dict[str, Any], refs: list[dict[str, Any]]) -> None:
        rt = self._api.catalogue.lookup(key)
        meta = {**obj["metadata"], "ownerReferences": refs}
        if not refs:
            del meta["ownerReferences"]
        await self._api.replace(rt, obj, objectmeta.clone({**obj, "metadata": meta}), None, None)

    async def _empty_namespace(self, namespace: str) -> None:
        while True:
            remaining = 0
            for rt in {rt.storage_key: rt for rt in self._api.catalogue.all() if rt.namespaced}.values():
                for obj in self._api.storage.list(rt.storage_key, namespace):
                    remaining += 1
                    if not obj["metadata"].get("deletionTimestamp"):
                        try:
                            await self._api.delete(rt.key, namespace, obj["metadata"]["name"])
                        except errors.APIStatusError:
                            pass
            if remaining == 0:
                break
            await asyncio.sleep(0.02)
        space = self._api.storage.get("/namespaces", "", namespace)
        if space is not None and not space["metadata"].get("finalizers"):
            self._api.erase(self._api.catalogue.lookup("v1/namespaces"), space)

    async def _expire_grace(self, rt: resources.ResourceType, pod: dict[str, Any], grace: int) -> None:
        await self._api.clock.sleep(grace)
        meta = pod["metadata"]
        current = self._api.storage.get(rt.storage_key, meta.get("namespace", ""), meta["name"])
        if current is None or current["metadata"].get("uid") != meta["uid"]:
            return
        if current["metadata"].get("finalizers"):
            settled = {**current, "metadata": {**current["metadata"], "deletionGracePeriodSeconds": 0}}
            self._api.write(rt, settled, current)
        else:
            self._api.erase(rt, current)

    # ---- small lookups -----------------------------------------------------------------

    def _object(self, ref: _Ref | None) -> dict[str, Any] | None:
        if ref is None:
            return None
        try:
            rt = self._api.catalogue.lookup(ref[0])
        except errors.APIStatusError:
            return None
        return self._api.storage.get(rt.storage_key, ref[1], ref[2])

    def _owner_alive(self, uid: str | None) -> bool:
        return uid is not None and uid in self._uids

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _pod_grace(pod: dict[str, Any], requested: int | None) -> int:
    if not pod.get("spec", {}).get("nodeName") or pod.get("status", {}).get("phase") in ("Succeeded", "Failed"):
        return 0
    if requested is not None:
        return max(0, requested)
    return int(pod.get("spec", {}).get("terminationGracePeriodSeconds", 30))
