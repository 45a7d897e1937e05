"""Admission webhook throughput and latency over real HTTPS.

Run: `python bench/admission.py` from the repository root, in the project virtualenv.
The webhook server (the same `engine.webhook` server, certificates and handlers the controller
runs) serves in a child process so that client and server do not share a GIL. Prints, in one run:
1. pod admissions per second sustained (mutate, then validate, of exclusive-placement leader pods,
   the path every JobSet pod takes), with p50/p99 latency (goal >= 1,000/s with p99 <= 10 ms);
2. JobSet admission (mutate + validate) p50/p99 for a 16-replicatedJob JobSet (goal p99 <= 5 ms).
Latencies are measured at the client, so they include TLS, HTTP and JSON.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import multiprocessing
import pathlib
import ssl
import statistics
import sys
import tempfile
import time
import uuid
from typing import Any

import aiohttp

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import lint_render  # noqa: E402  (the bench's JobSet shape)

from engine.rules import loading, registry  # noqa: E402
from engine.webhook import jobsets, pods, rotation, server  # noqa: E402

SECONDS = 5.0


class NoLookup:
    """Leader pods never ask for a lookup; followers are not part of this benchmark."""

    async def leader(self, follower: dict[str, Any]) -> tuple[None, str]:
        return None, "no lookup in this benchmark"

    async def node(self, name: str) -> tuple[None, dict[str, Any]]:
        return None, {"code": 404, "reason": "NotFound", "message": name}


def serve(cert_dir: str, port_queue: "multiprocessing.Queue[int]") -> None:
    """The webhook server with the JobSet and Pod handlers, on a free port."""
    rules = registry.Registry()
    problems = rules.load([loading.builtin_directory()])
    assert not problems, problems
    routes = {**jobsets.JobSetAdmission(rules, feature_gates={}).routes(),
              **pods.PodAdmission(rules, lookup=NoLookup()).routes()}

    async def main() -> None:
        webhook = server.WebhookServer(routes, cert_dir=pathlib.Path(cert_dir), port=0)
        await webhook.start()
        port_queue.put(webhook.bound_port)
        await asyncio.Event().wait()

    asyncio.run(main())


def review(kind: dict[str, str], obj: dict[str, Any], namespace: str = "default") -> dict[str, Any]:
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
        "uid": str(uuid.uuid4()), "operation": "CREATE", "kind": kind, "namespace": namespace,
        "name": obj["metadata"].get("name", ""), "object": obj, "dryRun": False}}


def leader_pod(index: int) -> dict[str, Any]:
    labels = {"jobset.sigs.k8s.io/jobset-name": "bench", "jobset.sigs.k8s.io/job-key": f"{index:040x}",
              "jobset.sigs.k8s.io/replicatedjob-name": "w", "jobset.sigs.k8s.io/job-index": str(index)}
    annotations = {"jobset.sigs.k8s.io/jobset-name": "bench", "batch.kubernetes.io/job-completion-index": "0",
                   "alpha.jobset.sigs.k8s.io/exclusive-topology": "topology.kubernetes.io/zone"}
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": f"bench-w-{index}-0-abcde", "namespace": "default", "labels": labels,
                         "annotations": annotations},
            "spec": {"priority": 0, "containers": [{"name": "main", "image": "busybox"}]}}


async def drive(url: str, context: ssl.SSLContext, bodies: list[tuple[str, bytes]], seconds: float,
                concurrency: int) -> list[float]:
    """Send the (path, body) pairs round-robin from `concurrency` connections for `seconds`."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context, limit=concurrency)) as session:
        async def worker(offset: int) -> None:
            index = offset
            while time.perf_counter() < deadline:
                path, body = bodies[index % len(bodies)]
                index += concurrency
                started = time.perf_counter()
                async with session.post(url + path, data=body, headers={"Content-Type": "application/json"}) as answer:
                    assert answer.status == 200, await answer.text()
                    await answer.read()
                latencies.append(time.perf_counter() - started)
        await asyncio.gather(*(worker(i) for i in range(concurrency)))
    return latencies


def report(name: str, latencies: list[float], seconds: float, concurrency: int) -> None:
    ordered = sorted(latencies)
    print(f"{name}, {concurrency} in flight: {len(ordered) / seconds:,.0f}/s, "
          f"p50 {statistics.median(ordered) * 1e3:.2f} ms, p99 {ordered[int(len(ordered) * 0.99)] * 1e3:.2f} ms")


def main() -> None:
    cert_dir = tempfile.mkdtemp(prefix="bench-admission-")
    rotation.Rotator(pathlib.Path(cert_dir), dns_names=["localhost"]).ensure(datetime.datetime.now(datetime.timezone.utc))
    ports: multiprocessing.Queue[int] = multiprocessing.Queue()
    child = multiprocessing.Process(target=serve, args=(cert_dir, ports), daemon=True)
    child.start()
    try:
        url = f"https://127.0.0.1:{ports.get(timeout=60)}"
        context = ssl.create_default_context(cafile=str(pathlib.Path(cert_dir) / "ca.crt"))
        context.check_hostname = False
        pod_kind = {"group": "", "version": "v1", "kind": "Pod"}
        pod_bodies = [(p, json.dumps(review(pod_kind, leader_pod(i))).encode())
                      for i in range(64) for p in (pods.MUTATE_PATH, pods.VALIDATE_PATH)]
        asyncio.run(drive(url, context, pod_bodies, 1.0, 4))
        for concurrency in (1, 4, 16):
            report("pod admissions (mutate + validate, leader pods)",
                   asyncio.run(drive(url, context, pod_bodies, SECONDS, concurrency)), SECONDS, concurrency)
        print("  goal: >= 1,000/s sustained with p99 <= 10 ms")
        js_kind = {"group": "jobset.x-k8s.io", "version": "v1alpha2", "kind": "JobSet"}
        document = lint_render.jobset(16)
        js_bodies = [(p, json.dumps(review(js_kind, document)).encode())
                     for p in (jobsets.MUTATE_PATH, jobsets.VALIDATE_PATH)]
        asyncio.run(drive(url, context, js_bodies, 1.0, 1))
        report("JobSet admissions, 16 replicatedJobs (mutate, validate)",
               asyncio.run(drive(url, context, js_bodies, SECONDS, 1)), SECONDS, 1)
        print("  goal: p99 <= 5 ms")
    finally:
        child.terminate()


if __name__ == "__main__":
    main()
