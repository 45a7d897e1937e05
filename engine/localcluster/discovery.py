"""Discovery documents: `/version`, `/api`, `/apis`, per group-version lists, aggregated v2.

Owns: the JSON kubectl and the python client read to learn which resources exist, built from
the live `resources.Catalogue` (so a CRD shows up as soon as it is stored).
Called by: `handlers`.
Must not import: anything in `engine` outside `localcluster`.
"""

from __future__ import annotations

from typing import Any

from engine.localcluster import resources

AGGREGATED_TYPE = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
VERSION = {"major": "1", "minor": "37", "emulationMajor": "1", "emulationMinor": "37",
           "minCompatibilityMajor": "1", "minCompatibilityMinor": "36", "gitVersion": "v1.37.1",
           "gitCommit": "embedded", "gitTreeState": "clean", "buildDate": "2026-11-01T00:00:00Z",
           "goVersion": "go1.25", "compiler": "gc", "platform": "linux/amd64"}
_SUBRESOURCE_VERBS = {"status": ["get", "patch", "update"], "binding": ["create"]}
_SUBRESOURCE_KIND = {"binding": "Binding"}


def api_versions() -> dict[str, Any]:
    """`GET /api`."""
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]}


def api_groups(catalogue: resources.Catalogue) -> dict[str, Any]:
    """`GET /apis`: every group except the core one."""
    groups: dict[str, list[str]] = {}
    for rt in catalogue.all():
        if rt.group and rt.version not in groups.setdefault(rt.group, []):
            groups[rt.group].append(rt.version)
    items = []
    for group, versions in groups.items():
        listed = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
        items.append({"name": group, "versions": listed, "preferredVersion": listed[0]})
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": items}


def resource_list(catalogue: resources.Catalogue, group_version: str) -> dict[str, Any] | None:
    """`GET /api/v1` or `/apis/G/V`; None when nothing is served there."""
    types = catalogue.group_versions().get(group_version)
    if not types:
        return None
    entries: list[dict[str, Any]] = []
    for rt in types:
        entry: dict[str, Any] = {"name": rt.plural, "singularName": rt.singular, "namespaced": rt.namespaced,
                                 "kind": rt.kind, "verbs": rt.verbs, "storageVersionHash": ""}
        if rt.short_names:
            entry["shortNames"] = list(rt.short_names)
        if rt.categories:
            entry["categories"] = list(rt.categories)
        entries.append(entry)
        for sub in rt.subresources:
            entries.append({"name": f"{rt.plural}/{sub}", "singularName": "", "namespaced": rt.namespaced,
                            "kind": _SUBRESOURCE_KIND.get(sub, rt.kind), "verbs": _SUBRESOURCE_VERBS[sub]})
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": entries}


def aggregated(catalogue: resources.Catalogue, *, core: bool) -> dict[str, Any]:
    """Aggregated discovery v2 for `/api` (core) or `/apis` (the rest)."""
    groups: dict[str, dict[str, list[resources.ResourceType]]] = {}
    for rt in catalogue.all():
        if (rt.group == "") == core:
            groups.setdefault(rt.group, {}).setdefault(rt.version, []).append(rt)
    items = []
    for group, versions in groups.items():
        items.append({"metadata": {"name": group, "creationTimestamp": None}, "versions": [
            {"version": version, "freshness": "Current", "resources": [_aggregated_resource(rt) for rt in types]}
            for version, types in versions.items()]})
    return {"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2",
            "metadata": {"creationTimestamp": None}, "items": items}


def _aggregated_resource(rt: resources.ResourceType) -> dict[str, Any]:
    kind = {"group": rt.group, "version": rt.version, "kind": rt.kind}
    entry: dict[str, Any] = {"resource": rt.plural, "responseKind": kind,
                             "scope": "Namespaced" if rt.namespaced else "Cluster",
                             "singularResource": rt.singular, "verbs": rt.verbs}
    if rt.short_names:
        entry["shortNames"] = list(rt.short_names)
    if rt.categories:
        entry["categories"] = list(rt.categories)
    if rt.subresources:
        entry["subresources"] = [
            {"subresource": sub, "verbs": _SUBRESOURCE_VERBS[sub],
             "responseKind": {**kind, "kind": _SUBRESOURCE_KIND.get(sub, rt.kind)}}
            for sub in rt.subresources]
    return entry
