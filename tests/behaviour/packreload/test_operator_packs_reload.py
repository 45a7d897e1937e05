"""Operator failure packs added, changed and broken while the controller runs (spec §10.8 decided by
packs; docs/rule-packs.md §8): from a `--rules-dir` directory and from a labelled ConfigMap."""

from __future__ import annotations

import datetime
import itertools
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

import kubernetes
import pytest

from engine import up
from engine.kube import configuration, packreload

T = TypeVar("T")
GROUP, VERSION, PLURAL = "jobset.x-k8s.io", "v1alpha2", "jobsets"
_names = itertools.count()
LEASE = configuration.Configuration().leader_election.resource_name  # named even with leader election off

PACK = """\
apiVersion: rules.jobset.x-k8s.io/v1alpha1
kind: RulePack
metadata:
  name: {name}
  version: {version}
spec:
  engine: ">=1.0.0, <2.0.0"
  phase: failure
  subject: jobset
  targets:
    - {{apiVersion: jobset.x-k8s.io/v1alpha2, kind: JobSet}}
  inputs:
    - {{name: jobset, required: true}}
    - {{name: failedJobs, required: true}}
    - {{name: featureGates}}
  evaluation: firstMatch
  actions:
    - type: FailJobSet
      params: [reason, message]
  rules:
    - name: operator-fails-the-jobset
      when: "{when}"
      action:
        type: FailJobSet
        params:
          reason: "'{reason}'"
          message: "'the operator pack v{version} failed it: ' + failedJobs[0].name"
"""
GOOD = {"version": "1.0.0", "when": "size(failedJobs) > 0", "reason": "OperatorPolicy"}
BROKEN = {"version": "2.0.0", "when": "size(failedJobs) >", "reason": "BrokenPolicy"}  # a CEL syntax error


def eventually(check: Callable[[], T], *, timeout: float = 20.0, what: str = "condition") -> T:
    """Poll `check` until it returns a truthy value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def failed_condition(installation: Any, namespace: str) -> dict[str, Any]:
    """Create a one-Job JobSet, fail its Job as the Job controller would, return the JobSet's Failed condition."""
    name = f"js{next(_names)}"
    installation.custom.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, {
        "apiVersion": f"{GROUP}/{VERSION}", "kind": "JobSet", "metadata": {"name": name},
        "spec": {"replicatedJobs": [{"name": "workers", "replicas": 1, "template": {"spec": {"template": {"spec": {
            "containers": [{"name": "main", "image": "busybox"}]}}}}}]}})
    job = f"{name}-workers-0"
    eventually(lambda: installation.batch.list_namespaced_job(namespace, field_selector=f"metadata.name={job}").items,
               what="the Job")
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    reason, message = "BackoffLimitExceeded", "Job has reached the specified backoff limit"
    installation.batch.patch_namespaced_job_status(job, namespace, {"status": {
        "startTime": stamp, "failed": 1, "active": 0, "ready": 0, "conditions": [
            {"type": kind, "status": "True", "reason": reason, "message": message, "lastTransitionTime": stamp}
            for kind in ("FailureTarget", "Failed")]}})

    def failed() -> dict[str, Any] | None:
        jobset = installation.custom.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name)
        return next((c for c in (jobset.get("status") or {}).get("conditions") or []
                     if c["type"] == "Failed" and c["status"] == "True"), None)
    return eventually(failed, what=f"JobSet {name} Failed")


def rejected_events(installation: Any, kind: str, name: str) -> list[Any]:
    """The RulePackRejected Events recorded on one object of the controller's namespace."""
    return [e for e in installation.core.list_namespaced_event(up.NAMESPACE).items
            if e.reason == packreload.REASON and e.involved_object.kind == kind and e.involved_object.name == name]


@pytest.fixture
def namespace(installation: Any) -> str:
    name = f"reload{next(_names)}"
    installation.core.create_namespace({"metadata": {"name": name}})
    return name


