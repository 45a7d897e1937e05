"""The installed controller, run as the Deployment runs it, needs no permission its RBAC lacks (spec §14.7).

`jobset controller` starts with the Deployment's own arguments and the shipped Configuration
(ports moved to free loopback ones), against the embedded control plane with the simulated
cluster, through a proxy that records every request. It runs JobSets that make it create,
restart, delete, write statuses and events, place Pods exclusively, take the lease, inject
the webhook CA bundle and review the token of a metrics scrape.
Each recorded request must be granted by the ClusterRole, or by the Role inside its namespace.
"""

from __future__ import annotations

import ast
import json
import pathlib
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

import deployharness as harness
from engine.kube import resources as kube_resources
from engine.localcluster import clock as clocks, server, sim

HERE = pathlib.Path(__file__).parent
SCENARIO = HERE / "scenario-jobsets.yaml"
SIMPLE = harness.ROOT / "examples" / "simple.yaml"
DISCOVERY_PATHS = {"/api", "/apis", "/version"}  # granted to every user by system:discovery
# Granted but not exercised by this run, each with the behaviour that needs it.
UNEXERCISED = {
    ("jobset.x-k8s.io", "jobsets", "create"): "§14.7 lists all verbs on JobSets",
    ("jobset.x-k8s.io", "jobsets", "get"): "§14.7 lists all verbs on JobSets",
    ("jobset.x-k8s.io", "jobsets", "patch"): "§14.7 lists all verbs on JobSets",
    ("jobset.x-k8s.io", "jobsets", "update"): "§14.7 lists all verbs on JobSets",
    ("jobset.x-k8s.io", "jobsets/status", "get"): "§14.7",
    ("jobset.x-k8s.io", "jobsets/status", "patch"): "§14.7",
    ("jobset.x-k8s.io", "jobsets/finalizers", "update"): "§14.7: owner references blocking deletion",
    ("batch", "jobs", "get"): "§11.1 in-place restart reads a Job before resetting its start time",
    ("batch", "jobs", "update"): "§11.1 in-place restart updates Jobs",
    ("batch", "jobs", "patch"): "§10.14 elastic scaling patches parallelism and completions",
    ("batch", "jobs/status", "get"): "§14.7",
    ("batch", "jobs/status", "patch"): "§14.7",
    ("batch", "jobs/status", "update"): "§11.1 in-place restart clears a Job's startTime",
    ("", "services", "delete"): "§14.7 lists all verbs on Services",
    ("", "services", "get"): "§14.7 lists all verbs on Services",
    ("", "services", "patch"): "§14.7 lists all verbs on Services",
    ("", "services", "update"): "§14.7 lists all verbs on Services",
    ("", "persistentvolumeclaims", "get"): "§6.1 the webhook reads the PVCs a JobSet names",
    ("", "pods", "get"): "§12.3 pod webhooks read the leader Pod",
    ("", "pods", "update"): "§11.1 in-place restart, §12.4 pod reconciler",
    ("", "pods", "patch"): "§11.1 in-place restart, §12.4 pod reconciler",
    ("", "pods", "delete"): "§12.4 pods violating exclusive placement are deleted",
    ("", "pods/status", "get"): "§12.4 DisruptionTarget condition",
    ("", "pods/status", "patch"): "§12.4 DisruptionTarget condition",
    ("", "pods/status", "update"): "§12.4 DisruptionTarget condition",
    ("", "nodes", "get"): "§12.3, §12.4 the leader's node topology",
    ("", "nodes", "list"): "§12.3, §12.4 the leader's node topology",
    ("", "nodes", "watch"): "§12.3, §12.4 the leader's node topology",
    ("", "events", "patch"): "§7 event aggregation",
    ("", "events", "update"): "§7 event aggregation",
    ("", "events", "watch"): "§14.7",
    ("events.k8s.io", "events", "create"): "§14.7 events.k8s.io recorder",
    ("events.k8s.io", "events", "patch"): "§14.7 events.k8s.io recorder",
    ("events.k8s.io", "events", "update"): "§14.7 events.k8s.io recorder",
    ("events.k8s.io", "events", "watch"): "§14.7 events.k8s.io recorder",
    ("admissionregistration.k8s.io", "mutatingwebhookconfigurations", "list"): "§14.5 cert rotation watches",
    ("admissionregistration.k8s.io", "mutatingwebhookconfigurations", "watch"): "§14.5 cert rotation watches",
    ("admissionregistration.k8s.io", "validatingwebhookconfigurations", "list"): "§14.5 cert rotation watches",
    ("admissionregistration.k8s.io", "validatingwebhookconfigurations", "watch"): "§14.5 cert rotation watches",
    ("", "secrets", "get"): "§14.5 certificates stored in the webhook Secret",
    ("", "secrets", "list"): "§14.5 certificates stored in the webhook Secret",
    ("", "secrets", "watch"): "§14.5 certificates stored in the webhook Secret",
    ("", "secrets", "update"): "§14.5 certificates stored in the webhook Secret",
    ("", "events", "create"): "leader-election events in the controller's namespace",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def eventually(check: Any, what: str, timeout: float = 60.0, state: Any = None) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}" + (f":\n{state()}" if state else ""))


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError):
        return False


