"""Server-side apply and managedFields.

Owns: field sets in the FieldsV1 shape (`f:` fields, `k:` map-list keys, `v:` set values, `.`
for a list element itself), built from an object and its list and map types (the generated
table for built-ins, `x-kubernetes-list-type` and friends for custom resources, where lists are
atomic by default); `apply` (merge an applied configuration into the live object, 409 on fields
another manager owns with a different value unless forced, remove fields the manager stopped
applying) and `record_update` (ownership of the fields a non-apply write changed).
Called by: `admission`.
Must not import: anything in `engine` outside `localcluster`.
"""

from __future__ import annotations

import functools
import json
import sys
from typing import Any

import yaml

from engine.localcluster import clock as clocks, errors, objectmeta, patching, resources

Path = tuple[str, ...]
_OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
CLIENT_SIDE_APPLY = "kubectl-client-side-apply"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
_SKIPPED_META = set(objectmeta.SYSTEM_FIELDS) | {"name", "namespace", "managedFields", "generateName"}


class Typer:
    """List and map semantics at one place of an object."""

    def __init__(self, builtin: str | None = None, schema: dict[str, Any] | None = None,
                 info: dict[str, Any] | None = None) -> None:
        self.builtin, self.schema, self.info = builtin, schema, info or {}

    def child(self, field: str) -> "Typer":
        """The typer of object field `field` (or of map values)."""
        if self.schema is not None:
            props = self.schema.get("properties") or {}
            if field in props:
                return Typer(schema=props[field])
            extra = self.schema.get("additionalProperties")
            return Typer(schema=extra if isinstance(extra, dict) else {})
        return _builtin_child(self.builtin, field)

    def item(self) -> "Typer":
        """The typer of list items."""
        if self.schema is not None:
            return Typer(schema=self.schema.get("items") or {})
        return Typer(builtin=self.info.get("ref"))

    def list_kind(self) -> tuple[str, list[str]]:
        """("map", keys), ("set", []) or ("atomic", [])."""
        source = self.schema if self.schema is not None else self.info
        list_type = source.get("x-kubernetes-list-type") if self.schema is not None else source.get("list")
        keys = source.get("x-kubernetes-list-map-keys") if self.schema is not None else source.get("keys")
        if list_type is None and self.schema is None and "merge" in source.get("strategy", ""):
            list_type = "map" if source.get("key") else "set"
            keys = [source["key"]] if source.get("key") else []
        if list_type == "map" and keys:
            return "map", list(keys)
        return ("set", []) if list_type == "set" else ("atomic", [])

    def key_defaults(self) -> dict[str, Any]:
        """Defaults of list-map key fields of the items (a port's protocol is TCP when unset)."""
        if self.schema is not None:
            props = (self.schema.get("items") or {}).get("properties") or {}
            return {k: v["default"] for k, v in props.items() if isinstance(v, dict) and "default" in v}
        return {"protocol": "TCP"}

    def element_key(self, item: dict[str, Any], keys: list[str]) -> dict[str, Any]:
        """The identity of a list-map item, unset key fields taking their defaults."""
        defaults = self.key_defaults()
        return {k: item[k] if k in item else defaults.get(k) for k in keys}

    def atomic_map(self) -> bool:
        """Whether this map is owned as a whole."""
        source = self.schema if self.schema is not None else self.info
        return source.get("x-kubernetes-map-type" if self.schema is not None else "map") == "atomic"


@functools.lru_cache(maxsize=4096)
def _builtin_child(type_name: str | None, field: str) -> Typer:
    info = patching.field_info(type_name, field)
    return Typer(builtin=info.get("ref"), info=info)


def root_typer(rt: resources.ResourceType) -> Typer:
    """The typer of a whole object of type `rt`."""
    if rt.custom:
        return Typer(schema=rt.openapi or {"x-kubernetes-preserve-unknown-fields": True})
    return Typer(builtin=patching.type_of(rt))


def _child(typer: Typer, field: str) -> Typer:
    return Typer(builtin=_OBJECT_META) if field == "metadata" else typer.child(field)


def flatten(value: Any, typer: Typer, prefix: Path = ()) -> dict[Path, Any]:
    """Owned paths of `value` -> their value (leaves, plus list elements under `.`)."""
    found: dict[Path, Any] = {}
    if isinstance(value, dict) and not typer.atomic_map() and value:
        for field, sub in value.items():
            if prefix == () and field in ("apiVersion", "kind"):
                continue
            if prefix == ("f:metadata",) and field in _SKIPPED_META:
                continue
            sub_typer = _child(typer, field) if prefix == () else typer.child(field)
            found.update(flatten(sub, sub_typer, prefix + (f"f:{field}",)))
        return found
    if isinstance(value, list) and value:
        kind, keys = typer.list_kind()
        if kind == "map":
            for item in value:
                if isinstance(item, dict):
                    identity = typer.element_key(item, keys)
                    element = prefix + ("k:" + json.dumps(identity, separators=(",", ":")),)
                    found[element + (".",)] = None
                    found.update(flatten({k: v for k, v in item.items() if k not in keys}, typer.item(), element))
            return found
        if kind == "set":
            for item in value:
                found[prefix + ("v:" + json.dumps(item, separators=(",", ":")),)] = item
            return found
    found[prefix] = value
    return found


