"""The installable manifests: up to date, valid for every supported Kubernetes, hardened, consistent.

Checks the kustomize rendering of `deploy/` without a cluster: the committed single file, the
objects against the Kubernetes schemas of each supported minor (docs/compatibility.md), RBAC
without wildcards, the Deployment's pod hardening, and that ports, probes, Service names and
the mounted Configuration agree with each other (spec §14.1-§14.5).
"""

from __future__ import annotations

import re
from typing import Any

import kubernetes_validate
import pytest

import deployharness as harness
from engine.kube import configuration

COMPATIBILITY = harness.ROOT / "docs" / "compatibility.md"


def supported_versions() -> list[str]:
    """The minors docs/compatibility.md lists as supported ("| 1.37 | supported |" rows)."""
    rows = re.findall(r"^\| *(1\.\d+) *\| *supported *\|", COMPATIBILITY.read_text(), flags=re.MULTILINE)
    assert len(rows) == 3, "docs/compatibility.md must list the last three minors as supported"
    return rows


def container(docs: list[dict[str, Any]]) -> dict[str, Any]:
    return harness.find(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0]


def shipped_configuration(docs: list[dict[str, Any]], tmp_path: Any) -> configuration.Configuration:
    """The Configuration as the controller reads it from the ConfigMap (strict decoding, §14.1)."""
    data = harness.find(docs, "ConfigMap", "jobset-manager-config")["data"]
    (key, text), = data.items()
    mount = next(m for m in container(docs)["volumeMounts"] if m["name"] == "config")
    assert f"--config={mount['mountPath']}/{key}" in container(docs)["args"]
    path = tmp_path / key
    path.write_text(text)
    return configuration.load(path)


def test_manifests_yaml_is_the_current_kustomize_rendering(rendered: str) -> None:
    committed = (harness.DEPLOY / "manifests.yaml").read_text()
    assert committed == rendered, ("deploy/manifests.yaml is stale: regenerate it with "
                                   "`.venv/bin/kubectl kustomize deploy/ > deploy/manifests.yaml`")


@pytest.mark.parametrize("minor", supported_versions())
def test_every_object_is_valid_for_each_supported_kubernetes(docs: list[dict[str, Any]], minor: str) -> None:
    """Strict schemas of the supported minors: no unknown field, no wrong type, in any object."""
    for doc in docs:
        try:
            kubernetes_validate.validate(doc, f"{minor}.0", strict=True)
        except kubernetes_validate.ValidationError as error:
            raise AssertionError(f"{doc['kind']} {doc['metadata']['name']} on {minor}: {error.message}") from None


def test_rbac_has_no_wildcards(docs: list[dict[str, Any]]) -> None:
    for doc in docs:
        for rule in doc.get("rules", []) if doc["kind"] in ("Role", "ClusterRole") else []:
            for field in ("apiGroups", "resources", "verbs", "resourceNames", "nonResourceURLs"):
                assert not any("*" in value for value in rule.get(field, [])), f"{doc['kind']} wildcard: {rule}"


def test_roles_are_bound_to_the_deployments_service_account(docs: list[dict[str, Any]]) -> None:
    """The Role lives in the controller's namespace (leases there, §14.3); both bindings name the SA."""
    pod = harness.find(docs, "Deployment")["spec"]["template"]["spec"]
    account = {"kind": "ServiceAccount", "name": pod["serviceAccountName"], "namespace": harness.NAMESPACE}
    harness.find(docs, "ServiceAccount", pod["serviceAccountName"])
    assert harness.find(docs, "Role")["metadata"]["namespace"] == harness.NAMESPACE
    for kind, role_kind in (("RoleBinding", "Role"), ("ClusterRoleBinding", "ClusterRole")):
        binding = harness.find(docs, kind)
        assert binding["subjects"] == [account]
        assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind,
                                      "name": harness.manager_role(docs, role_kind)["metadata"]["name"]}


