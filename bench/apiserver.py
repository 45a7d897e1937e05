"""Speed and size of the embedded API server, run as its own process (`python -m engine.localcluster`).

Run: `python bench/apiserver.py` from the repository root, in the project virtualenv.
Prints, each with its goal and the ratio measured/goal (or goal/measured for costs):
* sequential GETs per second through the unmodified python `kubernetes` client (goal >= 1,500/s);
* watch events per second fanned out to 100 watchers (goal >= 10,000/s);
* seconds to create 10,000 pods over HTTP (16 concurrent connections);
* server RSS with 50,000 pods stored (goal <= 1 GB).
Beside each wall-clock figure it prints the server's own CPU time per operation (from /proc), which
stays meaningful when other work shares the machine's cores.
Must not import: anything in `engine` (it talks HTTP to a child process only).
"""

from __future__ import annotations

import asyncio
import os
import pathlib
import subprocess
import sys
import tempfile
import time

import aiohttp
from kubernetes import client, config

ROOT = pathlib.Path(__file__).resolve().parent.parent


def pod(n: int) -> dict:
    """A pod shaped like one a Job controller creates."""
    return {"metadata": {"name": f"bench-{n}", "labels": {"job-name": "bench", "batch.kubernetes.io/job-name": "bench",
                                                         "batch.kubernetes.io/controller-uid": "0b0b0b0b-1111-2222-3333-444455556666",
                                                         "jobset.sigs.k8s.io/jobset-name": "bench"},
                         "annotations": {"batch.kubernetes.io/job-completion-index": str(n)},
                         "finalizers": ["batch.kubernetes.io/job-tracking"]},
            "spec": {"restartPolicy": "Never", "hostname": f"bench-{n}", "subdomain": "bench",
                     "containers": [{"name": "main", "image": "busybox:1.36", "command": ["sleep", "10"],
                                     "env": [{"name": "JOB_COMPLETION_INDEX", "valueFrom": {"fieldRef": {
                                         "fieldPath": "metadata.annotations['batch.kubernetes.io/job-completion-index']"}}}],
                                     "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}]}}


def start_server(workdir: pathlib.Path) -> tuple[subprocess.Popen, str, pathlib.Path]:
    kubeconfig = workdir / "kubeconfig"
    process = subprocess.Popen([sys.executable, "-m", "engine.localcluster", "--port", "0", "--kubeconfig",
                                str(kubeconfig)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    return process, line.rsplit(" ", 1)[-1].strip(), kubeconfig


def sequential_gets(kubeconfig: pathlib.Path, count: int = 3000) -> float:
    configuration = client.Configuration()
    config.load_kube_config(config_file=str(kubeconfig), client_configuration=configuration)
    core = client.CoreV1Api(client.ApiClient(configuration))
    core.create_namespaced_config_map("default", {"metadata": {"name": "bench"}, "data": {"k": "v"}})
    for _ in range(100):
        core.read_namespaced_config_map("bench", "default")
    started = time.perf_counter()
    for _ in range(count):
        core.read_namespaced_config_map("bench", "default")
    return count / (time.perf_counter() - started)


async def fan_out(url: str, watchers: int = 100, events: int = 200) -> float:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        async with session.get(f"{url}/api/v1/namespaces/default/configmaps") as reply:
            version = (await reply.json())["metadata"]["resourceVersion"]
        done = asyncio.Event()
        received = [0]

        async def watch() -> None:
            path = f"{url}/api/v1/namespaces/default/configmaps?watch=true&resourceVersion={version}"
            async with session.get(path, timeout=aiohttp.ClientTimeout(total=None)) as stream:
                seen = 0
                async for _line in stream.content:
                    seen += 1
                    received[0] += 1
                    if seen == events:
                        break
            if received[0] == watchers * events:
                done.set()

        tasks = [asyncio.create_task(watch()) for _ in range(watchers)]
        await asyncio.sleep(0.5)
        started = time.perf_counter()
        for n in range(events):
            body = {"metadata": {"name": f"fan-{n}"}}
            async with session.post(f"{url}/api/v1/namespaces/default/configmaps", json=body) as reply:
                await reply.read()
        await asyncio.wait_for(done.wait(), 120)
        elapsed = time.perf_counter() - started
        await asyncio.gather(*tasks)
    return watchers * events / elapsed


async def create_pods(url: str, start: int, count: int, concurrency: int = 16) -> float:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:
        numbers = iter(range(start, start + count))

        async def worker() -> None:
            for n in numbers:
                async with session.post(f"{url}/api/v1/namespaces/default/pods", json=pod(n)) as reply:
                    if reply.status != 201:
                        raise RuntimeError(f"create failed: {reply.status} {await reply.text()}")
                    await reply.read()

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - started


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process."""
    fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_megabytes(pid: int) -> float:
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def main() -> None:
    with tempfile.TemporaryDirectory() as workdir:
        process, url, kubeconfig = start_server(pathlib.Path(workdir))
        try:
            before = cpu_seconds(process.pid)
            gets = sequential_gets(kubeconfig)
            per_get = (cpu_seconds(process.pid) - before) / 3100 * 1000
            print(f"sequential GETs (python client): {gets:,.0f}/s  goal >= 1,500/s  ratio {gets / 1500:.2f}"
                  f"  (server CPU {per_get:.2f} ms per GET)")
            before = cpu_seconds(process.pid)
            deliveries = asyncio.run(fan_out(url))
            per_delivery = (cpu_seconds(process.pid) - before) / 20_000 * 1e6
            print(f"watch fan-out to 100 watchers: {deliveries:,.0f} events/s  goal >= 10,000/s  "
                  f"ratio {deliveries / 10000:.2f}  (server CPU {per_delivery:.0f} us per delivery)")
            before = cpu_seconds(process.pid)
            seconds = asyncio.run(create_pods(url, 0, 10_000))
            per_create = (cpu_seconds(process.pid) - before) / 10_000 * 1000
            print(f"create 10,000 pods over HTTP: {seconds:.1f} s ({10_000 / seconds:,.0f}/s)"
                  f"  (server CPU {per_create:.2f} ms per create)")
            asyncio.run(create_pods(url, 10_000, 40_000))
            rss = rss_megabytes(process.pid)
            print(f"server RSS with 50,000 pods: {rss:,.0f} MB  goal <= 1,024 MB  ratio {1024 / rss:.2f}")
        finally:
            process.terminate()
            try:
                process.wait(60)  # freeing 50,000 objects takes a while on a busy machine
            except subprocess.TimeoutExpired:
                process.kill()


if __name__ == "__main__":
    main()
