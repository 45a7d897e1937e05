"""The Helm chart `deploy/helm/jobset`: its default rendering installs what the kustomization installs.

No `helm` binary runs here: `helmrender` expands the chart's templates with a strict renderer of
the subset of Go templates they use (it refuses anything else), so these tests prove the
templates' substance, not Helm's own parsing, `helm lint` or an actual `helm install`.
"""

from __future__ import annotations

import copy
import re
import tomllib
from typing import Any

import yaml

import deployharness as harness
import helmrender

CHART = harness.DEPLOY / "helm" / "jobset"
NOT_IN_CHART = {"Namespace"}  # `helm install --create-namespace` makes it (docs/compatibility.md)


def rendered_chart(namespace: str = harness.NAMESPACE, values: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    texts = helmrender.render_chart(CHART, namespace=namespace, values=values)
    return [doc for text in texts.values() for doc in yaml.safe_load_all(text) if doc]


def comparable(doc: dict[str, Any]) -> dict[str, Any]:
    """`doc` with the ConfigMap's embedded Configuration parsed, so formatting does not matter."""
    found = copy.deepcopy(doc)
    if found["kind"] == "ConfigMap":
        found["data"] = {key: yaml.safe_load(text) for key, text in found["data"].items()}
    return found


def by_identity(docs: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(doc["kind"], doc["metadata"]["name"]): comparable(doc) for doc in docs}


def test_the_default_rendering_matches_the_kustomization(docs: list[dict[str, Any]]) -> None:
    expected = by_identity([d for d in docs if d["kind"] not in NOT_IN_CHART | {"CustomResourceDefinition"}])
    chart = by_identity(rendered_chart())
    assert chart.keys() == expected.keys()
    for identity, doc in expected.items():
        assert chart[identity] == doc, f"{identity} differs between the chart and deploy/"


def test_the_chart_installs_the_generated_crd() -> None:
    (crd,) = (CHART / "crds").iterdir()
    assert crd.read_text() == (harness.DEPLOY / "crd" / crd.name).read_text()


def test_the_release_namespace_replaces_jobset_system_everywhere() -> None:
    docs = rendered_chart(namespace="batch-system")
    text = yaml.safe_dump_all(docs)
    assert "jobset-system" not in text
    namespaced = [d for d in docs if d["kind"] not in ("ClusterRole", "ClusterRoleBinding",
                                                       "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")]
    assert {d["metadata"]["namespace"] for d in namespaced} == {"batch-system"}
    hooks = [h for d in docs if "webhooks" in d for h in d["webhooks"]]
    assert hooks and {h["clientConfig"]["service"]["namespace"] for h in hooks} == {"batch-system"}


def test_values_are_substituted() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    values.update(replicaCount=3, image={"repository": "registry.example/jobset", "tag": "v9"})
    values["configuration"]["leaderElection"]["leaseDuration"] = "30s"
    docs = {d["kind"]: d for d in rendered_chart(values=values)}
    deployment = docs["Deployment"]["spec"]
    assert deployment["replicas"] == 3
    assert deployment["template"]["spec"]["containers"][0]["image"] == "registry.example/jobset:v9"
    config = yaml.safe_load(docs["ConfigMap"]["data"]["controller_manager_config.yaml"])
    assert config["leaderElection"]["leaseDuration"] == "30s"


def test_every_value_is_used_by_a_template() -> None:
    """Rendering already fails on a reference values.yaml lacks; here no value is left unused."""
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    used = {ref for path in (CHART / "templates").glob("*.yaml")
            for ref in re.findall(r"\.Values\.(\w+)", path.read_text())}
    assert used == set(values)


def test_versions_agree() -> None:
    """Chart appVersion, default image tag, the kustomization's image and the project version agree."""
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    project = tomllib.loads((harness.ROOT / "pyproject.toml").read_text())["project"]["version"]
    kustomization = yaml.safe_load((harness.DEPLOY / "kustomization.yaml").read_text())
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert chart["apiVersion"] == "v2"
    assert chart["appVersion"] == values["image"]["tag"] == kustomization["images"][0]["newTag"] == project
    oldest = min(re.findall(r"^\| *(1\.\d+) *\| *supported", (harness.ROOT / "docs" / "compatibility.md").read_text(),
                            flags=re.MULTILINE), key=lambda v: int(v.split(".")[1]))
    assert chart["kubeVersion"] == f">={oldest}.0-0"


def test_the_renderer_refuses_what_it_does_not_implement() -> None:
    """The chart can only pass the tests above by staying inside the subset helmrender implements."""
    for template, error in (("{{ if .Values.a }}x{{ end }}", helmrender.Unsupported),
                            ('{{ include "name" . }}', helmrender.Unsupported),
                            ("{{ .Values.a | default 3 }}", helmrender.Unsupported),
                            ("{{ .Values.b }}", helmrender.Missing)):
        try:
            helmrender.render(template, {"Values": {"a": 1}})
        except error:
            continue
        raise AssertionError(f"{template!r} rendered")
    assert helmrender.render('a\n  {{- "x" | quote }}  \n{{ 3 -}}\n  b', {}) == 'a"x"  \n3b'