def test_the_metrics_reader_role_grants_get_on_metrics_only(docs: list[dict[str, Any]]) -> None:
    """As upstream: the metrics filter needs the reviews; scrapers are bound to the reader role."""
    assert harness.find(docs, "ClusterRole", "jobset-metrics-reader")["rules"] == [
        {"nonResourceURLs": ["/metrics"], "verbs": ["get"]}]
    manager = harness.manager_role(docs, "ClusterRole")["rules"]
    assert {"apiGroups": ["authentication.k8s.io"], "resources": ["tokenreviews"], "verbs": ["create"]} in manager
    assert {"apiGroups": ["authorization.k8s.io"], "resources": ["subjectaccessreviews"], "verbs": ["create"]} in manager


def test_the_deployment_runs_two_hardened_replicas(docs: list[dict[str, Any]]) -> None:
    deployment = harness.find(docs, "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    manager = container(docs)
    assert deployment["spec"]["replicas"] == 2
    assert pod["securityContext"]["runAsNonRoot"] is True
    security = manager["securityContext"]
    assert security["allowPrivilegeEscalation"] is False
    assert security["readOnlyRootFilesystem"] is True
    assert security["capabilities"]["drop"] == ["ALL"]
    assert security["runAsUser"] != 0
    for kind in ("requests", "limits"):
        assert set(manager["resources"][kind]) == {"cpu", "memory"}
    writable = {m["mountPath"] for m in manager["volumeMounts"] if not m.get("readOnly")}
    assert writable == {"/tmp"}, "certificates are written under the temp directory (§14.1 certDir default)"


def test_the_configuration_elects_a_leader_and_manages_certificates(docs: list[dict[str, Any]],
                                                                    tmp_path: Any) -> None:
    """§14.2: the shipped config has leaderElection.leaderElect and internalCertManagement.enable."""
    config = shipped_configuration(docs, tmp_path)
    assert config.leader_election.leader_elect is True
    assert config.internal_cert_management.enable is True
    assert "--leader-elect" in container(docs)["args"]


def test_ports_probes_and_services_agree_with_the_configuration(docs: list[dict[str, Any]], tmp_path: Any) -> None:
    """§14.4: webhook 443 -> the webhook port, metrics on its port, probes on the health port's paths."""
    config = shipped_configuration(docs, tmp_path)
    ports = {p["name"]: p["containerPort"] for p in container(docs)["ports"]}
    assert ports["webhook-server"] == config.webhook.port
    assert f":{ports['metrics']}" == config.metrics.bind_address
    assert f":{ports['health']}" == config.health.health_probe_bind_address
    probes = {kind: container(docs)[kind]["httpGet"] for kind in ("livenessProbe", "readinessProbe")}
    assert probes["livenessProbe"] == {"path": f"/{config.health.liveness_endpoint_name or 'healthz'}",
                                       "port": "health"}
    assert probes["readinessProbe"] == {"path": f"/{config.health.readiness_endpoint_name or 'readyz'}",
                                        "port": "health"}
    selector = harness.find(docs, "Deployment")["spec"]["template"]["metadata"]["labels"]
    webhook_service = harness.find(docs, "Service", config.internal_cert_management.webhook_service_name)
    assert webhook_service["metadata"]["name"] == "jobset-webhook-service"
    assert webhook_service["spec"]["ports"] == [{"name": "webhook", "port": 443, "protocol": "TCP",
                                                "targetPort": "webhook-server"}]
    metrics = [s for s in docs if s["kind"] == "Service" and s is not webhook_service]
    assert [s["spec"]["ports"][0]["targetPort"] for s in metrics] == ["metrics"]
    for service in (webhook_service, *metrics):
        assert service["spec"]["selector"].items() <= selector.items()


def test_the_webhooks_call_the_webhook_service(docs: list[dict[str, Any]]) -> None:
    """§14.5: the webhook configurations the controller injects its CA into point at its Service."""
    for kind in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"):
        for hook in harness.find(docs, kind)["webhooks"]:
            service = hook["clientConfig"]["service"]
            assert (service["name"], service["namespace"], service["port"]) == (
                "jobset-webhook-service", harness.NAMESPACE, 443), hook["name"]