def deployment_args(docs: list[dict[str, Any]], config_path: pathlib.Path) -> list[str]:
    """The manager container's command and args, with the Configuration at `config_path`."""
    container = harness.find(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0]
    args = [f"--config={config_path}" if arg.startswith("--config=") else arg for arg in container["args"]]
    assert container["command"] == ["jobset", "controller"]
    return [sys.executable, "-m", "engine.cli.main", "controller", *args]


def local_configuration(docs: list[dict[str, Any]], tmp: pathlib.Path) -> tuple[dict[str, Any], int, int, int]:
    """The shipped Configuration with its servers on free loopback ports; (config, webhook, health, metrics port)."""
    config_map = harness.find(docs, "ConfigMap", "jobset-manager-config")
    config = yaml.safe_load(next(iter(config_map["data"].values())))
    webhook_port, health_port, metrics_port = free_port(), free_port(), free_port()
    config["webhook"] = {**config.get("webhook", {}), "port": webhook_port, "certDir": str(tmp / "webhook-certs")}
    config["health"] = {**config.get("health", {}), "healthProbeBindAddress": f"127.0.0.1:{health_port}"}
    config["metrics"] = {**config.get("metrics", {}), "bindAddress": f"127.0.0.1:{metrics_port}"}
    config["featureGates"] = {"InPlaceRestart": True}  # its Pod watch must be covered too
    return config, webhook_port, health_port, metrics_port


def scrape(port: int, token: str | None) -> int:
    """The status of one HTTPS scrape of the metrics port (self-signed: not verified)."""
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(f"https://127.0.0.1:{port}/metrics", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10, context=context) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def finished(kubectl: harness.Kubectl) -> bool:
    listed = json.loads(kubectl("get", "jobsets", "-n", "default", "-o", "json").stdout)["items"]
    names = {item["metadata"]["name"]: item for item in listed}
    if "with-ttl-and-claims" in names:  # deleted by its TTL once finished
        return False
    return all(item.get("status", {}).get("terminalState") for item in names.values()) and len(names) == 3