def to_fields_v1(paths: set[Path]) -> dict[str, Any]:
    """Nested FieldsV1 from a set of paths."""
    root: dict[str, Any] = {}
    for path in sorted(paths):
        node = root
        for part in path:
            node = node.setdefault(sys.intern(part), {})
    return root


def from_fields_v1(fields: dict[str, Any], prefix: Path = ()) -> set[Path]:
    """The leaf paths of a FieldsV1 document."""
    paths: set[Path] = set()
    for part, sub in fields.items():
        if part == ".":
            paths.add(prefix + (".",))
        elif sub:
            paths |= from_fields_v1(sub, prefix + (part,))
        else:
            paths.add(prefix + (part,))
    return paths


def decode(body: object) -> dict[str, Any]:
    """An apply body (JSON or YAML, bytes or text, or a dict)."""
    if isinstance(body, (bytes, str)):
        try:
            body = yaml.safe_load(body)
        except yaml.YAMLError as error:
            raise errors.bad_request(f"error decoding YAML: {error}") from None
    if not isinstance(body, dict):
        raise errors.bad_request("error decoding apply patch: the body must be an object")
    return objectmeta.clone(body)


def _scoped(obj: dict[str, Any], subresource: str | None) -> dict[str, Any]:
    if subresource == "status":
        return {"status": obj.get("status")} if "status" in obj else {}
    return {k: v for k, v in obj.items() if k != "status"}


def _entries(obj: dict[str, Any]) -> list[dict[str, Any]]:
    return [dict(e) for e in obj.get("metadata", {}).get("managedFields") or []]


def _entry(manager: str, operation: str, api_version: str, clock: clocks.Clock, paths: set[Path],
           subresource: str | None) -> dict[str, Any]:
    entry = {"manager": manager, "operation": operation, "apiVersion": api_version,
             "time": clocks.rfc3339(clock.now()), "fieldsType": "FieldsV1", "fieldsV1": to_fields_v1(paths)}
    if subresource:
        entry["subresource"] = subresource
    return entry


def _merge(live: Any, applied: Any, typer: Typer, top: bool = False) -> Any:
    if isinstance(applied, dict) and isinstance(live, dict) and not typer.atomic_map():
        merged = dict(live)
        for field, value in applied.items():
            sub = _child(typer, field) if top else typer.child(field)
            merged[field] = _merge(live.get(field), value, sub)
        return merged
    if isinstance(applied, list) and isinstance(live, list):
        kind, keys = typer.list_kind()
        if kind == "map":
            merged_list = list(live)
            for item in applied:
                identity = typer.element_key(item, keys)
                at = next((n for n, old in enumerate(merged_list) if isinstance(old, dict)
                           and typer.element_key(old, keys) == identity), None)
                if at is None:
                    merged_list.append(objectmeta.clone(item))
                else:
                    merged_list[at] = _merge(merged_list[at], item, typer.item())
            return merged_list
        if kind == "set":
            return list(live) + [v for v in applied if v not in live]
    return objectmeta.clone(applied)


def _remove(obj: Any, path: Path) -> None:
    parent, last = _locate(obj, path[:-1]), path[-1]
    if last == ".":
        grand, element = _locate(obj, path[:-2]), path[-2]
        if isinstance(grand, list):
            grand[:] = [i for i in grand if not _is_element(i, element)]
    elif isinstance(parent, dict) and last.startswith("f:"):
        parent.pop(last[2:], None)
    elif isinstance(parent, list) and last.startswith("v:"):
        parent[:] = [i for i in parent if json.dumps(i, separators=(",", ":")) != last[2:]]


def _is_element(item: Any, element: str) -> bool:
    keys = json.loads(element[2:])
    return isinstance(item, dict) and all(item.get(k) == v for k, v in keys.items())


def _locate(obj: Any, path: Path) -> Any:
    current = obj
    for part in path:
        if part.startswith("f:") and isinstance(current, dict):
            current = current.get(part[2:])
        elif part.startswith("k:") and isinstance(current, list):
            current = next((i for i in current if _is_element(i, part)), None)
        else:
            return None
    return current