def test_a_directory_pack_added_then_broken_at_run_time(installation: Any, namespace: str,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    """§10.8: the built-in policy fails a JobSet whose Job failed (no failure policy: FailedJobs); an operator pack
    written to --rules-dir decides the next JobSet without a restart; a broken version of it is
    rejected (a log line per problem and an Event on the Lease) and the previous version keeps deciding."""
    assert failed_condition(installation, namespace)["reason"] == "FailedJobs"

    pack_dir = installation.rules_dir / "operator-failure"
    pack_dir.mkdir()
    (pack_dir / "pack.yaml").write_text(PACK.format(name="operator-failure", **GOOD))
    registry = installation.environment.assembly.controller.packs.registry
    eventually(lambda: registry.snapshot.get("operator-failure"), what="the directory pack loaded")
    decided = failed_condition(installation, namespace)
    assert decided["reason"] == "OperatorPolicy"
    assert decided["message"].startswith("the operator pack v1.0.0 failed it: ")

    caplog.set_level(logging.WARNING, logger="jobset.packreload")
    (pack_dir / "pack.yaml").write_text(PACK.format(name="operator-failure", **BROKEN))
    events = eventually(lambda: rejected_events(installation, "Lease", LEASE),
                        what="a RulePackRejected Event on the Lease")
    assert events[0].type == "Warning"
    assert f"{pack_dir / 'pack.yaml'}:" in events[0].message
    lines = [r.getMessage() for r in caplog.records if r.name == "jobset.packreload"]
    assert any(f"{pack_dir / 'pack.yaml'}:" in line for line in lines), lines
    assert registry.snapshot.get("operator-failure").pack.version == "1.0.0"
    still = failed_condition(installation, namespace)
    assert still["reason"] == "OperatorPolicy"
    assert still["message"].startswith("the operator pack v1.0.0 failed it: ")

    (pack_dir / "pack.yaml").unlink()
    pack_dir.rmdir()
    eventually(lambda: registry.snapshot.get("operator-failure") is None, what="the directory pack unloaded")
    assert failed_condition(installation, namespace)["reason"] == "FailedJobs"


def test_a_configmap_pack_added_then_broken_at_run_time(installation: Any, namespace: str,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    """§10.8 as above, with the pack in a ConfigMap labelled rules.jobset.x-k8s.io/pack=true in the
    controller's namespace; the rejection Event goes on that ConfigMap and names its key."""
    assert failed_condition(installation, namespace)["reason"] == "FailedJobs"

    config_map = {"metadata": {"name": "cm-failure", "labels": {packreload.LABEL: "true"}},
                  "data": {"pack.yaml": PACK.format(name="cm-failure", **GOOD)}}
    installation.core.create_namespaced_config_map(up.NAMESPACE, config_map)
    registry = installation.environment.assembly.controller.packs.registry
    eventually(lambda: registry.snapshot.get("cm-failure"), what="the ConfigMap pack loaded")
    assert failed_condition(installation, namespace)["reason"] == "OperatorPolicy"

    caplog.set_level(logging.WARNING, logger="jobset.packreload")
    installation.core.patch_namespaced_config_map("cm-failure", up.NAMESPACE,
                                                  {"data": {"pack.yaml": PACK.format(name="cm-failure", **BROKEN)}})
    events = eventually(lambda: rejected_events(installation, "ConfigMap", "cm-failure"),
                        what="a RulePackRejected Event on the ConfigMap")
    assert events[0].type == "Warning"
    assert f"configmaps/{up.NAMESPACE}/cm-failure/pack.yaml:" in events[0].message
    assert any(f"configmaps/{up.NAMESPACE}/cm-failure/pack.yaml:" in r.getMessage()
               for r in caplog.records if r.name == "jobset.packreload")
    still = failed_condition(installation, namespace)
    assert still["reason"] == "OperatorPolicy"
    assert still["message"].startswith("the operator pack v1.0.0 failed it: ")

    installation.core.delete_namespaced_config_map("cm-failure", up.NAMESPACE)
    eventually(lambda: registry.snapshot.get("cm-failure") is None, what="the ConfigMap pack unloaded")
    with pytest.raises(kubernetes.client.ApiException):
        installation.core.read_namespaced_config_map("cm-failure", up.NAMESPACE)


def test_a_configmap_without_a_loadable_pack_is_reported_on_it_and_loads_nothing(installation: Any) -> None:
    """A labelled ConfigMap with no pack.yaml key, and one whose new pack fails its schema: each gets a
    RulePackRejected Event naming its key; the decision packs stay as they were."""
    registry = installation.environment.assembly.controller.packs.registry
    before = [(p.pack.name, p.pack.version) for p in registry.snapshot.packs]
    labels = {packreload.LABEL: "true"}
    installation.core.create_namespaced_config_map(up.NAMESPACE, {
        "metadata": {"name": "cm-keyless", "labels": labels}, "data": {"rules.yaml": "{}"}})
    installation.core.create_namespaced_config_map(up.NAMESPACE, {
        "metadata": {"name": "cm-unknown-field", "labels": labels},
        "data": {"pack.yaml": PACK.format(name="cm-unknown-field", **GOOD).replace(
            "  evaluation:", "  bogus: 1\n  evaluation:")}})
    keyless = eventually(lambda: rejected_events(installation, "ConfigMap", "cm-keyless"), what="keyless Event")
    assert (f"configmaps/{up.NAMESPACE}/cm-keyless/pack.yaml:1:1: the ConfigMap has no pack.yaml key"
            in keyless[0].message)
    unknown = eventually(lambda: rejected_events(installation, "ConfigMap", "cm-unknown-field"), what="schema Event")
    assert f"configmaps/{up.NAMESPACE}/cm-unknown-field/pack.yaml:" in unknown[0].message
    assert "bogus" in unknown[0].message
    assert [(p.pack.name, p.pack.version) for p in registry.snapshot.packs] == before
    for name in ("cm-keyless", "cm-unknown-field"):
        installation.core.delete_namespaced_config_map(name, up.NAMESPACE)