@pytest.fixture(scope="module")
def run(docs: list[dict[str, Any]], tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("controller")
    clock = clocks.VirtualClock(10.0)
    cluster = server.start_in_thread(clock=clock)
    proxy = harness.RecordingProxy(cluster.url)
    simulation = None
    process = None
    try:
        simulation = cluster.call(sim.start_simulation(cluster.api, clock, nodes=sim.default_nodes()))
        kubectl = harness.Kubectl(cluster.write_kubeconfig(tmp / "admin.kubeconfig"), tmp / "cache")
        harness.serve_missing_kinds(kubectl, cluster.url, docs)
        kubectl("apply", "--server-side", "-k", str(harness.DEPLOY))
        cluster.call(proxy.start())
        controller_kubeconfig = server.write_kubeconfig(tmp / "controller.kubeconfig", proxy.url)
        config, webhook_port, health_port, metrics_port = local_configuration(docs, tmp)
        config_path = tmp / "controller_manager_config.yaml"
        config_path.write_text(yaml.safe_dump(config))
        cluster.route_service(harness.NAMESPACE, config["internalCertManagement"]["webhookServiceName"], 443,
                              f"127.0.0.1:{webhook_port}")
        stderr = (tmp / "controller.log").open("w+")
        process = subprocess.Popen([*deployment_args(docs, config_path), "--kubeconfig", str(controller_kubeconfig)],
                                   cwd=tmp, stdout=subprocess.DEVNULL, stderr=stderr)
        health = f"http://127.0.0.1:{health_port}"
        eventually(lambda: process.poll() is not None or http_ok(f"{health}/readyz"), "readyz")
        assert process.poll() is None, (tmp / "controller.log").read_text()[-3000:]
        eventually(lambda: all(hook.get("clientConfig", {}).get("caBundle")
                               for kind in ("mutatingwebhookconfigurations", "validatingwebhookconfigurations")
                               for item in json.loads(kubectl("get", kind, "-o", "json").stdout)["items"]
                               for hook in item["webhooks"]), "the CA bundle injected")
        kubectl("apply", "-n", "default", "-f", str(SIMPLE), "-f", str(SCENARIO))
        eventually(lambda: finished(kubectl), "the JobSets to finish", timeout=90,
                   state=lambda: kubectl("get", "jobsets,jobs,pods", "-n", "default", "-o", "wide").stdout)
        probes = {path: http_ok(f"{health}/{path}") for path in ("healthz", "readyz")}
        scrapes = {"no token": scrape(metrics_port, None), "admin": scrape(metrics_port, cluster.admin_token)}
        jobsets = json.loads(kubectl("get", "jobsets", "-n", "default", "-o", "json").stdout)["items"]
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=45)
        stderr.seek(0)
        yield {"requests": list(proxy.requests), "code": code, "log": stderr.read(), "probes": probes, "scrapes": scrapes,
               "jobsets": {item["metadata"]["name"]: item for item in jobsets}}
    finally:
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()
        if simulation is not None:
            simulation.stop()
        cluster.call(proxy.stop())
        cluster.stop()


def recorded(run: dict[str, Any]) -> tuple[list[harness.Attributes], set[str]]:
    """(resource requests, non-resource paths) the controller sent."""
    found, other = [], set()
    for method, path, query in run["requests"]:
        attributes = harness.attributes(method, path, query)
        if attributes is None:
            other.add(path)
        else:
            found.append(attributes)
    return found, other


def test_the_scenario_exercised_the_controller(run: dict[str, Any]) -> None:
    """The run did the work whose requests are checked: restarts, completion, TTL deletion, CA injection."""
    restarted = run["jobsets"]["restarted"]
    assert restarted["status"]["restarts"] >= 1
    assert run["jobsets"]["simple"]["status"]["terminalState"] == "Completed"
    assert run["jobsets"]["placed"]["status"]["terminalState"] == "Completed"
    seen = {(a.group, a.resource, a.verb) for a in recorded(run)[0]}
    for needed in [("batch", "jobs", "create"), ("batch", "jobs", "delete"), ("batch", "jobs", "watch"),
                   ("jobset.x-k8s.io", "jobsets/status", "update"), ("jobset.x-k8s.io", "jobsets", "delete"),
                   ("", "services", "create"), ("", "persistentvolumeclaims", "create"), ("", "events", "create"),
                   ("", "pods", "watch"), ("", "nodes", "get"), ("coordination.k8s.io", "leases", "update"),
                   ("admissionregistration.k8s.io", "mutatingwebhookconfigurations", "update")]:
        assert needed in seen, f"the run never made a {needed} request"


