"""The RBAC evaluator of the embedded API server, case by case from the Kubernetes RBAC rules."""

from __future__ import annotations

from typing import Any

import pytest

from engine.localcluster import rbac

ALICE = rbac.User(name="alice", groups=("devs", "system:authenticated"))
ROBOT = rbac.User(name="system:serviceaccount:team:robot", groups=("system:serviceaccounts",))


def meta(name: str, namespace: str | None = None) -> dict[str, Any]:
    return {"name": name, **({"namespace": namespace} if namespace else {})}


def cluster_role(name: str, *rules: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "ClusterRole", "metadata": meta(name), "rules": list(rules)}


def role(name: str, namespace: str, *rules: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "Role", "metadata": meta(name, namespace), "rules": list(rules)}


def binding(name: str, ref_kind: str, ref: str, *subjects: dict[str, Any], namespace: str | None = None) -> dict:
    return {"metadata": meta(name, namespace), "subjects": list(subjects),
            "roleRef": {"apiGroup": rbac.GROUP, "kind": ref_kind, "name": ref}}


def user(name: str) -> dict[str, str]:
    return {"kind": "User", "apiGroup": rbac.GROUP, "name": name}


def pods(verb: str, namespace: str = "team", **extra: str) -> rbac.Attributes:
    return rbac.Attributes(user=ALICE, verb=verb, namespace=namespace, resource="pods", **extra)


def allowed(policy: rbac.Policy, request: rbac.Attributes) -> bool:
    return rbac.authorize(policy, request).allowed


