"""Client mistakes get the right status code and a Status body, never a 500."""

from __future__ import annotations

import json

import pytest


def _is_status(body: dict, code: int, reason: str) -> None:
    assert body["kind"] == "Status" and body["apiVersion"] == "v1" and body["status"] == "Failure"
    assert body["code"] == code and body["reason"] == reason, body


def test_malformed_json_is_bad_request(raw) -> None:
    code, _, body = raw("POST", "/api/v1/namespaces/default/configmaps", b'{"metadata": {', {"Content-Type": "application/json"})
    assert code == 400
    _is_status(body, 400, "BadRequest")
    assert "json parse error" in body["message"]


def test_unknown_resource_is_not_found(raw) -> None:
    code, _, body = raw("GET", "/api/v1/namespaces/default/widgets")
    assert code == 404
    _is_status(body, 404, "NotFound")
    code, _, body = raw("GET", "/apis/nothing.example/v1")
    assert code == 404 and body["kind"] == "Status"


def test_invalid_job_lists_its_causes(raw) -> None:
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "Bad_Name"},
           "spec": {"template": {"spec": {"restartPolicy": "Always", "containers": [{"name": "c", "image": "x"}]}}}}
    code, _, body = raw("POST", "/apis/batch/v1/namespaces/default/jobs", job)
    assert code == 422
    _is_status(body, 422, "Invalid")
    fields = {cause["field"] for cause in body["details"]["causes"]}
    assert fields == {"metadata.name", "spec.template.spec.restartPolicy"}
    assert 'Unsupported value: "Always": supported values: "OnFailure", "Never"' in body["message"]


def test_oversized_body_is_request_entity_too_large(raw) -> None:
    huge = {"metadata": {"name": "huge"}, "data": {"k": "x" * (3 * 1024 * 1024)}}
    code, _, body = raw("POST", "/api/v1/namespaces/default/configmaps", huge)
    assert code == 413
    _is_status(body, 413, "RequestEntityTooLarge")


def test_protobuf_body_is_unsupported_media_type(raw) -> None:
    code, _, body = raw("POST", "/api/v1/namespaces/default/configmaps", b"k8s\x00",
                        {"Content-Type": "application/vnd.kubernetes.protobuf"})
    assert code == 415
    _is_status(body, 415, "UnsupportedMediaType")


def test_strategic_merge_patch_on_a_custom_resource_is_415(raw, kubectl) -> None:
    kubectl("apply", "--server-side", "-f", "-", stdin=json.dumps(WIDGET_CRD))
    kubectl("apply", "-f", "-", stdin=json.dumps({"apiVersion": "example.com/v1", "kind": "Widget",
                                                  "metadata": {"name": "w"}, "spec": {}}))
    code, _, body = raw("PATCH", "/apis/example.com/v1/namespaces/default/widgets/w", {"spec": {}},
                        {"Content-Type": "application/strategic-merge-patch+json"})
    assert code == 415
    _is_status(body, 415, "UnsupportedMediaType")


def test_method_not_allowed(raw) -> None:
    code, _, body = raw("PUT", "/api/v1/namespaces/default/configmaps", {"metadata": {"name": "x"}})
    assert code == 405
    _is_status(body, 405, "MethodNotAllowed")


def test_create_in_missing_namespace_is_not_found(raw) -> None:
    code, _, body = raw("POST", "/api/v1/namespaces/nowhere/configmaps", {"metadata": {"name": "x"}})
    assert code == 404 and body["message"] == 'namespaces "nowhere" not found'


def test_duplicate_create_is_already_exists(raw) -> None:
    raw("POST", "/api/v1/namespaces/default/configmaps", {"metadata": {"name": "twice"}})
    code, _, body = raw("POST", "/api/v1/namespaces/default/configmaps", {"metadata": {"name": "twice"}})
    assert code == 409
    _is_status(body, 409, "AlreadyExists")
    assert body["details"] == {"name": "twice", "kind": "configmaps"}


def test_dry_run_create_stores_nothing(raw) -> None:
    code, _, body = raw("POST", "/api/v1/namespaces/default/configmaps?dryRun=All", {"metadata": {"name": "dry"}})
    assert code == 201 and body["metadata"]["uid"]
    assert raw("GET", "/api/v1/namespaces/default/configmaps/dry")[0] == 404


def test_bad_selector_is_bad_request(raw) -> None:
    code, _, body = raw("GET", "/api/v1/pods?fieldSelector=spec.bogus%3Dx")
    assert code == 400 and body["message"] == "field label not supported: spec.bogus"


WIDGET_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com"},
    "spec": {"group": "example.com", "scope": "Namespaced",
             "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
             "versions": [{"name": "v1", "served": True, "storage": True,
                           "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                               "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}}}}]},
}


@pytest.mark.parametrize("body", [
    {"metadata": {"name": "m1", "labels": "app=x"}},
    {"metadata": {"name": "m2", "finalizers": "one"}},
    {"metadata": {"name": "m3"}, "spec": {"containers": {"name": "c"}}},
    {"metadata": {"name": "m4"}, "spec": {"containers": [{"name": "c", "image": "x", "ports": [{"containerPort": "80"}]}]}},
    {"metadata": {"name": "m5"}, "spec": "none"},
    {"metadata": ["m6"]},
    {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "m7", "ownerReferences": [{"uid": 7}]}},
])
def test_mistyped_fields_are_bad_requests_never_server_errors(raw, body) -> None:
    code, _, status = raw("POST", "/api/v1/namespaces/default/pods", body)
    assert code == 400, status
    _is_status(status, 400, "BadRequest")


def test_mistyped_metadata_of_a_custom_resource_is_a_bad_request(raw, kubectl) -> None:
    kubectl("apply", "--server-side", "-f", "-", stdin=json.dumps(WIDGET_CRD))
    code, _, status = raw("POST", "/apis/example.com/v1/namespaces/default/widgets",
                          {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w2", "labels": ["x"]}})
    assert code == 400, status
    assert "cannot unmarshal array into Go struct field metadata.labels" in status["message"]


@pytest.mark.parametrize(("method", "path", "body", "content_type", "code"), [
    ("PATCH", "/api/v1/namespaces/default/configmaps/twice", [{"op": "replace", "path": "", "value": [1]}],
     "application/json-patch+json", 422),
    ("PATCH", "/api/v1/namespaces/default/configmaps/twice", {"$patch": "delete"},
     "application/strategic-merge-patch+json", 422),
    ("PATCH", "/api/v1/namespaces/default/configmaps/twice?fieldManager=m", {"metadata": "x"},
     "application/apply-patch+yaml", 400),
    ("DELETE", "/api/v1/namespaces/default/configmaps/twice", {"preconditions": "x"}, "application/json", 400),
    ("GET", "/api/v1/configmaps?watch=true&timeoutSeconds=soon", None, "application/json", 400),
    ("GET", "/api/v1/configmaps?limit=many", None, "application/json", 400),
])
def test_odd_requests_are_client_errors(raw, method, path, body, content_type, code) -> None:
    raw("POST", "/api/v1/namespaces/default/configmaps", {"metadata": {"name": "twice"}})
    status_code, _, status = raw(method, path, body, {"Content-Type": content_type})
    assert status_code == code, status
    assert status["kind"] == "Status" and status["code"] == code


def test_job_name_too_long_for_its_pod_label_is_invalid(raw) -> None:
    name = "j" * 64
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
           "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "x"}]}}}}
    code, _, status = raw("POST", "/apis/batch/v1/namespaces/default/jobs", job)
    assert code == 422
    assert "spec.template.labels" in {cause["field"] for cause in status["details"]["causes"]}
