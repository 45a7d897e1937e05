"""Every invalid manifest of the lint corpus is rejected by `kubectl apply` through the HTTPS webhooks
with the message `jobset lint` prints (spec §5.1, §6.1; one engine, no second code path).

Corpus files carry `# expect: FIELD: PHRASE` and optional `# inputs: {json}` headers. Feature gates
in the inputs select an installation with those gates; existing PVCs are created first; a failed
PVC lookup is an injected API server fault.
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from engine import up
from engine.lint import pipeline
from engine.localcluster import faults

ROOT = pathlib.Path(__file__).resolve().parents[3]
CORPUS = sorted((ROOT / "tests" / "corpus" / "invalid").glob("V-*.yaml"))
KUBECTL = pathlib.Path(sys.executable).parent / "kubectl"
GATED = {"InPlaceRestart": True, "RestartJob": True}


def headers(path: pathlib.Path) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    expected, inputs = [], {}
    for line in path.read_text().splitlines():
        if line.startswith("# expect: "):
            field, _, phrase = line[len("# expect: "):].partition(": ")
            expected.append(("" if field == '""' else field, phrase))
        elif line.startswith("# inputs: "):
            inputs = json.loads(line[len("# inputs: "):])
    return expected, inputs


@pytest.fixture(scope="module")
def installations(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[bool, tuple[up.Environment, pathlib.Path]]]:
    started: dict[bool, tuple[up.Environment, pathlib.Path]] = {}
    try:
        for gated in (False, True):
            kubeconfig = tmp_path_factory.mktemp("gated" if gated else "plain") / "kubeconfig"
            environment = up.Environment(up.Options(kubeconfig=kubeconfig, simulate=False,
                                                    feature_gates=GATED if gated else {}))
            environment.start()
            started[gated] = (environment, kubeconfig)
        yield started
    finally:
        for environment, _ in started.values():
            environment.stop()


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_kubectl_apply_is_denied_with_the_lint_message(path: pathlib.Path, installations: dict, tmp_path: pathlib.Path) -> None:
    expected, inputs = headers(path)
    gates = inputs.get("featureGates") or {}
    environment, kubeconfig = installations[bool(gates)]
    cluster = environment.cluster
    assert cluster is not None
    for pvc in inputs.get("existingPVCs", []):
        cluster.call(cluster.api.create("v1/persistentvolumeclaims", dict(pvc), namespace=pvc["metadata"]["namespace"]))
    injected = [cluster.faults.add(faults.Rule(verb="get", resource="persistentvolumeclaims", name=name, code=500,
                                               message=text))
                for name, text in (inputs.get("pvcLookupErrors") or {}).items()]
    try:
        done = subprocess.run([str(KUBECTL), "--kubeconfig", str(kubeconfig), "--cache-dir", str(tmp_path / "cache"),
                               "apply", "-f", str(path)], capture_output=True, text=True, timeout=60)
    finally:
        for rule in injected:
            cluster.faults.remove(rule)
        for pvc in inputs.get("existingPVCs", []):
            cluster.call(cluster.api.delete("v1/persistentvolumeclaims", pvc["metadata"]["namespace"],
                                            pvc["metadata"]["name"]))
    assert done.returncode != 0, f"admitted: {done.stdout}"
    assert "is invalid" in done.stderr or "denied the request" in done.stderr, done.stderr
    if not inputs.get("existingPVCs") and not inputs.get("pvcLookupErrors"):
        verdict = pipeline.Checker(feature_gates={**gates}).check(yaml.safe_load(path.read_text()))
        assert not verdict.valid
        for finding in verdict.findings:
            printed = f"{finding.field}: {finding.message}" if finding.field else finding.message
            assert printed in done.stderr, f"lint says {printed!r}; kubectl said {done.stderr!r}"
    for field, phrase in expected:
        assert phrase in done.stderr and (not field or field in done.stderr), (field, phrase, done.stderr)


EXAMPLES = ROOT.parent / "shared" / "upstream-examples"
NEEDS_GATES = ("in-place-restart/", "failure-policy/restartjob")


def upstream_jobsets() -> list[tuple[str, int, dict[str, Any]]]:
    found = []
    for path in sorted(EXAMPLES.rglob("*.yaml")):
        for index, document in enumerate(yaml.safe_load_all(path.read_text())):
            if isinstance(document, dict) and document.get("kind") == "JobSet":
                found.append((str(path.relative_to(EXAMPLES)), index, document))
    return found


@pytest.mark.parametrize("relative, index, document", upstream_jobsets(), ids=lambda v: v if isinstance(v, str) else "")
def test_upstream_examples_are_admitted_and_defaulted_as_lint_says(relative: str, index: int, document: dict[str, Any],
                                                                  installations: dict, tmp_path: pathlib.Path) -> None:
    """§5.2: the stored spec equals `jobset lint`'s defaulted object (CRD defaults + webhook defaulting)."""
    gated = relative.startswith(NEEDS_GATES)
    environment, kubeconfig = installations[gated]
    cluster = environment.cluster
    assert cluster is not None
    namespace = f"up-{abs(hash((relative, index))) % 10**8}"
    cluster.call(cluster.api.create("v1/namespaces", {"metadata": {"name": namespace}}))
    document = json.loads(json.dumps(document))
    document["metadata"].pop("namespace", None)
    manifest = tmp_path / "jobset.yaml"
    manifest.write_text(yaml.safe_dump(document))
    done = subprocess.run([str(KUBECTL), "--kubeconfig", str(kubeconfig), "--cache-dir", str(tmp_path / "cache"),
                           "apply", "--server-side", "-n", namespace, "-f", str(manifest)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    name = document["metadata"].get("name")
    stored = cluster.call(cluster.api.get("jobset.x-k8s.io/v1alpha2/jobsets", namespace, name))
    expected = pipeline.Checker(feature_gates=GATED if gated else {}).check(document)
    assert expected.valid, expected.findings
    assert stored["spec"] == expected.defaulted["spec"]
