"""The real kubectl (1.37) against the embedded API server: the request patterns it really sends."""

from __future__ import annotations

import pathlib
import subprocess
import threading
import time

import yaml

from engine.localcluster import server

SHARED = pathlib.Path(__file__).resolve().parents[3].parent / "shared"
CRD = SHARED / "upstream-crd" / "jobset.x-k8s.io_jobsets.yaml"

CONFIGMAP = """apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}
data:
  key: "{value}"
"""
POD = """apiVersion: v1
kind: Pod
metadata:
  name: {name}
spec:
  containers:
  - name: a
    image: alpine:{value}
    env:
    - name: X
      value: "1"
  - name: b
    image: busybox
"""
JOB = """apiVersion: batch/v1
kind: Job
metadata:
  name: {name}
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: main
        image: alpine
"""


def test_client_side_apply_twice_merges_containers_by_name(kubectl) -> None:
    assert "created" in kubectl("apply", "-f", "-", stdin=POD.format(name="csa", value="1")).stdout
    assert "configured" in kubectl("apply", "-f", "-", stdin=POD.format(name="csa", value="2")).stdout
    pod = kubectl.json("get", "pod", "csa")
    assert [(c["name"], c["image"]) for c in pod["spec"]["containers"]] == [("a", "alpine:2"), ("b", "busybox")]
    assert pod["spec"]["containers"][0]["env"] == [{"name": "X", "value": "1"}]


def test_server_side_apply_creates_then_conflicts_with_another_manager(kubectl) -> None:
    manifest = CONFIGMAP.format(name="ssa", value="1")
    assert "serverside-applied" in kubectl("apply", "--server-side", "-f", "-", stdin=manifest).stdout
    assert "serverside-applied" in kubectl("apply", "--server-side", "-f", "-",
                                           stdin=CONFIGMAP.format(name="ssa", value="2")).stdout
    clash = kubectl("apply", "--server-side", "--field-manager=other", "-f", "-",
                    stdin=CONFIGMAP.format(name="ssa", value="3"), check=False)
    assert clash.returncode != 0
    assert 'conflict with "kubectl" using v1: .data.key' in clash.stderr
    kubectl("apply", "--server-side", "--field-manager=other", "--force-conflicts", "-f", "-",
            stdin=CONFIGMAP.format(name="ssa", value="3"))
    configmap = kubectl.json("get", "configmap", "ssa", "--show-managed-fields")
    assert configmap["data"] == {"key": "3"}
    owners = {entry["manager"]: entry for entry in configmap["metadata"]["managedFields"]}
    assert owners["other"]["operation"] == "Apply"
    assert "f:key" in owners["other"]["fieldsV1"]["f:data"]


def test_get_prints_a_server_side_table(kubectl) -> None:
    kubectl("apply", "-f", "-", stdin=JOB.format(name="table-job"))
    lines = kubectl("get", "jobs", "table-job").stdout.splitlines()
    assert lines[0].split() == ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"]
    assert lines[1].split()[:3] == ["table-job", "Running", "0/1"]


def test_get_yaml_describe_and_delete(kubectl) -> None:
    kubectl("apply", "-f", "-", stdin=JOB.format(name="lifecycle"))
    job = yaml.safe_load(kubectl("get", "job", "lifecycle", "-o", "yaml").stdout)
    assert job["spec"]["backoffLimit"] == 6 and job["metadata"]["generation"] == 1
    described = kubectl("describe", "job", "lifecycle").stdout
    assert "Backoff Limit:    6" in described and "Events:" in described
    assert 'job.batch "lifecycle" deleted' in kubectl("delete", "job", "lifecycle").stdout
    missing = kubectl("get", "job", "lifecycle", check=False)
    assert missing.returncode == 1 and 'jobs.batch "lifecycle" not found' in missing.stderr


def test_wait_for_condition_returns_when_the_condition_is_set(cluster: server.RunningServer, kubectl) -> None:
    kubectl("apply", "-f", "-", stdin=JOB.format(name="waited"))

    async def complete() -> None:
        job = await cluster.api.get("batch/v1/jobs", "default", "waited")
        job["status"] = {"startTime": "2026-01-01T00:00:00Z", "completionTime": "2026-01-01T00:00:05Z",
                         "succeeded": 1, "conditions": [{"type": "SuccessCriteriaMet", "status": "True"},
                                                        {"type": "Complete", "status": "True"}]}
        await cluster.api.update("batch/v1/jobs", job, subresource="status")

    timer = threading.Timer(0.5, lambda: cluster.call(complete()))
    timer.start()
    started = time.monotonic()
    result = kubectl("wait", "--for=condition=Complete", "job/waited", "--timeout=20s")
    timer.join()
    assert "condition met" in result.stdout
    assert time.monotonic() - started < 10


