"""Generator of `patchmeta.json`, the strategic-merge and list-type metadata of built-in kinds.

Owns: reading the Kubernetes 1.37 OpenAPI definitions shipped by the `kubernetes-validate`
package (a development-time dependency, the `schemagen` extra) and writing, for every type
reachable from the kinds the embedded server serves, every field with its JSON type (so
unknown fields can be pruned or rejected and mistyped ones refused) and what matters to
strategic merge patch and server-side apply: nested type, patch strategy, patch merge key,
list type, list map keys and map type.
Called by: a developer, `python -m engine.localcluster.gen_patchmeta`; nothing imports it.
Must not import: anything in `engine`.
"""

from __future__ import annotations

import json
import pathlib
from typing import Any

VERSION = "v1.37.0-local"
KINDS = {
    "v1/Pod": "io.k8s.api.core.v1.Pod", "v1/Node": "io.k8s.api.core.v1.Node",
    "v1/Namespace": "io.k8s.api.core.v1.Namespace", "v1/Service": "io.k8s.api.core.v1.Service",
    "v1/Endpoints": "io.k8s.api.core.v1.Endpoints", "v1/Event": "io.k8s.api.core.v1.Event",
    "v1/ConfigMap": "io.k8s.api.core.v1.ConfigMap", "v1/Secret": "io.k8s.api.core.v1.Secret",
    "v1/PersistentVolumeClaim": "io.k8s.api.core.v1.PersistentVolumeClaim",
    "v1/ServiceAccount": "io.k8s.api.core.v1.ServiceAccount",
    "batch/v1/Job": "io.k8s.api.batch.v1.Job",
    "coordination.k8s.io/v1/Lease": "io.k8s.api.coordination.v1.Lease",
    "events.k8s.io/v1/Event": "io.k8s.api.events.v1.Event",
    "rbac.authorization.k8s.io/v1/Role": "io.k8s.api.rbac.v1.Role",
    "rbac.authorization.k8s.io/v1/RoleBinding": "io.k8s.api.rbac.v1.RoleBinding",
    "rbac.authorization.k8s.io/v1/ClusterRole": "io.k8s.api.rbac.v1.ClusterRole",
    "rbac.authorization.k8s.io/v1/ClusterRoleBinding": "io.k8s.api.rbac.v1.ClusterRoleBinding",
    "scheduling.k8s.io/v1/PriorityClass": "io.k8s.api.scheduling.v1.PriorityClass",
    "apiextensions.k8s.io/v1/CustomResourceDefinition":
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition",
    "admissionregistration.k8s.io/v1/MutatingWebhookConfiguration":
        "io.k8s.api.admissionregistration.v1.MutatingWebhookConfiguration",
    "admissionregistration.k8s.io/v1/ValidatingWebhookConfiguration":
        "io.k8s.api.admissionregistration.v1.ValidatingWebhookConfiguration",
}
OUTPUT = pathlib.Path(__file__).with_name("patchmeta.json")


def _ref(schema: dict[str, Any]) -> str | None:
    ref = schema.get("$ref") or next((s.get("$ref") for s in schema.get("allOf", []) if "$ref" in s), None)
    return ref.rsplit("/", 1)[-1] if ref else None


def _json_type(schema: dict[str, Any]) -> str | None:
    kinds = schema.get("type")
    kinds = [kinds] if isinstance(kinds, str) else [k for k in kinds or [] if k != "null"]
    return kinds[0] if len(kinds) == 1 else None


def _field(schema: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    nested = _ref(schema) or _ref(schema.get("items") or {})
    if nested:
        entry["ref"] = nested
    kind = _json_type(schema)
    if kind is not None:
        entry["type"] = kind
    item_kind = _json_type(schema.get("items") or {}) if kind == "array" else None
    if item_kind is not None and not nested:
        entry["items"] = item_kind
    values = schema.get("additionalProperties")
    value_kind = _json_type(values) if isinstance(values, dict) and kind == "object" else None
    if value_kind is not None and not _ref(values):
        entry["values"] = value_kind
    for source, target in (("x-kubernetes-patch-strategy", "strategy"), ("x-kubernetes-patch-merge-key", "key"),
                           ("x-kubernetes-list-type", "list"), ("x-kubernetes-list-map-keys", "keys"),
                           ("x-kubernetes-map-type", "map")):
        if source in schema:
            entry[target] = schema[source]
    return entry


def generate() -> dict[str, Any]:
    """The metadata table for every type reachable from KINDS."""
    import kubernetes_validate  # type: ignore[import-untyped]  # development only: imported here, never at run time

    root = pathlib.Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema" / VERSION
    definitions = json.loads((root / "_definitions.json").read_text())["$defs"]
    types: dict[str, dict[str, Any]] = {}
    pending = list(KINDS.values())
    while pending:
        name = pending.pop()
        if name in types:
            continue
        fields = {}
        for field, schema in (definitions[name].get("properties") or {}).items():
            entry = _field(schema)
            fields[field] = entry
            if "ref" in entry:
                pending.append(entry["ref"])
        types[name] = fields
    return {"source": f"kubernetes-validate {VERSION}", "kinds": KINDS, "types": dict(sorted(types.items()))}


if __name__ == "__main__":
    OUTPUT.write_text(json.dumps(generate(), indent=0, sort_keys=True) + "\n")
    print(f"wrote {OUTPUT.name}")
