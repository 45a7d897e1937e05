"""PATCH over HTTP: strategic merge directives, JSON Patch operations and errors, merge patch on status."""

from __future__ import annotations

SMP = {"Content-Type": "application/strategic-merge-patch+json"}
JSON_PATCH = {"Content-Type": "application/json-patch+json"}
PODS = "/api/v1/namespaces/default/pods"


def _pod(raw, name: str) -> dict:
    body = {"metadata": {"name": name, "finalizers": ["a.example/one", "b.example/two"]}, "spec": {
        "containers": [{"name": "a", "image": "alpine"}, {"name": "b", "image": "busybox"}],
        "tolerations": [{"key": "k", "operator": "Exists"}]}}
    code, _, created = raw("POST", PODS, body)
    assert code == 201, created
    return created


def test_patch_delete_directive_removes_a_list_item(raw) -> None:
    _pod(raw, "smp-delete")
    conditions = [{"type": "Ready", "status": "False"}, {"type": "Custom", "status": "True"}]
    raw("PATCH", f"{PODS}/smp-delete/status", {"status": {"conditions": conditions}}, SMP)
    code, _, patched = raw("PATCH", f"{PODS}/smp-delete/status", {"status": {"conditions": [
        {"type": "Ready", "$patch": "delete"}, {"type": "Custom", "status": "False"}]}}, SMP)
    assert code == 200, patched
    assert patched["status"]["conditions"] == [{"type": "Custom", "status": "False"}]


def test_delete_from_primitive_list_and_set_element_order(raw) -> None:
    _pod(raw, "smp-order")
    code, _, patched = raw("PATCH", f"{PODS}/smp-order", {
        "metadata": {"$deleteFromPrimitiveList/finalizers": ["a.example/one"]}}, SMP)
    assert code == 200, patched
    assert patched["metadata"]["finalizers"] == ["b.example/two"]
    service = {"metadata": {"name": "smp-order"}, "spec": {"ports": [{"name": "a", "port": 80}, {"name": "b", "port": 81}]}}
    raw("POST", "/api/v1/namespaces/default/services", service)
    code, _, patched = raw("PATCH", "/api/v1/namespaces/default/services/smp-order", {"spec": {
        "$setElementOrder/ports": [{"port": 81}, {"port": 80}], "ports": [{"port": 80, "name": "http"}]}}, SMP)
    assert code == 200, patched
    assert [(p["port"], p["name"]) for p in patched["spec"]["ports"]] == [(81, "b"), (80, "http")]


def test_atomic_list_is_replaced_whole(raw) -> None:
    _pod(raw, "smp-atomic")
    code, _, patched = raw("PATCH", f"{PODS}/smp-atomic", {"spec": {"tolerations": [
        {"key": "k", "operator": "Exists"}, {"key": "extra", "operator": "Exists"}]}}, SMP)
    assert code == 200, patched
    assert [t["key"] for t in patched["spec"]["tolerations"]] == ["k", "extra"]


def test_json_patch_test_failure_and_bad_path_are_unprocessable(raw) -> None:
    raw("POST", "/api/v1/namespaces/default/configmaps", {"metadata": {"name": "jp"}, "data": {"a": "1"}})
    code, _, status = raw("PATCH", "/api/v1/namespaces/default/configmaps/jp",
                          [{"op": "test", "path": "/data/a", "value": "2"}, {"op": "remove", "path": "/data/a"}],
                          JSON_PATCH)
    assert code == 422 and status["kind"] == "Status"
    code, _, status = raw("PATCH", "/api/v1/namespaces/default/configmaps/jp",
                          [{"op": "remove", "path": "/data/missing"}], JSON_PATCH)
    assert code == 422
    code, _, status = raw("PATCH", "/api/v1/namespaces/default/configmaps/jp", {"op": "remove"}, JSON_PATCH)
    assert code == 400 and status["reason"] == "BadRequest"
    code, _, patched = raw("PATCH", "/api/v1/namespaces/default/configmaps/jp",
                           [{"op": "copy", "from": "/data/a", "path": "/data/b"},
                            {"op": "move", "from": "/data/a", "path": "/data/c"}], JSON_PATCH)
    assert code == 200 and patched["data"] == {"b": "1", "c": "1"}


def test_patch_carrying_a_stale_resource_version_conflicts(raw) -> None:
    code, _, created = raw("POST", "/api/v1/namespaces/default/configmaps", {"metadata": {"name": "rv"}})
    raw("PATCH", "/api/v1/namespaces/default/configmaps/rv", {"data": {"a": "1"}},
        {"Content-Type": "application/merge-patch+json"})
    code, _, status = raw("PATCH", "/api/v1/namespaces/default/configmaps/rv",
                          {"metadata": {"resourceVersion": created["metadata"]["resourceVersion"]}, "data": {"a": "2"}},
                          {"Content-Type": "application/merge-patch+json"})
    assert code == 409 and status["reason"] == "Conflict"


def test_unchanged_update_keeps_the_resource_version(raw) -> None:
    code, _, created = raw("POST", "/api/v1/namespaces/default/configmaps", {"metadata": {"name": "noop"}, "data": {"a": "1"}})
    code, _, patched = raw("PATCH", "/api/v1/namespaces/default/configmaps/noop", {"data": {"a": "1"}},
                           {"Content-Type": "application/merge-patch+json"})
    assert code == 200 and patched["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]


def test_main_endpoint_ignores_status_and_status_endpoint_ignores_spec(raw) -> None:
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "split"}, "spec": {"template": {"spec": {
        "restartPolicy": "Never", "containers": [{"name": "c", "image": "x"}]}}}}
    raw("POST", "/apis/batch/v1/namespaces/default/jobs", job)
    merge = {"Content-Type": "application/merge-patch+json"}
    code, _, patched = raw("PATCH", "/apis/batch/v1/namespaces/default/jobs/split", {"status": {"active": 3}}, merge)
    assert code == 200 and patched["status"] == {}
    code, _, patched = raw("PATCH", "/apis/batch/v1/namespaces/default/jobs/split/status",
                           {"spec": {"parallelism": 7}, "status": {"active": 3}}, merge)
    assert code == 200 and patched["status"] == {"active": 3} and patched["spec"]["parallelism"] == 1
    assert patched["metadata"]["generation"] == 1