def test_get_watch_streams_table_rows(kubectl) -> None:
    watcher = subprocess.Popen(kubectl.command("get", "configmaps", "-w"),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(0.5)
        kubectl("apply", "-f", "-", stdin=CONFIGMAP.format(name="watched-cm", value="1"))
        time.sleep(0.5)
    finally:
        watcher.terminate()
    output = watcher.communicate(timeout=10)[0]
    assert "watched-cm" in output


def test_upstream_crd_applies_server_side_but_not_client_side(kubectl) -> None:
    applied = kubectl("apply", "--server-side", "-f", str(CRD), timeout=60)
    assert "jobsets.jobset.x-k8s.io serverside-applied" in applied.stdout
    crd = kubectl.json("get", "crd", "jobsets.jobset.x-k8s.io")
    conditions = {c["type"]: c["status"] for c in crd["status"]["conditions"]}
    assert conditions == {"NamesAccepted": "True", "Established": "True"}
    client_side = kubectl("apply", "-f", str(CRD), check=False, timeout=60)
    assert client_side.returncode != 0
    assert "metadata.annotations: Too long: may not be more than 262144 bytes" in client_side.stderr


def test_unknown_field_of_a_built_in_is_rejected_by_strict_validation(kubectl) -> None:
    typo = POD.format(name="typo", value="1").replace("    image: busybox", "    imagee: busybox")
    result = kubectl("apply", "-f", "-", stdin=typo, check=False)
    assert result.returncode != 0
    assert ('Pod in version "v1" cannot be handled as a Pod: strict decoding error: '
            'unknown field "spec.containers[1].imagee"') in result.stderr


def test_server_side_apply_matches_list_items_whose_key_was_defaulted(kubectl) -> None:
    service = """apiVersion: v1
kind: Service
metadata:
  name: ported
spec:
  clusterIP: None
  selector:
    app: x1
  ports:
  - port: 80
"""
    kubectl("apply", "--server-side", "-f", "-", stdin=service)
    kubectl("apply", "--server-side", "-f", "-", stdin=service.replace("app: x1", "app: z1"))
    applied = kubectl.json("get", "service", "ported")
    assert applied["spec"]["ports"] == [{"port": 80, "protocol": "TCP", "targetPort": 80}]
    assert applied["spec"]["selector"] == {"app": "z1"}


def test_server_side_apply_removes_fields_the_manager_stops_applying(kubectl) -> None:
    both = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shrinking\ndata:\n  a: "1"\n  b: "2"\n'
    kubectl("apply", "--server-side", "-f", "-", stdin=both)
    kubectl("patch", "configmap", "shrinking", "--type=merge", "-p", '{"data": {"c": "3"}}')
    kubectl("apply", "--server-side", "-f", "-", stdin=both.replace('  b: "2"\n', ""))
    assert kubectl.json("get", "configmap", "shrinking")["data"] == {"a": "1", "c": "3"}


def test_tables_of_built_in_kinds(kubectl, raw) -> None:
    raw("POST", "/api/v1/nodes", {"metadata": {"name": "table-node", "labels": {"node-role.kubernetes.io/worker": ""}},
                                  "status": {"conditions": [{"type": "Ready", "status": "True"}],
                                             "nodeInfo": {"kubeletVersion": "v1.37.1"}}})
    raw("POST", "/api/v1/namespaces/default/services", {"metadata": {"name": "table-svc"},
                                                        "spec": {"clusterIP": "None", "ports": [{"port": 8080}]}})
    raw("POST", "/api/v1/namespaces/default/pods", {"metadata": {"name": "table-pod"},
                                                    "spec": {"containers": [{"name": "c", "image": "x"}]}})
    raw("POST", "/api/v1/namespaces/default/events", {
        "metadata": {"name": "table-pod.1"}, "involvedObject": {"kind": "Pod", "name": "table-pod", "namespace": "default"},
        "reason": "Scheduled", "message": "assigned", "type": "Normal", "lastTimestamp": "2026-01-01T00:00:00Z"})
    expected = {
        ("nodes", "table-node"): (["NAME", "STATUS", "ROLES", "AGE", "VERSION"], ["table-node", "Ready", "worker"]),
        ("services", "table-svc"): (["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"],
                                    ["table-svc", "ClusterIP", "None", "<none>", "8080/TCP"]),
        ("pods", "table-pod"): (["NAME", "READY", "STATUS", "RESTARTS", "AGE"], ["table-pod", "0/1", "Pending", "0"]),
        ("namespaces", "default"): (["NAME", "STATUS", "AGE"], ["default", "Active"]),
    }
    for (resource, name), (header, cells) in expected.items():
        lines = kubectl("get", resource, name).stdout.splitlines()
        assert lines[0].split() == header, lines
        assert lines[1].split()[:len(cells)] == cells, lines
    events = kubectl("get", "events").stdout
    assert "Scheduled" in events and "pod/table-pod" in events and "assigned" in events


def test_imperative_create_commands_sent_as_protobuf(kubectl) -> None:
    kubectl("create", "namespace", "imperative")
    kubectl("create", "configmap", "made", "-n", "imperative", "--from-literal=a=b", "--from-literal=c=d")
    kubectl("create", "secret", "generic", "hidden", "-n", "imperative", "--from-literal=token=s3cr3t")
    assert kubectl.json("get", "namespace", "imperative")["status"]["phase"] == "Active"
    assert kubectl.json("get", "configmap", "made", "-n", "imperative")["data"] == {"a": "b", "c": "d"}
    secret = kubectl.json("get", "secret", "hidden", "-n", "imperative")
    assert secret["type"] == "Opaque" and secret["data"] == {"token": "czNjcjN0"}


def test_server_side_apply_takes_over_from_client_side_apply_without_conflict(kubectl) -> None:
    kubectl("apply", "-f", "-", stdin=CONFIGMAP.format(name="migrated", value="1"))
    kubectl("apply", "--server-side", "-f", "-", stdin=CONFIGMAP.format(name="migrated", value="2"))
    configmap = kubectl.json("get", "configmap", "migrated", "--show-managed-fields")
    assert configmap["data"] == {"key": "2"}
    owners = {(m["manager"], m["operation"]) for m in configmap["metadata"]["managedFields"]}
    assert ("kubectl", "Apply") in owners


def test_kubectl_create_job_sent_as_protobuf(kubectl) -> None:
    kubectl("create", "job", "imperative-job", "--image=busybox:1.36", "--", "sleep", "5")
    job = kubectl.json("get", "job", "imperative-job")
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert (container["image"], container["command"]) == ("busybox:1.36", ["sleep", "5"])
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
