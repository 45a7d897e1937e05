"""The catalogue of resource types the embedded API server serves.

Owns: `ResourceType` (group, version, plural, kind, scope, subresources, printer columns and,
for custom resources, the compiled schema) and `Catalogue` (built-ins plus CRD-registered types,
looked up by "batch/v1/jobs"-style keys, by URL parts, or by apiVersion + kind).
Called by: `api` (every request), `discovery`, `openapi`, `tables`, `crds`.
Must not import: anything in `engine` outside `localcluster`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from engine.localcluster import errors


@dataclasses.dataclass(frozen=True)
class ResourceType:
    """One served resource in one group-version."""

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool
    singular: str = ""
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()
    has_generation: bool = False
    custom: bool = False
    create_only: bool = False  # reviews: answered, never stored
    printer_columns: tuple[dict[str, Any], ...] = ()
    schema: Any = dataclasses.field(default=None, compare=False)  # structural.CompiledSchema (custom)
    openapi: dict[str, Any] | None = dataclasses.field(default=None, compare=False)  # raw schema (custom)

    @property
    def key(self) -> str:
        """"v1/pods", "batch/v1/jobs"."""
        return f"{self.api_version}/{self.plural}"

    @property
    def api_version(self) -> str:
        """"v1" for the core group, else "group/version"."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def storage_key(self) -> str:
        """Shared by every version of a group-resource."""
        return f"{self.group}/{self.plural}"

    @property
    def has_status(self) -> bool:
        """Whether writes to the main endpoint ignore `.status`."""
        return "status" in self.subresources

    @property
    def verbs(self) -> list[str]:
        """The verbs discovery advertises."""
        if self.create_only:
            return ["create"]
        return ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]


def _core(plural: str, kind: str, namespaced: bool = True, **extra: Any) -> ResourceType:
    return ResourceType("", "v1", plural, kind, namespaced, singular=kind.lower(), **extra)


BUILTINS: tuple[ResourceType, ...] = (
    _core("namespaces", "Namespace", False, short_names=("ns",), subresources=("status",)),
    _core("nodes", "Node", False, short_names=("no",), subresources=("status",)),
    _core("pods", "Pod", short_names=("po",), categories=("all",),
          subresources=("status", "binding"), has_generation=True),
    _core("services", "Service", short_names=("svc",), categories=("all",), subresources=("status",)),
    _core("endpoints", "Endpoints", short_names=("ep",)),
    _core("events", "Event", short_names=("ev",)),
    _core("configmaps", "ConfigMap", short_names=("cm",)),
    _core("secrets", "Secret"),
    _core("persistentvolumeclaims", "PersistentVolumeClaim", short_names=("pvc",),
          subresources=("status",)),
    _core("serviceaccounts", "ServiceAccount", short_names=("sa",)),
    ResourceType("batch", "v1", "jobs", "Job", True, singular="job", categories=("all",),
                 subresources=("status",), has_generation=True),
    ResourceType("coordination.k8s.io", "v1", "leases", "Lease", True, singular="lease"),
    ResourceType("events.k8s.io", "v1", "events", "Event", True, singular="event", short_names=("ev",)),
    ResourceType("rbac.authorization.k8s.io", "v1", "roles", "Role", True, singular="role"),
    ResourceType("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", True, singular="rolebinding"),
    ResourceType("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", False, singular="clusterrole"),
    ResourceType("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", False,
                 singular="clusterrolebinding"),
    ResourceType("scheduling.k8s.io", "v1", "priorityclasses", "PriorityClass", False, singular="priorityclass",
                 short_names=("pc",)),
    ResourceType("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition",
                 False, singular="customresourcedefinition", short_names=("crd", "crds"),
                 subresources=("status",), has_generation=True),
    ResourceType("admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations",
                 "MutatingWebhookConfiguration", False, singular="mutatingwebhookconfiguration",
                 has_generation=True),
    ResourceType("admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations",
                 "ValidatingWebhookConfiguration", False, singular="validatingwebhookconfiguration",
                 has_generation=True),
    ResourceType("authentication.k8s.io", "v1", "tokenreviews", "TokenReview", False, singular="tokenreview",
                 create_only=True),
    ResourceType("authorization.k8s.io", "v1", "subjectaccessreviews", "SubjectAccessReview", False,
                 singular="subjectaccessreview", create_only=True),
)


class Catalogue:
    """Every served resource type; custom ones come and go with their CRDs."""

    def __init__(self) -> None:
        self._by_key: dict[str, ResourceType] = {rt.key: rt for rt in BUILTINS}
        self.generation = 0  # bumped on every change, so discovery and OpenAPI hashes move

    def all(self) -> list[ResourceType]:
        """Every served type, built-ins first."""
        return list(self._by_key.values())

    def lookup(self, key: str) -> ResourceType:
        """The type for "batch/v1/jobs"; NotFound when nothing serves it."""
        found = self._by_key.get(key)
        if found is None:
            group_version, _, plural = key.rpartition("/")
            group, _, _version = group_version.rpartition("/")
            raise errors.APIStatusError(
                404, "NotFound", f'the server could not find the requested resource ({key})',
                details={"group": group, "kind": plural})
        return found

    def group_versions(self) -> dict[str, list[ResourceType]]:
        """Served types grouped by apiVersion, in registration order."""
        grouped: dict[str, list[ResourceType]] = {}
        for rt in self._by_key.values():
            grouped.setdefault(rt.api_version, []).append(rt)
        return grouped

    def register(self, types: list[ResourceType]) -> None:
        """Serve (or re-serve, replacing) custom types."""
        for rt in types:
            self._by_key[rt.key] = rt
        self.generation += 1

    def unregister(self, group: str, plural: str) -> None:
        """Stop serving every version of a custom group-resource."""
        for key in [k for k, rt in self._by_key.items() if rt.custom and rt.group == group
                    and rt.plural == plural]:
            del self._by_key[key]
        self.generation += 1
