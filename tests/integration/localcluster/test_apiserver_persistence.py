"""`python -m engine.localcluster --data-dir`: a restart loses no object and keeps the resourceVersion sequence."""

from __future__ import annotations

import pathlib
import signal
import subprocess
import sys

from kubernetes import client, config

ROOT = pathlib.Path(__file__).resolve().parents[3]


CRD = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
       "metadata": {"name": "gadgets.example.com"},
       "spec": {"group": "example.com", "scope": "Namespaced",
                "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget"},
                "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                    "type": "object", "properties": {"spec": {"type": "object", "properties": {
                        "size": {"type": "integer"}}}}}}}]}}


def _start(data_dir: pathlib.Path, kubeconfig: pathlib.Path) -> tuple[subprocess.Popen, client.CoreV1Api]:
    process = subprocess.Popen([sys.executable, "-m", "engine.localcluster", "--port", "0", "--data-dir",
                                str(data_dir), "--kubeconfig", str(kubeconfig)],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    assert "serving the Kubernetes API at" in line, process.stderr.read()
    configuration = client.Configuration()
    config.load_kube_config(config_file=str(kubeconfig), client_configuration=configuration)
    return process, client.CoreV1Api(client.ApiClient(configuration))


def _stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0


def test_restart_with_data_dir_keeps_objects_and_versions(tmp_path: pathlib.Path) -> None:
    process, core = _start(tmp_path / "data", tmp_path / "kubeconfig")
    try:
        core.create_namespace({"metadata": {"name": "kept"}})
        for n in range(20):
            core.create_namespaced_config_map("kept", {"metadata": {"name": f"cm-{n}"}, "data": {"n": str(n)}})
        core.delete_namespaced_config_map("cm-0", "kept")
        before = core.list_namespaced_config_map("kept")
        extensions = client.ApiextensionsV1Api(core.api_client)
        extensions.create_custom_resource_definition(CRD)
        client.CustomObjectsApi(core.api_client).create_namespaced_custom_object(
            "example.com", "v1", "kept", "gadgets", {"apiVersion": "example.com/v1", "kind": "Gadget",
                                                     "metadata": {"name": "g"}, "spec": {"size": 3}})
    finally:
        _stop(process)
    process, core = _start(tmp_path / "data", tmp_path / "kubeconfig")
    try:
        after = core.list_namespaced_config_map("kept")
        assert [(c.metadata.name, c.metadata.uid, c.data) for c in after.items] == \
               [(c.metadata.name, c.metadata.uid, c.data) for c in before.items]
        assert len(after.items) == 19
        gadget = client.CustomObjectsApi(core.api_client).get_namespaced_custom_object(
            "example.com", "v1", "kept", "gadgets", "g")
        assert gadget["spec"] == {"size": 3}
        created = core.create_namespaced_config_map("kept", {"metadata": {"name": "new"}})
        assert int(created.metadata.resource_version) > int(before.metadata.resource_version)
    finally:
        _stop(process)
