"""CustomResourceDefinitions: from a stored CRD to served resource types.

Owns: CRD checks (name = plural.group, one storage version, required names), the status the
API server sets at once (NamesAccepted, Established, acceptedNames, storedVersions), and turning
each served version into a `resources.ResourceType` carrying its printer columns and compiled
structural schema.
Called by: `admission` (CRD writes and start-up).
Must not import: anything in `engine` outside `localcluster`, except `engine.crd.structural`.
"""

from __future__ import annotations

from typing import Any

from engine.crd import structural
from engine.localcluster import clock as clocks, resources

Problems = list[tuple[str, str]]


def problems(crd: dict[str, Any]) -> Problems:
    """What makes a CRD unacceptable."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    found: Problems = []
    for field in ("plural", "kind"):
        if not names.get(field):
            found.append((f"spec.names.{field}", "Required value"))
    if not spec.get("group"):
        found.append(("spec.group", "Required value"))
    expected = f"{names.get('plural')}.{spec.get('group')}"
    if crd["metadata"]["name"] != expected:
        found.append(("metadata.name", f'Invalid value: "{crd["metadata"]["name"]}": must be '
                      'spec.names.plural+"."+spec.group'))
    if spec.get("scope") not in ("Namespaced", "Cluster"):
        found.append(("spec.scope", f'Unsupported value: "{spec.get("scope")}": supported values: '
                      '"Cluster", "Namespaced"'))
    versions = spec.get("versions") or []
    if not versions:
        found.append(("spec.versions", "Invalid value: must have exactly one version marked as storage version"))
    elif sum(1 for v in versions if v.get("storage")) != 1:
        found.append(("spec.versions", "Invalid value: must have exactly one version marked as storage version"))
    for n, version in enumerate(versions):
        schema = ((version.get("schema") or {}).get("openAPIV3Schema"))
        if schema is None:
            found.append((f"spec.versions[{n}].schema.openAPIV3Schema", "Required value: schemas are required"))
            continue
        try:
            structural.CompiledSchema(schema)
        except structural.SchemaError as error:
            found.append((f"spec.versions[{n}].schema.openAPIV3Schema", f"Invalid value: {error}"))
    return found


def establish(crd: dict[str, Any], clock: clocks.Clock) -> None:
    """Set the conditions and accepted names a healthy CRD gets at once."""
    spec = crd.get("spec") or {}
    now = clocks.rfc3339(clock.now())
    status = crd.setdefault("status", {})
    names = dict(spec.get("names") or {})
    names.setdefault("singular", names.get("kind", "").lower())
    names.setdefault("listKind", f"{names.get('kind')}List")
    status["acceptedNames"] = names
    stored = [v["name"] for v in spec.get("versions") or [] if v.get("storage")]
    status["storedVersions"] = sorted(set(status.get("storedVersions") or []) | set(stored))
    if not status.get("conditions"):
        status["conditions"] = [
            {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts",
             "message": "no conflicts found", "lastTransitionTime": now},
            {"type": "Established", "status": "True", "reason": "InitialNamesAccepted",
             "message": "the initial names have been accepted", "lastTransitionTime": now},
        ]


def resource_types(crd: dict[str, Any]) -> list[resources.ResourceType]:
    """One type per served version of the CRD."""
    spec = crd["spec"]
    names = spec["names"]
    types = []
    for version in spec.get("versions") or []:
        if not version.get("served", True):
            continue
        schema = (version.get("schema") or {}).get("openAPIV3Schema")
        types.append(resources.ResourceType(
            group=spec["group"], version=version["name"], plural=names["plural"], kind=names["kind"],
            namespaced=spec.get("scope") == "Namespaced", singular=names.get("singular") or names["kind"].lower(),
            short_names=tuple(names.get("shortNames") or ()), categories=tuple(names.get("categories") or ()),
            subresources=tuple(sorted((version.get("subresources") or {}).keys())), has_generation=True,
            custom=True, printer_columns=tuple(version.get("additionalPrinterColumns") or ()),
            schema=structural.CompiledSchema(schema) if schema is not None else None,
            openapi=schema))
    return types