def apply(rt: resources.ResourceType, current: dict[str, Any], applied: dict[str, Any], manager: str, *,
          force: bool, clock: clocks.Clock, subresource: str | None) -> dict[str, Any]:
    """The live object after `manager` applies `applied`; 409 on conflicts unless `force`."""
    typer = root_typer(rt)
    applied_paths = flatten(_scoped(applied, subresource), typer)
    live_paths = flatten(_scoped(current, subresource), typer)
    entries = _entries(current)
    conflicts: list[tuple[str, Path]] = []
    upgraded = _last_applied_paths(current, typer)
    for entry in entries:
        own_apply = (entry.get("manager"), entry.get("operation")) == (manager, "Apply")
        if own_apply or entry.get("subresource") != subresource:
            continue
        owned = from_fields_v1(entry.get("fieldsV1") or {})
        taken = upgraded if entry.get("manager") == CLIENT_SIDE_APPLY else set()
        for path in owned & applied_paths.keys() - taken:
            if path[-1] != "." and live_paths.get(path) != applied_paths[path]:
                conflicts.append((entry["manager"], path))
        if force or taken:
            released = applied_paths.keys() if force else taken & applied_paths.keys()
            entry["fieldsV1"] = to_fields_v1(owned - released)
    if conflicts and not force:
        raise _conflict_error(rt, current["metadata"]["name"], conflicts)
    previous = next((from_fields_v1(e.get("fieldsV1") or {}) for e in entries
                     if e.get("manager") == manager and e.get("operation") == "Apply"
                     and e.get("subresource") == subresource), set())
    others = set().union(*(from_fields_v1(e.get("fieldsV1") or {}) for e in entries
                           if not (e.get("manager") == manager and e.get("operation") == "Apply")))
    merged = _merge(current, applied, typer, top=True)
    for path in sorted(previous - applied_paths.keys() - others, key=len, reverse=True):
        _remove(merged, path)
    kept = [e for e in entries if not (e.get("manager") == manager and e.get("operation") == "Apply"
                                        and e.get("subresource") == subresource) and e.get("fieldsV1")]
    kept.append(_entry(manager, "Apply", rt.api_version, clock, set(applied_paths), subresource))
    merged["metadata"] = {**merged.get("metadata", {}), "managedFields": kept}
    return merged


def _last_applied_paths(current: dict[str, Any], typer: Typer) -> set[Path]:
    """Fields of the client-side apply configuration, which server-side apply takes over without
    conflict (the upgrade path from `kubectl apply` to `kubectl apply --server-side`)."""
    text = (current["metadata"].get("annotations") or {}).get(LAST_APPLIED)
    if not text:
        return set()
    try:
        last = json.loads(text)
    except ValueError:
        return set()
    return set(flatten(_scoped(last, None), typer)) if isinstance(last, dict) else set()


def _conflict_error(rt: resources.ResourceType, name: str, conflicts: list[tuple[str, Path]]) -> errors.APIStatusError:
    lines = [f'conflict with "{m}" using {rt.api_version}: {dotted(p)}' for m, p in conflicts]
    noun = "conflict" if len(conflicts) == 1 else "conflicts"
    error = errors.conflict(rt.group, rt.plural, name, "")
    error.message = f"Apply failed with {len(conflicts)} {noun}: " + "\n".join(lines)
    error.details = {**(error.details or {}), "causes": [
        {"reason": "FieldManagerConflict", "message": f'conflict with "{m}" using {rt.api_version}',
         "field": dotted(p)}
        for m, p in conflicts]}
    return error


def dotted(path: Path) -> str:
    """A field path as Kubernetes prints it: `.spec.containers[name="a"].image`."""
    text = ""
    for part in path:
        if part.startswith("f:"):
            text += "." + part[2:]
        elif part.startswith("k:"):
            keys = json.loads(part[2:])
            text += "[" + ",".join(f"{k}={json.dumps(v)}" for k, v in keys.items()) + "]"
        elif part.startswith("v:"):
            text += f"[{part[2:]}]"
    return text


def record_apply(rt: resources.ResourceType, obj: dict[str, Any], applied: dict[str, Any], manager: str,
                 clock: clocks.Clock) -> None:
    """Ownership of a created-by-apply object: `manager` (operation Apply) owns what it applied."""
    paths = set(flatten(_scoped(applied, None), root_typer(rt)))
    obj["metadata"]["managedFields"] = [_entry(manager, "Apply", rt.api_version, clock, paths, None)]


def record_update(rt: resources.ResourceType, old: dict[str, Any] | None, new: dict[str, Any], manager: str,
                  clock: clocks.Clock, *, subresource: str | None) -> None:
    """Give `manager` (operation Update) the fields this write changed; others lose them."""
    typer = root_typer(rt)
    new_paths = flatten(_scoped(new, subresource), typer)
    old_paths = flatten(_scoped(old, subresource), typer) if old is not None else {}
    changed = {p for p, v in new_paths.items() if p not in old_paths or old_paths[p] != v}
    gone = old_paths.keys() - new_paths.keys()
    entries = _entries(old) if old is not None else []
    mine: set[Path] = set()
    kept = []
    for entry in entries:
        owned = from_fields_v1(entry.get("fieldsV1") or {})
        if (entry.get("manager"), entry.get("operation"), entry.get("subresource")) == (manager, "Update", subresource):
            mine = owned - gone
            continue
        remaining = owned - changed - gone
        if remaining:
            kept.append({**entry, "fieldsV1": to_fields_v1(remaining)})
    mine |= changed
    if mine:
        kept.append(_entry(manager, "Update", rt.api_version, clock, mine, subresource))
    new["metadata"]["managedFields"] = kept
