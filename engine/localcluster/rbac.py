"""RBAC authorization: may this user do this verb on this resource or non-resource URL?

Owns: `User` (what authentication established), `Attributes` (one request, as a
SubjectAccessReview states it), `Policy` (the Roles, ClusterRoles, RoleBindings and
ClusterRoleBindings in force, read from storage or given directly), `Decision` and `authorize`.
The rules are Kubernetes RBAC's: `*` in verbs, apiGroups, resources and nonResourceURLs;
`resource/subresource` and `*/subresource`; `resourceNames` limiting a rule to named objects
(so never matching a list or a create without a name); a non-resource URL ending in `*` matching
its prefix; RoleBindings granting only inside their namespace and never non-resource URLs;
ServiceAccount subjects as `system:serviceaccount:<namespace>:<name>` (the namespace defaults to
the RoleBinding's); members of `system:masters` are allowed everything. Aggregated ClusterRoles
count with the rules they store (no aggregation controller runs here).
Called by: `reviews` (SubjectAccessReview); kept apart so request enforcement can use it later.
Must not import: anything in `engine` outside `localcluster`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from engine.localcluster import storage as storage_

GROUP = "rbac.authorization.k8s.io"
SUPERUSER_GROUP = "system:masters"
Rule = Mapping[str, Any]


@dataclasses.dataclass(frozen=True)
class User:
    """An authenticated identity."""

    name: str
    uid: str = ""
    groups: tuple[str, ...] = ()
    extra: Mapping[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Attributes:
    """One request to authorize: a resource request unless `path` is set."""

    user: User
    verb: str
    namespace: str = ""
    group: str = ""
    resource: str = ""
    subresource: str = ""
    name: str = ""
    path: str = ""

    @property
    def is_resource_request(self) -> bool:
        """False for a non-resource URL such as `/metrics`."""
        return not self.path


@dataclasses.dataclass(frozen=True)
class Decision:
    """The answer; `reason` names the binding and role that allowed it."""

    allowed: bool
    reason: str = ""


@dataclasses.dataclass(frozen=True)
class Policy:
    """The RBAC objects in force (raw dicts as stored)."""

    roles: Sequence[dict[str, Any]] = ()
    cluster_roles: Sequence[dict[str, Any]] = ()
    role_bindings: Sequence[dict[str, Any]] = ()
    cluster_role_bindings: Sequence[dict[str, Any]] = ()

    @classmethod
    def from_storage(cls, store: storage_.Storage) -> Policy:
        """The objects stored now, of every namespace."""
        return cls(roles=store.list(f"{GROUP}/roles"), cluster_roles=store.list(f"{GROUP}/clusterroles"),
                   role_bindings=store.list(f"{GROUP}/rolebindings"),
                   cluster_role_bindings=store.list(f"{GROUP}/clusterrolebindings"))

    def rules_of(self, role_ref: Mapping[str, Any], namespace: str) -> list[Rule]:
        """The rules of the Role (in `namespace`) or ClusterRole a binding refers to; [] when missing."""
        kind, name = role_ref.get("kind"), role_ref.get("name")
        if kind == "ClusterRole":
            candidates: Iterable[dict[str, Any]] = self.cluster_roles
        elif kind == "Role":
            candidates = (r for r in self.roles if r["metadata"].get("namespace") == namespace)
        else:
            return []
        for role in candidates:
            if role["metadata"].get("name") == name:
                return [rule for rule in role.get("rules") or [] if isinstance(rule, Mapping)]
        return []


def authorize(policy: Policy, request: Attributes) -> Decision:
    """Allowed when the user is a superuser or a binding that applies grants a matching rule."""
    user = request.user
    if SUPERUSER_GROUP in user.groups:
        return Decision(True, f'RBAC: allowed by membership of group "{SUPERUSER_GROUP}"')
    for binding in policy.cluster_role_bindings:
        found = _granted(policy, binding, "", request)
        if found:
            return Decision(True, f'RBAC: allowed by ClusterRoleBinding "{binding["metadata"]["name"]}" of '
                                  f'ClusterRole "{binding["roleRef"]["name"]}" to {found}')
    if request.is_resource_request and request.namespace:
        for binding in policy.role_bindings:
            if binding["metadata"].get("namespace") != request.namespace:
                continue
            found = _granted(policy, binding, request.namespace, request)
            if found:
                ref = binding["roleRef"]
                return Decision(True, f'RBAC: allowed by RoleBinding "{binding["metadata"]["name"]}/'
                                      f'{request.namespace}" of {ref["kind"]} "{ref["name"]}" to {found}')
    return Decision(False, "")


def _granted(policy: Policy, binding: Mapping[str, Any], namespace: str, request: Attributes) -> str:
    """The subject ("User \"alice\"") through which `binding` grants `request`, or ""."""
    subject = next((s for s in binding.get("subjects") or [] if applies_to(s, request.user, namespace)), None)
    if subject is None:
        return ""
    rules = policy.rules_of(binding.get("roleRef") or {}, namespace)
    if not any(rule_allows(rule, request) for rule in rules):
        return ""
    return f'{subject.get("kind")} "{subject.get("name")}"'


def applies_to(subject: Mapping[str, Any], user: User, namespace: str) -> bool:
    """Whether a binding's subject names `user` (a RoleBinding's `namespace` completes ServiceAccounts)."""
    kind, name = subject.get("kind"), subject.get("name")
    if kind == "User":
        return name == user.name
    if kind == "Group":
        return name in user.groups
    if kind == "ServiceAccount":
        account_namespace = subject.get("namespace") or namespace
        return bool(account_namespace) and user.name == f"system:serviceaccount:{account_namespace}:{name}"
    return False


def rule_allows(rule: Rule, request: Attributes) -> bool:
    """Whether one PolicyRule covers the request."""
    if not _matches(rule.get("verbs"), request.verb):
        return False
    if not request.is_resource_request:
        return _url_matches(rule.get("nonResourceURLs") or [], request.path)
    if not rule.get("resources") or not _matches(rule.get("apiGroups"), request.group):
        return False
    if not _resource_matches(rule["resources"], request.resource, request.subresource):
        return False
    names = rule.get("resourceNames") or []
    return not names or request.name in names


def _matches(values: Any, wanted: str) -> bool:
    return isinstance(values, list) and ("*" in values or wanted in values)


def _resource_matches(resources: list[str], resource: str, subresource: str) -> bool:
    combined = f"{resource}/{subresource}" if subresource else resource
    return any(item in ("*", combined) or (subresource and item == f"*/{subresource}") for item in resources)


def _url_matches(urls: list[str], path: str) -> bool:
    for url in urls:
        if url == "*" or url == path or (url.endswith("*") and path.startswith(url[:-1])):
            return True
    return False
