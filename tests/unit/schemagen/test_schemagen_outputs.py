"""The generated JobSet schema, CRD and Configuration schema: up to date, shaped as spec §1 and §14.1."""

from __future__ import annotations

import copy
import functools
import importlib.util
import json
import pathlib

import jsonschema
import pytest
import yaml

from engine.crd import structural
from engine.schemagen import __main__ as cli
from engine.schemagen import expanding, kubernetes, outputs

ROOT = pathlib.Path(__file__).resolve().parents[3]
HAVE_KUBERNETES_VALIDATE = importlib.util.find_spec("kubernetes_validate") is not None


@functools.cache
def _crd_text() -> str:
    return (ROOT / outputs.JOBSET_CRD).read_text()


def crd() -> dict:
    return yaml.load(_crd_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def config_schema() -> dict:
    return json.loads((ROOT / outputs.CONFIG_SCHEMA).read_text())


@pytest.mark.skipif(not HAVE_KUBERNETES_VALIDATE, reason="needs the optional extra `schemagen`")
def test_committed_outputs_equal_a_fresh_generation() -> None:
    assert outputs.stale(ROOT) == []
    assert cli.main(["--check"]) == 0


@pytest.mark.skipif(not HAVE_KUBERNETES_VALIDATE, reason="needs the optional extra `schemagen`")
def test_crd_is_a_valid_apiextensions_v1_object_under_strict_validation() -> None:
    import kubernetes_validate

    assert kubernetes_validate.validate(crd(), "1.37.0", strict=True) == "1.37"


def test_crd_records_the_digest_of_its_source_and_generator() -> None:
    """Runs without kubernetes-validate: editing the source without regenerating fails here."""
    annotations = crd()["metadata"]["annotations"]
    assert annotations[outputs.DIGEST_ANNOTATION] == outputs.source_digest(ROOT)


def test_schema_file_is_the_crd_schema() -> None:
    schema = json.loads((ROOT / outputs.JOBSET_SCHEMA).read_text())
    assert crd()["spec"]["versions"][0]["schema"]["openAPIV3Schema"] == schema


def test_crd_identity_scope_subresources_and_printer_columns_follow_spec_section_1() -> None:
    spec = crd()["spec"]
    assert spec["group"] == "jobset.x-k8s.io"
    assert spec["scope"] == "Namespaced"
    assert spec["names"] == {"kind": "JobSet", "listKind": "JobSetList", "plural": "jobsets", "singular": "jobset"}
    (version,) = spec["versions"]
    assert (version["name"], version["served"], version["storage"]) == ("v1alpha2", True, True)
    assert version["subresources"] == {"status": {}}
    columns = {column["name"]: (column["jsonPath"], column["type"]) for column in version["additionalPrinterColumns"]}
    assert columns == {
        "TerminalState": (".status.terminalState", "string"),
        "Restarts": (".status.restarts", "string"),
        "Completed": ('.status.conditions[?(@.type=="Completed")].status', "string"),
        "Suspended": (".spec.suspend", "string"),
        "Age": (".metadata.creationTimestamp", "date"),
    }
    assert crd()["metadata"]["name"] == "jobsets.jobset.x-k8s.io"


def test_jobset_schema_carries_the_structural_defaults_of_spec_section_5_1() -> None:
    compiled = structural.CompiledSchema(json.loads((ROOT / outputs.JOBSET_SCHEMA).read_text()))
    obj = {"spec": {
        "replicatedJobs": [{"name": "a", "template": {"spec": {"template": {"spec": {
            "containers": [{"name": "c", "image": "i", "ports": [{"containerPort": 80}]}]}}}}}],
        "failurePolicy": {}, "volumeClaimPolicies": [{"templates": [], "retentionPolicy": {}}],
    }}
    compiled.apply_defaults(obj)
    job = obj["spec"]["replicatedJobs"][0]
    assert (job["groupName"], job["replicas"]) == ("default", 1)
    assert obj["spec"]["failurePolicy"] == {"restartStrategy": "Recreate"}
    assert obj["spec"]["volumeClaimPolicies"][0]["retentionPolicy"] == {"whenDeleted": "Delete"}
    assert job["template"]["spec"]["template"]["spec"]["containers"][0]["ports"] == [{"containerPort": 80, "protocol": "TCP"}]


# --- the generator on small inputs ---------------------------------------------------------------

RAW = {
    "v1.Wrapper": {"type": ["object", "null"], "properties": {
        "meta": {"$ref": "#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"},
        "size": {"$ref": "#/$defs/io.k8s.apimachinery.pkg.api.resource.Quantity"},
        "port": {"$ref": "#/$defs/io.k8s.apimachinery.pkg.util.intstr.IntOrString"},
        "kind": {"type": ["string", "null"], "enum": ["Wrapper"]},
        "mode": {"type": ["string", "null"], "x-kubernetes-patch-strategy": "merge"},
        "blob": {"type": ["object", "null"]},
    }},
    "v1.Loop": {"type": "object", "properties": {"next": {"$ref": "#/$defs/v1.Loop"}}},
}
META = {"type": "object", "properties": {"name": {"type": "string"}}}


def test_kubernetes_definitions_become_structural_schemas() -> None:
    types = kubernetes.Definitions(RAW, metadata=META, defaults={"v1.Wrapper": {"mode": "Fast"}})
    schema = types.expand("v1.Wrapper")
    props = schema["properties"]
    assert schema["type"] == "object"
    assert props["meta"] == META
    assert props["size"]["x-kubernetes-int-or-string"] is True
    assert props["size"]["pattern"] == kubernetes.QUANTITY_PATTERN
    assert "pattern" not in props["port"] and props["port"]["anyOf"] == [{"type": "integer"}, {"type": "string"}]
    assert props["kind"] == {"type": "string"}
    assert props["mode"] == {"type": "string", "default": "Fast"}
    assert props["blob"] == {"type": "object", "x-kubernetes-preserve-unknown-fields": True}


def test_quantity_pattern_accepts_kubernetes_quantities_only() -> None:
    compiled = structural.CompiledSchema(
        {"type": "object", "properties": {"q": kubernetes.Definitions(RAW, metadata=META, defaults={})
                                          .expand("io.k8s.apimachinery.pkg.api.resource.Quantity")}})
    for good in ["1", "1Gi", "500m", "1.5", ".5", "+2e3", "-1Ki", 4]:
        assert compiled.validate({"q": good}) == [], good
    for bad in ["1GB", "one", "1.2.3", "Gi"]:
        assert [e.field for e in compiled.validate({"q": bad})] == ["q"], bad


def test_generator_errors_name_the_problem() -> None:
    types = kubernetes.Definitions(RAW, metadata=META, defaults={"v1.Wrapper": {"missing": 1}})
    with pytest.raises(kubernetes.GenerationError, match="v1.Wrapper.missing"):
        types.expand("v1.Wrapper")
    with pytest.raises(kubernetes.GenerationError, match="recursive Kubernetes type v1.Loop"):
        types.expand("v1.Loop")
    with pytest.raises(kubernetes.GenerationError, match="unknown Kubernetes type v1.Nope"):
        types.expand("v1.Nope")


def test_source_references_are_inlined_with_their_sibling_keywords() -> None:
    source = {"root": "Top", "definitions": {
        "Top": {"type": "object", "properties": {
            "a": {"$ref": "Leaf", "description": "here"},
            "w": {"$ref": "k8s:v1.Wrapper"}}},
        "Leaf": {"type": "string", "description": "there", "enum": ["x"]},
    }}
    schema = expanding.expand(source, kubernetes.Definitions(RAW, metadata=META, defaults={}))
    assert schema["properties"]["a"] == {"type": "string", "description": "here", "enum": ["x"]}
    assert schema["properties"]["w"]["properties"]["meta"] == META
    with pytest.raises(kubernetes.GenerationError, match="names no definition"):
        expanding.expand({"root": "T", "definitions": {"T": {"$ref": "Gone"}}}, None)
    with pytest.raises(kubernetes.GenerationError, match="no Kubernetes definitions"):
        expanding.expand({"root": "T", "definitions": {"T": {"$ref": "k8s:v1.Wrapper"}}}, None)


# --- Configuration (spec §14.1) --------------------------------------------------------------------

GOOD_CONFIG = {
    "apiVersion": "config.jobset.x-k8s.io/v1alpha1", "kind": "Configuration",
    "webhook": {"port": 9443}, "metrics": {"bindAddress": "0"},
    "leaderElection": {"leaderElect": False, "leaseDuration": "1m30s"},
    "internalCertManagement": {"enable": True, "webhookServiceName": "svc"},
    "clientConnection": {"qps": 50.5, "burst": 100},
    "tls": {"minVersion": "VersionTLS13", "cipherSuites": []},
    "featureGates": {"InPlaceRestart": True},
}


def test_configuration_schema_accepts_a_full_configuration() -> None:
    jsonschema.Draft202012Validator(config_schema()).validate(GOOD_CONFIG)
    assert structural.CompiledSchema(config_schema()).validate(copy.deepcopy(GOOD_CONFIG)) == []


def test_configuration_decoding_is_strict_about_unknown_fields() -> None:
    """§14.1: an unknown field (e.g. `invalidField`) fails start-up."""
    bad = {**copy.deepcopy(GOOD_CONFIG), "invalidField": 1, "webhook": {"port": 1, "other": 2}}
    messages = [error.message for error in jsonschema.Draft202012Validator(config_schema()).iter_errors(bad)]
    assert any("invalidField" in message for message in messages)
    assert sorted(structural.CompiledSchema(config_schema()).prune(bad)) == ["invalidField", "webhook.other"]


def test_configuration_defaults_and_value_checks() -> None:
    compiled = structural.CompiledSchema(config_schema())
    config = {"webhook": {}, "leaderElection": {}, "featureGates": {"X": "yes"}}
    compiled.apply_defaults(config)
    assert config["webhook"] == {"port": 9443, "host": "", "certDir": ""}
    assert config["leaderElection"]["leaseDuration"] == "15s"
    assert config["leaderElection"]["resourceName"] == "6d4f6a47.jobset.x-k8s.io"
    config["leaderElection"]["retryPeriod"] = "soon"
    assert sorted(e.field for e in compiled.validate(config)) == ["featureGates[X]", "leaderElection.retryPeriod"]


STRUCTURAL_KEYWORDS = frozenset({
    "type", "description", "properties", "items", "additionalProperties", "required", "enum", "default",
    "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "format", "pattern", "maxItems", "minItems",
    "maxLength", "minLength", "nullable", "anyOf", "x-kubernetes-list-type", "x-kubernetes-list-map-keys",
    "x-kubernetes-map-type", "x-kubernetes-int-or-string", "x-kubernetes-preserve-unknown-fields",
    "x-kubernetes-validations", "x-kubernetes-embedded-resource",
})


def unknown_keywords(schema: dict, path: str = "") -> list[str]:
    found = [f"{path}/{key}" for key in schema if key not in STRUCTURAL_KEYWORDS]
    for name, sub in schema.get("properties", {}).items():
        found += unknown_keywords(sub, f"{path}.{name}")
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            found += unknown_keywords(schema[key], f"{path}/{key}")
    return found


def test_generated_schemas_use_only_structural_schema_keywords() -> None:
    assert unknown_keywords(json.loads((ROOT / outputs.JOBSET_SCHEMA).read_text())) == []
    assert unknown_keywords({k: v for k, v in config_schema().items() if k != "$schema"}) == []
