"""`kubectl apply --server-side` installs the controller on the embedded control plane, and again idempotently.

Both documented ways are covered: the kustomization (`-k deploy/`) and the single file
(`-f deploy/manifests.yaml`). Kinds the embedded server does not serve (RBAC, Deployment, PodDisruptionBudget) are
stood in for by schemaless CRDs (see deployharness); their schemas are checked in test_manifests.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

import deployharness as harness
from engine.localcluster import server


@pytest.mark.parametrize("source", [["-k", "deploy/"], ["-f", "deploy/manifests.yaml"]], ids=["kustomize", "file"])
def test_server_side_apply_installs_every_object(cluster: tuple[server.RunningServer, harness.Kubectl],
                                                 docs: list[dict[str, Any]], source: list[str]) -> None:
    running, kubectl = cluster
    stand_ins = harness.serve_missing_kinds(kubectl, running.url, docs)
    assert all(name.endswith((".rbac.authorization.k8s.io", ".apps", ".policy")) for name in stand_ins), stand_ins
    first = kubectl("apply", "--server-side", *source).stdout
    assert len(first.splitlines()) == len(docs), first
    kubectl("wait", "--for=condition=Established", "--timeout=30s", "crd/jobsets.jobset.x-k8s.io")
    listed = json.loads(kubectl("get", *source, "-o", "json").stdout)["items"]
    stored = {(item["kind"], item["metadata"]["name"]): item for item in listed}
    for doc in docs:
        found = stored[(doc["kind"], doc["metadata"]["name"])]
        for field in ("spec", "rules", "data", "webhooks", "subjects", "roleRef"):
            if field in doc and doc["kind"] != "CustomResourceDefinition":
                assert _contains(found[field], doc[field]), f"{doc['kind']} {doc['metadata']['name']}: {field}"
    again = kubectl("apply", "--server-side", *source).stdout
    assert len(again.splitlines()) == len(docs), again


def test_a_jobset_is_accepted_once_installed(cluster: tuple[server.RunningServer, harness.Kubectl],
                                             docs: list[dict[str, Any]]) -> None:
    """The installed CRD serves JobSets (the webhooks are removed here: no controller runs)."""
    running, kubectl = cluster
    harness.serve_missing_kinds(kubectl, running.url, docs)
    kubectl("apply", "--server-side", "-k", "deploy/")
    kubectl("delete", "mutatingwebhookconfiguration/jobset-mutating-webhook-configuration",
            "validatingwebhookconfiguration/jobset-validating-webhook-configuration")
    kubectl("wait", "--for=condition=Established", "--timeout=30s", "crd/jobsets.jobset.x-k8s.io")
    kubectl("apply", "--server-side", "-n", "default", "-f", str(harness.ROOT / "examples" / "simple.yaml"))
    stored = json.loads(kubectl("get", "jobsets", "simple", "-n", "default", "-o", "json").stdout)
    assert [job["name"] for job in stored["spec"]["replicatedJobs"]] == ["driver", "workers"]


def _contains(stored: Any, wanted: Any) -> bool:
    """Whether `stored` has every value of `wanted` (the server may add defaults)."""
    if isinstance(wanted, dict):
        return isinstance(stored, dict) and all(k in stored and _contains(stored[k], v) for k, v in wanted.items())
    if isinstance(wanted, list):
        return isinstance(stored, list) and len(stored) == len(wanted) and all(map(_contains, stored, wanted))
    return bool(stored == wanted)
