"""Event handlers that turn informer events into work-queue keys.

Owns: mappers (`object -> keys`): `own_key`, `controller_owner` (a child's event enqueues its
controller owner's key), `label_value` (e.g. a Pod enqueues the JobSet named by its
`jobset.sigs.k8s.io/jobset-name` label), and `enqueue`, which makes an `informers.Handler`
that maps both the old and the new object and adds the keys to a queue.
Called by: whoever wires a controller to its informers (the manager's composer).
Must not import: `planner`, `webhook`, `localcluster`, `cli`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from engine.kube import informers, workqueue

Mapper = Callable[[informers.RawObject], Iterable[informers.Key]]


def own_key(obj: informers.RawObject) -> list[informers.Key]:
    """The object's own key."""
    return [informers.Key.of(obj)]


def controller_owner(*, group: str, kind: str) -> Mapper:
    """The key of the object's controller owner, if that owner is a `kind` of API group `group`."""
    def mapper(obj: informers.RawObject) -> list[informers.Key]:
        metadata = obj.get("metadata") or {}
        for owner in metadata.get("ownerReferences") or []:
            owner_group = owner.get("apiVersion", "").rpartition("/")[0]
            if owner.get("controller") and owner.get("kind") == kind and owner_group == group:
                return [informers.Key(metadata.get("namespace") or "", owner["name"])]
        return []
    return mapper


def label_value(label: str) -> Mapper:
    """The key named by the value of `label`, in the object's namespace."""
    def mapper(obj: informers.RawObject) -> list[informers.Key]:
        metadata = obj.get("metadata") or {}
        value = (metadata.get("labels") or {}).get(label)
        return [] if not value else [informers.Key(metadata.get("namespace") or "", value)]
    return mapper


def enqueue(queue: workqueue.WorkQueue, mapper: Mapper) -> informers.Handler:
    """A handler adding to `queue` the keys `mapper` finds for the old and the new object."""
    def handler(old: informers.RawObject | None, new: informers.RawObject | None) -> None:
        keys: set[informers.Key] = set()
        for obj in (old, new):
            if obj is not None:
                keys.update(mapper(obj))
        for key in keys:
            queue.add(key)
    return handler