@pytest.mark.parametrize("rule, request_, expected", [
    ({"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}, pods("get"), True),
    ({"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}, pods("list"), False),
    ({"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}, pods("delete"), True),
    ({"apiGroups": ["batch"], "resources": ["pods"], "verbs": ["get"]}, pods("get"), False),
    ({"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}, pods("get", subresource="log"), False),
    ({"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]}, pods("get", subresource="log"), True),
    ({"apiGroups": [""], "resources": ["*/status"], "verbs": ["get"]}, pods("get", subresource="status"), True),
    ({"apiGroups": [""], "resources": ["*/status"], "verbs": ["get"]}, pods("get"), False),
    ({"apiGroups": [""], "resources": ["*"], "verbs": ["get"]}, pods("get", subresource="status"), True),
    ({"apiGroups": [""], "resources": ["pods"], "resourceNames": ["a"], "verbs": ["get"]}, pods("get", name="a"), True),
    ({"apiGroups": [""], "resources": ["pods"], "resourceNames": ["a"], "verbs": ["get"]}, pods("get", name="b"), False),
    ({"apiGroups": [""], "resources": ["pods"], "resourceNames": ["a"], "verbs": ["list"]}, pods("list"), False),
], ids=["exact", "other-verb", "all-wildcards", "other-group", "subresource-not-covered", "subresource",
        "star-subresource", "star-subresource-not-main", "star-covers-subresources", "resource-name",
        "other-resource-name", "resource-names-never-cover-list"])
def test_resource_rules_follow_kubernetes_rbac(rule: dict, request_: rbac.Attributes, expected: bool) -> None:
    policy = rbac.Policy(cluster_roles=[cluster_role("r", rule)],
                         cluster_role_bindings=[binding("b", "ClusterRole", "r", user("alice"))])
    assert allowed(policy, request_) is expected


@pytest.mark.parametrize("urls, path, expected", [
    (["/metrics"], "/metrics", True), (["/metrics"], "/metrics/extra", False), (["/healthz"], "/metrics", False),
    (["/metrics*"], "/metrics/extra", True), (["/logs/*"], "/logs/kubelet", True), (["/logs/*"], "/log", False),
    (["*"], "/anything", True),
])
def test_non_resource_urls_match_exactly_or_by_star_suffix(urls: list[str], path: str, expected: bool) -> None:
    policy = rbac.Policy(cluster_roles=[cluster_role("reader", {"nonResourceURLs": urls, "verbs": ["get"]})],
                         cluster_role_bindings=[binding("b", "ClusterRole", "reader", user("alice"))])
    assert allowed(policy, rbac.Attributes(user=ALICE, verb="get", path=path)) is expected
    assert not allowed(policy, rbac.Attributes(user=ALICE, verb="post", path=path))


def test_a_resource_rule_never_grants_a_url_and_a_url_rule_never_a_resource() -> None:
    both = cluster_role("r", {"apiGroups": ["*"], "resources": ["*"], "verbs": ["get"]},
                        {"nonResourceURLs": ["/metrics"], "verbs": ["get"]})
    policy = rbac.Policy(cluster_roles=[both], cluster_role_bindings=[binding("b", "ClusterRole", "r", user("alice"))])
    assert allowed(policy, rbac.Attributes(user=ALICE, verb="get", path="/metrics"))
    assert not allowed(policy, rbac.Attributes(user=ALICE, verb="get", path="/healthz"))
    only_urls = rbac.Policy(cluster_roles=[cluster_role("r", {"nonResourceURLs": ["*"], "verbs": ["*"]})],
                            cluster_role_bindings=policy.cluster_role_bindings)
    assert not allowed(only_urls, pods("get"))


def test_a_role_binding_grants_only_in_its_namespace_and_never_urls() -> None:
    reader = cluster_role("reader", {"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]},
                          {"nonResourceURLs": ["/metrics"], "verbs": ["get"]})
    policy = rbac.Policy(cluster_roles=[reader],
                         role_bindings=[binding("b", "ClusterRole", "reader", user("alice"), namespace="team")])
    assert allowed(policy, pods("get", namespace="team"))
    assert not allowed(policy, pods("get", namespace="other"))
    assert not allowed(policy, pods("get", namespace=""))  # cluster-wide
    assert not allowed(policy, rbac.Attributes(user=ALICE, verb="get", path="/metrics"))


def test_a_role_binding_refers_to_a_role_of_its_own_namespace() -> None:
    rule = {"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}
    policy = rbac.Policy(roles=[role("reader", "elsewhere", rule)],
                         role_bindings=[binding("b", "Role", "reader", user("alice"), namespace="team")])
    assert not allowed(policy, pods("get"))
    policy = rbac.Policy(roles=[role("reader", "team", rule)], role_bindings=policy.role_bindings)
    decision = rbac.authorize(policy, pods("get"))
    assert decision.allowed and 'RoleBinding "b/team" of Role "reader" to User "alice"' in decision.reason


def test_groups_service_accounts_and_superusers() -> None:
    rule = {"nonResourceURLs": ["/metrics"], "verbs": ["get"]}
    by_group = binding("g", "ClusterRole", "reader", {"kind": "Group", "name": "devs"})
    by_account = binding("s", "ClusterRole", "reader", {"kind": "ServiceAccount", "name": "robot", "namespace": "team"})
    metrics = rbac.Attributes(user=ALICE, verb="get", path="/metrics")
    policy = rbac.Policy(cluster_roles=[cluster_role("reader", rule)], cluster_role_bindings=[by_group])
    assert allowed(policy, metrics)
    assert not allowed(policy, rbac.Attributes(user=ROBOT, verb="get", path="/metrics"))
    policy = rbac.Policy(cluster_roles=policy.cluster_roles, cluster_role_bindings=[by_account])
    assert allowed(policy, rbac.Attributes(user=ROBOT, verb="get", path="/metrics"))
    assert not allowed(policy, metrics)
    root = rbac.User(name="root", groups=(rbac.SUPERUSER_GROUP,))
    assert allowed(rbac.Policy(), rbac.Attributes(user=root, verb="delete", resource="nodes"))


def test_a_service_account_subject_of_a_role_binding_defaults_to_the_bindings_namespace() -> None:
    rule = {"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}
    policy = rbac.Policy(roles=[role("r", "team", rule)], role_bindings=[
        binding("b", "Role", "r", {"kind": "ServiceAccount", "name": "robot"}, namespace="team")])
    assert allowed(policy, rbac.Attributes(user=ROBOT, verb="get", namespace="team", resource="pods"))


def test_nothing_is_allowed_without_a_binding_or_with_a_missing_role() -> None:
    rule = {"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}
    assert rbac.authorize(rbac.Policy(cluster_roles=[cluster_role("r", rule)]), pods("get")) == rbac.Decision(False)
    dangling = rbac.Policy(cluster_role_bindings=[binding("b", "ClusterRole", "gone", user("alice"))])
    assert not allowed(dangling, pods("get"))