def test_every_request_is_allowed_by_the_shipped_rbac(run: dict[str, Any], docs: list[dict[str, Any]]) -> None:
    """§14.7: each request is granted by the ClusterRole, or by the Role in the controller's namespace."""
    cluster_rules = harness.manager_role(docs, "ClusterRole")["rules"]
    role = harness.find(docs, "Role")
    denied = sorted({a for a in recorded(run)[0] if not harness.allows(cluster_rules, a)
                     and not (a.namespace == role["metadata"]["namespace"] and harness.allows(role["rules"], a))},
                    key=str)
    assert not denied, "requests the RBAC does not allow:\n" + "\n".join(map(str, denied))
    assert recorded(run)[1] <= DISCOVERY_PATHS, f"non-resource requests: {recorded(run)[1]}"


def test_every_granted_permission_is_used_or_justified(run: dict[str, Any], docs: list[dict[str, Any]]) -> None:
    """Least privilege: a permission the run did not use must name the behaviour that needs it."""
    seen = {(a.group, a.resource, a.verb) for a in recorded(run)[0]}
    granted = {(group, resource, verb)
               for rules in (harness.manager_role(docs, "ClusterRole")["rules"], harness.find(docs, "Role")["rules"])
               for rule in rules for group in rule["apiGroups"] for resource in rule["resources"]
               for verb in rule["verbs"]}
    unexplained = sorted(granted - seen - UNEXERCISED.keys())
    assert not unexplained, f"granted, unused and unexplained: {unexplained}"


def test_metrics_scrapes_are_reviewed_through_the_api_server(run: dict[str, Any]) -> None:
    """As upstream: no token is 401; the admin's token passes the TokenReview and SubjectAccessReview."""
    assert run["scrapes"] == {"no token": 401, "admin": 200}
    seen = {(a.group, a.resource, a.verb) for a in recorded(run)[0]}
    assert {("authentication.k8s.io", "tokenreviews", "create"),
            ("authorization.k8s.io", "subjectaccessreviews", "create")} <= seen


def test_the_controller_serves_probes_and_stops_cleanly_on_sigterm(run: dict[str, Any]) -> None:
    """§14.4 probes answer on the health port; SIGTERM ends the process with 0 (§14.3 lease released)."""
    assert run["probes"] == {"healthz": True, "readyz": True}
    assert run["code"] == 0, run["log"][-3000:]
    assert "Traceback" not in run["log"], run["log"][-3000:]


def resources_in_code() -> set[tuple[str, str]]:
    """(group, plural) of every resource the controller's code names: `resources.X` constants and
    `resources.Resource(...)` literals in engine/kube, engine/webhook and engine/assembly.py."""
    sources = [*(harness.ROOT / "engine" / "kube").glob("*.py"), *(harness.ROOT / "engine" / "webhook").glob("*.py"),
               harness.ROOT / "engine" / "assembly.py"]
    found: set[tuple[str, str]] = set()
    for path in sources:
        if path.name == "resources.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "resources"
                    and node.attr.isupper()):
                resource = getattr(kube_resources, node.attr)
                found.add((resource.group, resource.plural))
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "Resource"
                  and isinstance(node.func.value, ast.Name) and node.func.value.id == "resources"):
                group, _, plural = (ast.literal_eval(arg) for arg in node.args[:3])
                found.add((group, plural))
    return found


def test_every_resource_the_code_names_is_granted(docs: list[dict[str, Any]]) -> None:
    """§14.7, statically: code paths the run above did not reach still name only granted resources."""
    granted = {(group, resource)
               for rules in (harness.manager_role(docs, "ClusterRole")["rules"], harness.find(docs, "Role")["rules"])
               for rule in rules for group in rule["apiGroups"] for resource in rule["resources"]}
    named = resources_in_code()
    assert {("batch", "jobs"), ("coordination.k8s.io", "leases")} <= named
    assert named <= granted, f"named in the code but not granted: {sorted(named - granted)}"
