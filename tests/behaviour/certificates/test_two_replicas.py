"""Two controller replicas serve the webhooks from the one webhook Secret, through a rotation (spec §14.5).

The embedded API server runs in this process; each replica is a `jobset controller` process with
its own webhook port and certificate directory and leader election on. The Secret starts with a
CA and serving certificate that fall due a few seconds after both replicas are ready. While the
webhook Service is routed to one replica then the other for every JobSet created, the replicas
renew the Secret (one wins, the other adopts), inject the new bundle (old and new CA) and
reload their servers without restarting, and no admission fails.
"""

from __future__ import annotations

import base64
import datetime
import json
import pathlib
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from engine.localcluster import server as localserver
from engine.webhook import certificates, rotation

ROOT = pathlib.Path(__file__).resolve().parents[3]
NAMESPACE = "jobset-system"
SERVICE = "jobset-webhook-service"
SECRET = "jobset-webhook-server-cert"
JOBSETS = "/apis/jobset.x-k8s.io/v1alpha2/namespaces/default/jobsets"
SEED_VALIDITY = datetime.timedelta(seconds=30)  # due after 20 s: both replicas are ready well before
CONFIGURATIONS = {"MutatingWebhookConfiguration": "admissionregistration.k8s.io/v1/mutatingwebhookconfigurations",
                  "ValidatingWebhookConfiguration": "admissionregistration.k8s.io/v1/validatingwebhookconfigurations"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def eventually(check: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def request(base: str, method: str, path: str, body: Any = None) -> tuple[int, dict[str, Any]]:
    data = json.dumps(body).encode() if body is not None else None
    call = urllib.request.Request(base + path, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(call, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def jobset(name: str) -> dict[str, Any]:
    template = {"spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [
        {"name": "c", "image": "busybox", "command": ["true"]}]}}}}
    return {"apiVersion": "jobset.x-k8s.io/v1alpha2", "kind": "JobSet", "metadata": {"name": name},
            "spec": {"replicatedJobs": [{"name": "workers", "replicas": 1, "template": template}]}}


def served_certificate(port: int) -> bytes:
    """The PEM certificate a replica presents right now (not verified: compared with the Secret's)."""
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw, context.wrap_socket(raw) as tls:
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return ssl.DER_cert_to_PEM_cert(der).encode()


def same_certificate(left: bytes, right: bytes) -> bool:
    return x509.load_pem_x509_certificate(left) == x509.load_pem_x509_certificate(right)


class Cluster:
    """The API server over HTTP, with the webhook configurations of `deploy/webhooks/` installed."""

    def __init__(self, running: localserver.RunningServer) -> None:
        self.running, self.url = running, running.url

    def install(self) -> None:
        crd = yaml.safe_load((ROOT / "deploy" / "crd" / "jobset.x-k8s.io_jobsets.yaml").read_text())
        assert request(self.url, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd)[0] == 201
        namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}
        assert request(self.url, "POST", "/api/v1/namespaces", namespace)[0] == 201
        for document in yaml.safe_load_all((ROOT / "deploy" / "webhooks" / "webhook-configurations.yaml").read_text()):
            assert request(self.url, "POST", "/apis/" + CONFIGURATIONS[document["kind"]], document)[0] == 201
        eventually(lambda: request(self.url, "GET", "/apis/jobset.x-k8s.io/v1alpha2/jobsets")[0] == 200,
                   "the JobSet API served")

    def secret(self) -> dict[str, bytes]:
        status, body = request(self.url, "GET", f"/api/v1/namespaces/{NAMESPACE}/secrets/{SECRET}")
        assert status == 200, body
        return {key: base64.b64decode(value) for key, value in body["data"].items()}

    def injected_bundles(self) -> set[bytes]:
        return {base64.b64decode(hook["clientConfig"].get("caBundle", ""))
                for path in CONFIGURATIONS.values()
                for item in request(self.url, "GET", "/apis/" + path)[1]["items"] for hook in item["webhooks"]}

    def route(self, port: int) -> None:
        self.running.route_service(NAMESPACE, SERVICE, 443, f"127.0.0.1:{port}")


