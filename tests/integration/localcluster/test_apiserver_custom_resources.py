"""Custom resources served from the upstream JobSet CRD: discovery, defaults, pruning or strict field
validation, schema and CEL validation with oldSelf, the status subresource, printer columns."""

from __future__ import annotations

import json
import pathlib

import pytest
import yaml
from kubernetes import client

SHARED = pathlib.Path(__file__).resolve().parents[3].parent / "shared"
GROUP, VERSION, PLURAL = "jobset.x-k8s.io", "v1alpha2", "jobsets"
PATH = f"/apis/{GROUP}/{VERSION}/namespaces/default/jobsets"


@pytest.fixture(scope="module", autouse=True)
def jobset_crd(kubectl) -> None:
    kubectl("apply", "--server-side", "-f", str(SHARED / "upstream-crd" / "jobset.x-k8s.io_jobsets.yaml"), timeout=60)


def _jobset(name: str, **spec) -> dict:
    example = yaml.safe_load((SHARED / "upstream-examples" / "simple" / "paralleljobs.yaml").read_text())
    example["metadata"] = {"name": name}
    example["spec"].update(spec)
    return example


def test_discovery_lists_the_custom_resource(raw) -> None:
    code, _, listed = raw("GET", f"/apis/{GROUP}/{VERSION}")
    assert code == 200
    entries = {r["name"]: r for r in listed["resources"]}
    assert entries["jobsets"]["kind"] == "JobSet" and entries["jobsets"]["namespaced"] is True
    assert "jobsets/status" in entries


def test_structural_defaults_are_applied(api_client) -> None:
    custom = client.CustomObjectsApi(api_client)
    created = custom.create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, _jobset("defaulted"))
    workers = created["spec"]["replicatedJobs"][0]
    assert workers["replicas"] == 1 and workers["groupName"] == "default"
    assert created["metadata"]["generation"] == 1 and "status" not in created


def test_strict_field_validation_rejects_unknown_fields(raw) -> None:
    body = _jobset("strict", bogus=True)
    code, _, status = raw("POST", PATH + "?fieldValidation=Strict", body)
    assert code == 400 and status["reason"] == "BadRequest"
    assert status["message"] == 'strict decoding error: unknown field "spec.bogus"'


def test_warn_field_validation_prunes_and_warns(raw) -> None:
    code, headers, created = raw("POST", PATH + "?fieldValidation=Warn", _jobset("warned", bogus=True))
    assert code == 201 and "bogus" not in created["spec"]
    assert headers["Warning"] == '299 - "unknown field \\"spec.bogus\\""'


def test_schema_violation_is_invalid_with_causes(raw) -> None:
    body = _jobset("bad-schema")
    body["spec"]["replicatedJobs"][0]["replicas"] = "many"
    code, _, status = raw("POST", PATH, body)
    assert code == 422 and status["reason"] == "Invalid"
    assert status["details"]["causes"][0]["field"] == "spec.replicatedJobs[0].replicas"


def test_cel_transition_rule_uses_old_self(api_client) -> None:
    custom = client.CustomObjectsApi(api_client)
    custom.create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL,
                                           _jobset("immutable", network={"subdomain": "first"}))
    with pytest.raises(client.ApiException) as raised:
        custom.patch_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "immutable",
                                              {"spec": {"network": {"subdomain": "second"}}})
    status = json.loads(raised.value.body)
    assert raised.value.status == 422
    assert "spec.network: Invalid value" in status["message"] and "Value is immutable" in status["message"]


def test_status_subresource_splits_writes(api_client) -> None:
    custom = client.CustomObjectsApi(api_client)
    custom.create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, _jobset("split"))
    ignored = custom.patch_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "split",
                                                    {"status": {"restarts": 3}})
    assert "status" not in ignored
    written = custom.patch_namespaced_custom_object_status(
        GROUP, VERSION, "default", PLURAL, "split",
        {"status": {"restarts": 2, "conditions": [{"type": "Completed", "status": "True", "reason": "AllJobsCompleted",
                                                    "message": "jobset completed successfully",
                                                    "lastTransitionTime": "2026-01-01T00:00:00Z"}],
                    "terminalState": "Completed"}})
    assert written["status"]["restarts"] == 2 and written["metadata"]["generation"] == 1


def test_status_write_of_a_custom_resource_keeps_its_stored_metadata(api_client) -> None:
    """A status write that sends only name and resourceVersion leaves labels, annotations and
    finalizers as stored (the custom-resource status strategy copies the old object's metadata)."""
    custom = client.CustomObjectsApi(api_client)
    body = _jobset("keeps-meta")
    body["metadata"].update(labels={"kueue.x-k8s.io/queue-name": "q"}, annotations={"team": "ml"},
                            finalizers=["example.com/hold"])
    stored = custom.create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, body)
    written = custom.replace_namespaced_custom_object_status(GROUP, VERSION, "default", PLURAL, "keeps-meta", {
        "apiVersion": f"{GROUP}/{VERSION}", "kind": "JobSet",
        "metadata": {"name": "keeps-meta", "namespace": "default",
                     "resourceVersion": stored["metadata"]["resourceVersion"], "labels": {"other": "x"}},
        "status": {"restarts": 1}})
    assert written["status"] == {"restarts": 1}
    assert written["metadata"]["labels"] == {"kueue.x-k8s.io/queue-name": "q"}
    assert written["metadata"]["annotations"] == {"team": "ml"}
    assert written["metadata"]["finalizers"] == ["example.com/hold"]
    custom.patch_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "keeps-meta",
                                          {"metadata": {"finalizers": None}})


def test_printer_columns_with_filter_and_date(kubectl, api_client) -> None:
    lines = kubectl("get", "jobsets", "split").stdout.splitlines()
    assert lines[0].split() == ["NAME", "TERMINALSTATE", "RESTARTS", "COMPLETED", "SUSPENDED", "AGE"]
    cells = lines[1].split()
    assert cells[:4] == ["split", "Completed", "2", "True"]
    assert cells[-1].endswith("s")


def test_kubectl_applies_a_jobset_twice_client_and_server_side(kubectl) -> None:
    manifest = yaml.safe_dump(_jobset("applied"))
    kubectl("apply", "-f", "-", stdin=manifest)
    relabelled = _jobset("applied")
    relabelled["metadata"]["labels"] = {"team": "ml"}
    assert "configured" in kubectl("apply", "-f", "-", stdin=yaml.safe_dump(relabelled)).stdout
    assert kubectl.json("get", "jobset", "applied")["metadata"]["labels"] == {"team": "ml"}
    kubectl("apply", "--server-side", "-f", "-", stdin=yaml.safe_dump(_jobset("ssa-applied")))
    suspended = _jobset("ssa-applied", suspend=True)
    kubectl("apply", "--server-side", "-f", "-", stdin=yaml.safe_dump(suspended))
    assert kubectl.json("get", "jobset", "ssa-applied")["spec"]["suspend"] is True


def test_kubectl_explain_reads_the_published_schema(kubectl) -> None:
    explained = kubectl("explain", "jobsets.spec.replicatedJobs.replicas").stdout
    assert "replicas" in explained.lower() and "integer" in explained
