"""TokenReview and SubjectAccessReview on the embedded API server, through the python client and kubectl.

Both are create-only (discovery lists only `create`; reads answer 405) and stored nowhere.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from kubernetes import client as k8s_client

from engine.localcluster import authn, rbac, server


@pytest.fixture(scope="module")
def reviews(api_client: k8s_client.ApiClient) -> tuple[k8s_client.AuthenticationV1Api, k8s_client.AuthorizationV1Api]:
    return k8s_client.AuthenticationV1Api(api_client), k8s_client.AuthorizationV1Api(api_client)


def token_review(api: k8s_client.AuthenticationV1Api, token: str) -> k8s_client.V1TokenReviewStatus:
    return api.create_token_review(k8s_client.V1TokenReview(spec=k8s_client.V1TokenReviewSpec(token=token))).status


def test_the_kubeconfig_token_and_static_tokens_authenticate(cluster: server.RunningServer, reviews: tuple) -> None:
    authentication, _ = reviews
    admin = token_review(authentication, cluster.admin_token)
    assert admin.authenticated and admin.user.username == "kubernetes-admin"
    assert admin.user.groups == ["system:masters", "system:authenticated"]
    cluster.tokens.add("alice-token", rbac.User(name="alice", uid="u-1", groups=("devs",)))
    alice = token_review(authentication, "alice-token")
    assert (alice.user.username, alice.user.uid, alice.user.groups) == ("alice", "u-1", ["devs", "system:authenticated"])
    assert not token_review(authentication, "made-up").authenticated


def test_service_account_token_secrets_authenticate_while_the_account_exists(
        api_client: k8s_client.ApiClient, reviews: tuple) -> None:
    authentication, _ = reviews
    core = k8s_client.CoreV1Api(api_client)
    account = core.create_namespaced_service_account("default", {"metadata": {"name": "scraper"}})
    core.create_namespaced_secret("default", {
        "metadata": {"name": "scraper-token", "annotations": {authn.ACCOUNT_NAME: "scraper"}},
        "type": authn.SERVICE_ACCOUNT_TOKEN, "data": {"token": base64.b64encode(b"sa-token").decode()}})
    found = token_review(authentication, "sa-token")
    assert found.authenticated and found.user.username == "system:serviceaccount:default:scraper"
    assert found.user.uid == account.metadata.uid
    assert found.user.groups == ["system:serviceaccounts", "system:serviceaccounts:default", "system:authenticated"]
    core.delete_namespaced_service_account("scraper", "default")
    assert not token_review(authentication, "sa-token").authenticated


def test_subject_access_reviews_evaluate_the_stored_rbac(api_client: k8s_client.ApiClient, reviews: tuple) -> None:
    _, authorization = reviews
    rbac_api = k8s_client.RbacAuthorizationV1Api(api_client)

    def may(user: str, **attributes: str) -> bool:
        kind = "non_resource_attributes" if "path" in attributes else "resource_attributes"
        spec = k8s_client.V1SubjectAccessReviewSpec(user=user, **{kind: attributes})
        return authorization.create_subject_access_review(k8s_client.V1SubjectAccessReview(spec=spec)).status.allowed

    assert not may("bob", path="/metrics", verb="get")
    rbac_api.create_cluster_role({"metadata": {"name": "metrics-reader"},
                                  "rules": [{"nonResourceURLs": ["/metrics"], "verbs": ["get"]}]})
    rbac_api.create_cluster_role_binding({"metadata": {"name": "bob-reads"}, "roleRef": {
        "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "metrics-reader"},
        "subjects": [{"kind": "User", "name": "bob", "apiGroup": "rbac.authorization.k8s.io"}]})
    assert may("bob", path="/metrics", verb="get")
    assert not may("bob", path="/debug", verb="get")
    rbac_api.create_namespaced_role("default", {"metadata": {"name": "jobs"}, "rules": [
        {"apiGroups": ["batch"], "resources": ["jobs"], "verbs": ["list"]}]})
    rbac_api.create_namespaced_role_binding("default", {"metadata": {"name": "bob-jobs"}, "roleRef": {
        "apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "jobs"},
        "subjects": [{"kind": "User", "name": "bob", "apiGroup": "rbac.authorization.k8s.io"}]})
    assert may("bob", verb="list", group="batch", resource="jobs", namespace="default")
    assert not may("bob", verb="list", group="batch", resource="jobs", namespace="other")


SAR = "/apis/authorization.k8s.io/v1/subjectaccessreviews"


def test_malformed_reviews_name_the_field_and_reads_are_refused(raw: Any) -> None:
    code, _, body = raw("POST", SAR, {"spec": {"nonResourceAttributes": {"path": "/x", "verb": "get"}}})
    assert code == 422 and body["details"]["causes"][0]["field"] == "spec.user"
    code, _, body = raw("POST", SAR, {"spec": {"user": "bob"}})
    assert code == 422 and "exactly one of" in body["message"]
    code, _, body = raw("POST", SAR, {"spec": {"user": "bob", "resourceAttributes": {"verb": 3}}})
    assert code == 422 and body["details"]["causes"][0]["field"] == "spec.resourceAttributes.verb"
    code, _, body = raw("POST", "/apis/authentication.k8s.io/v1/tokenreviews", {"spec": {}})
    assert code == 400 and "token is required" in body["message"]
    assert raw("GET", SAR)[0] == 405 and raw("DELETE", SAR + "/x")[0] == 405


def test_kubectl_discovers_them_as_create_only(kubectl: Any) -> None:
    listed = kubectl("api-resources", "--api-group=authorization.k8s.io", "-o", "wide").stdout
    assert [line.split()[-1] for line in listed.splitlines() if line.startswith("subjectaccessreviews")] == ["create"]
    assert "tokenreviews" in kubectl("api-resources", "--api-group=authentication.k8s.io").stdout
    refused = kubectl("get", "tokenreviews", check=False)
    assert refused.returncode != 0 and "can only be created" in refused.stderr


def test_kubectl_creates_rbac_imperatively_and_reviews_see_it(kubectl: Any) -> None:
    """`kubectl create clusterrole|clusterrolebinding|role|rolebinding` send protobuf bodies."""
    kubectl("create", "clusterrole", "scrape", "--non-resource-url=/metrics", "--verb=get")
    kubectl("create", "clusterrolebinding", "scrape", "--clusterrole=scrape", "--serviceaccount=team:prom")
    kubectl("create", "role", "pods", "-n", "default", "--verb=get", "--resource=pods", "--resource-name=one")
    kubectl("create", "rolebinding", "pods", "-n", "default", "--role=pods", "--user=carol", "--group=ops")
    binding = kubectl.json("get", "rolebinding", "pods", "-n", "default")
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pods"}
    assert {s["kind"] for s in binding["subjects"]} == {"User", "Group"}

    def review(spec: dict[str, Any]) -> bool:
        body = {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview", "spec": spec}
        return bool(json.loads(kubectl("create", "-o", "json", "-f", "-", stdin=json.dumps(body)).stdout)
                    ["status"]["allowed"])

    assert review({"user": "system:serviceaccount:team:prom", "nonResourceAttributes": {"path": "/metrics",
                                                                                         "verb": "get"}})
    one = {"verb": "get", "resource": "pods", "namespace": "default", "name": "one"}
    assert review({"user": "x", "groups": ["ops"], "resourceAttributes": one})
    assert not review({"user": "x", "groups": ["ops"], "resourceAttributes": {**one, "name": "two"}})