def seed_secret(cluster: Cluster) -> rotation.Material:
    """A short-lived CA and serving certificate in the Secret, before any replica starts."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca = certificates.mint_ca(now=now, validity=SEED_VALIDITY)
    serving = certificates.mint_serving(ca, dns_names=certificates.service_dns_names(SERVICE, NAMESPACE), now=now,
                                        validity=SEED_VALIDITY, ip_addresses=("127.0.0.1",))
    material = rotation.Material(ca, serving, ca.cert_pem)
    body = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": SECRET}, "data": material.data()}
    assert request(cluster.url, "POST", f"/api/v1/namespaces/{NAMESPACE}/secrets", body)[0] == 201
    return material


class Replica:
    """One `jobset controller` process with its own webhook port, health port and certificate directory."""

    def __init__(self, kubeconfig: pathlib.Path, workdir: pathlib.Path) -> None:
        self.webhook_port, self.health_port = free_port(), free_port()
        workdir.mkdir()
        self.log = workdir / "controller.log"
        config = workdir / "config.yaml"
        config.write_text(yaml.safe_dump({
            "apiVersion": "config.jobset.x-k8s.io/v1alpha1", "kind": "Configuration",
            "leaderElection": {"leaderElect": True}, "metrics": {"bindAddress": "0"},
            "health": {"healthProbeBindAddress": f"127.0.0.1:{self.health_port}"},
            "webhook": {"port": self.webhook_port, "certDir": str(workdir / "certs")}}))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "engine.cli.main", "controller", "--kubeconfig", str(kubeconfig),
             "--config", str(config), "--zap-log-level", "debug"],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=self.log.open("wb"))

    def ready(self) -> bool:
        assert self.process.poll() is None, self.log.read_text()[-3000:]
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.health_port}/readyz", timeout=2) as answer:
                return answer.status == 200
        except (urllib.error.URLError, ConnectionError):
            return False

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Admissions(threading.Thread):
    """Creates JobSets without pause, routing the webhook Service to each replica in turn."""

    def __init__(self, cluster: Cluster, replicas: list[Replica]) -> None:
        super().__init__(daemon=True)
        self.cluster, self.replicas = cluster, replicas
        self.done = threading.Event()
        self.admitted: list[tuple[int, bytes]] = []  # (replica index, Secret tls.crt at the time)
        self.failures: list[str] = []

    def run(self) -> None:
        count = 0
        while not self.done.is_set():
            index = count % len(self.replicas)
            self.cluster.route(self.replicas[index].webhook_port)
            time.sleep(0.05)  # the route is set on the server's loop
            status, body = request(self.cluster.url, "POST", JOBSETS, jobset(f"admitted-{count}"))
            if status == 201:
                self.admitted.append((index, self.cluster.secret()["tls.crt"]))
            else:
                self.failures.append(f"replica {index}: {status} {body.get('message')}")
            count += 1
            time.sleep(0.15)


@pytest.fixture(scope="module")
def cluster_and_replicas(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Cluster, list[Replica],
                                                                                     rotation.Material]]:
    running = localserver.start_in_thread()
    workdir = tmp_path_factory.mktemp("replicas")
    replicas: list[Replica] = []
    try:
        cluster = Cluster(running)
        cluster.install()
        seeded = seed_secret(cluster)
        kubeconfig = running.write_kubeconfig(workdir / "kubeconfig")
        replicas = [Replica(kubeconfig, workdir / name) for name in ("one", "two")]
        eventually(lambda: all(replica.ready() for replica in replicas), "both replicas ready", timeout=60)
        yield cluster, replicas, seeded
    finally:
        for replica in replicas:
            replica.stop()
        running.stop()


def test_both_replicas_admit_through_a_rotation_of_the_shared_secret(
        cluster_and_replicas: tuple[Cluster, list[Replica], rotation.Material]) -> None:
    """§14.5: one Secret serves every replica; its rotation needs no restart and fails no admission."""
    cluster, replicas, seeded = cluster_and_replicas
    assert cluster.secret()["tls.crt"] == seeded.serving.cert_pem, "a replica replaced a valid, not-due Secret"
    for replica in replicas:
        assert same_certificate(served_certificate(replica.webhook_port), seeded.serving.cert_pem)
    eventually(lambda: cluster.injected_bundles() == {seeded.ca_bundle}, "the Secret's bundle injected")
    pids = [replica.process.pid for replica in replicas]

    admissions = Admissions(cluster, replicas)
    admissions.start()
    try:
        rotated = eventually(lambda: cluster.secret()["tls.crt"] != seeded.serving.cert_pem and cluster.secret(),
                             "the Secret renewed", timeout=SEED_VALIDITY.total_seconds() + 20)
        eventually(lambda: all(same_certificate(served_certificate(replica.webhook_port), rotated["tls.crt"])
                               for replica in replicas), "both replicas serving the renewed certificate", timeout=20)
        eventually(lambda: cluster.injected_bundles() == {rotated["ca.crt"]}, "the renewed bundle injected")
        settled = len(admissions.admitted)
        eventually(lambda: len(admissions.admitted) >= settled + 4, "admissions after the rotation")
    finally:
        admissions.done.set()
        admissions.join(30)

    assert admissions.failures == []
    phases = {(index, tls == seeded.serving.cert_pem) for index, tls in admissions.admitted}
    assert phases == {(0, True), (1, True), (0, False), (1, False)}, "each replica admits before and after"
    bundle = [cert.fingerprint(hashes.SHA256()) for cert in x509.load_pem_x509_certificates(rotated["ca.crt"])]
    seeded_ca = x509.load_pem_x509_certificate(seeded.ca.cert_pem).fingerprint(hashes.SHA256())
    assert len(bundle) == 2 and bundle[1] == seeded_ca, "the old CA stays trusted next to the new one"
    assert [replica.process.pid for replica in replicas] == pids and all(r.process.poll() is None for r in replicas)
    for replica in replicas:
        log = replica.log.read_text()
        for key in ("ca.key", "tls.key"):
            assert base64.b64encode(rotated[key]).decode()[:40] not in log and "PRIVATE KEY" not in log


def test_a_jobset_is_validated_by_either_replica(
        cluster_and_replicas: tuple[Cluster, list[Replica], rotation.Material]) -> None:
    """§14.5, §6.1 V-9: the validating webhook answers through each replica (an invalid JobSet is denied)."""
    cluster, replicas, _ = cluster_and_replicas
    for index, replica in enumerate(replicas):
        cluster.route(replica.webhook_port)
        time.sleep(0.05)
        status, body = request(cluster.url, "POST", JOBSETS, jobset(f"too-long-for-its-job-names-{index}-" + "x" * 40))
        assert status in (400, 422) and "job names generated" in body.get("message", ""), body
