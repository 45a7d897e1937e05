"""Speed and size of the JobSet controller, run as its own process against the embedded API server.

Run: `python bench/controller.py` from the repository root, in the project virtualenv
(`--profile FILE` also writes a cProfile of the first controller process, the one of figure 1a;
sizes are flags). The API server and the controller are two child processes (no shared GIL); no
simulation runs, so Jobs stay as created. Prints, each with its goal, and ratios measured side by
side in one run:
1. a JobSet of 1 replicatedJob x 5,000 replicas until all its Jobs exist, against the unmodified
   python `kubernetes` client creating the same 5,000 Jobs (sequentially, and from 50 threads: the
   controller's 50 writes in flight), twice, with two controller processes:
   a. with the controller's client rate limit lifted (qps and burst 1e6), as the python client
      has none: the ratio is the controller's own overhead, the goal line (<= 1.25);
   b. with the default Configuration (clientConnection qps 500, burst 500, as upstream). That
      token bucket alone forbids 5,000 creations in less than (5,000 - burst) / qps = 9 s,
      however fast the controller is, so this ratio is printed beside the ratio of that floor
      to the same baseline: what a default install gets, and how much of it the limit imposes;
2. a steady-state reconcile of that JobSet: API writes counted by the API server (goal 0) and the
   reconcile time from the controller's metrics (goal < 100 ms);
3. a RestartJobSet of a 1,000-Job JobSet (one Job failed through its status) until all 1,000 Jobs
   of attempt 1 exist, against a bare delete-then-create loop of 1,000 Jobs (goal <= 1.5);
4. RSS of a fresh controller process with 10,000 Jobs and 40,000 Pods (owned by 4 JobSets, created
   directly once the namespaces of 1-3 are deleted) in the cluster (goal <= 400 MB).
Figures 2 and 3 use the controller of 1b (the default Configuration).
`python bench/controller.py api-server --kubeconfig K` is the API server child: the embedded server
with a request counter per client (User-Agent product) and verb, read at `GET /_bench/requests`.
Must not import: controller-side `engine` packages (it drives child processes over HTTP; only the
API server child imports `engine.localcluster`, and the parent `engine.lint` to default JobSets).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import concurrent.futures
import copy
import functools
import json
import pathlib
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from typing import Any

import aiohttp
import yaml
from kubernetes import client as k8s, config as k8s_config

ROOT = pathlib.Path(__file__).resolve().parent.parent
COUNTER_PATH = "/_bench/requests"
WRITES = ("POST", "PUT", "PATCH", "DELETE")
JOBSETS = "/apis/jobset.x-k8s.io/v1alpha2/namespaces/{ns}/jobsets"
JOBS = "/apis/batch/v1/namespaces/{ns}/jobs"
ATTEMPT = "jobset.sigs.k8s.io/restart-attempt"
THREADS = 50  # the controller's creations in flight (engine.kube.executor.MAX_IN_FLIGHT)
RSS_JOBSETS = 4
DEFAULT_QPS, DEFAULT_BURST = 500.0, 500  # clientConnection of the default Configuration (spec §14.1)
LIFTED = 1_000_000  # qps and burst of figure 1a: no client-side limit within reach, as the python client
NAMESPACES = ("big", "big-lifted", "restart", "bare-seq", "bare-par", "bare-restart")
BARE = ("bare-seq", "bare-par", "bare-restart")


def serve_api(kubeconfig: str) -> None:
    """The API server child: `engine.localcluster` plus a request counter; runs until SIGTERM."""
    from aiohttp import web

    from engine.localcluster import api as api_module, clock, faults, handlers, server, storage

    counts: collections.Counter[str] = collections.Counter()

    @web.middleware
    async def counting(request: web.Request, handler: Any) -> web.StreamResponse:
        if request.path == COUNTER_PATH:
            return web.json_response(counts)
        counts[f"{request.headers.get('User-Agent', '').split('/', 1)[0]} {request.method}"] += 1
        return await handler(request)

    async def run() -> None:
        api = api_module.ClusterAPI(storage.Storage(None), clock=clock.VirtualClock(1.0))
        await api.start()
        app = server.build_app(handlers.Handlers(api, faults.Faults()))
        app.middlewares.append(counting)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0, backlog=1024).start()
        host, port = runner.addresses[0][:2]
        server.write_kubeconfig(kubeconfig, f"http://{host}:{port}")
        print(f"http://{host}:{port}", flush=True)
        stopped = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopped.set)
        await stopped.wait()
        api.hub.close_all()
        await runner.cleanup()

    asyncio.run(run())


# ---------------------------------------------------------------- child processes


def free_port() -> int:
    """A loopback port free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Children:
    """The API server and controller processes of one run, and the bench's HTTP session to them."""

    def __init__(self, workdir: pathlib.Path) -> None:
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.kubeconfig = workdir / "kubeconfig"
        self.server = subprocess.Popen([sys.executable, __file__, "api-server", "--kubeconfig", str(self.kubeconfig)],
                                       cwd=ROOT, stdout=subprocess.PIPE, text=True)
        self.url = (self.server.stdout.readline() if self.server.stdout else "").strip()
        if not self.url:
            raise RuntimeError("the API server child did not start")
        self.controller: subprocess.Popen[bytes] | None = None
        self.health = self.metrics = 0

    def start_controller(self, profile: pathlib.Path | None, *, limit: int | None = None) -> None:
        """Start `jobset controller` (leader election off; probes and metrics on free ports); `limit`
        sets its clientConnection qps and burst, None keeps the Configuration's defaults."""
        self.health, self.metrics = free_port(), free_port()
        config = self.workdir / "config.yaml"
        settings: dict[str, Any] = {
            "apiVersion": "config.jobset.x-k8s.io/v1alpha1", "kind": "Configuration",
            "leaderElection": {"leaderElect": False}, "health": {"healthProbeBindAddress": f"127.0.0.1:{self.health}"},
            "metrics": {"bindAddress": f"127.0.0.1:{self.metrics}"},
            "webhook": {"port": 0, "certDir": str(self.workdir / "certs")}}
        if limit is not None:
            settings["clientConnection"] = {"qps": float(limit), "burst": limit}
        config.write_text(yaml.safe_dump(settings))
        prefix = ["-m", "cProfile", "-o", str(profile)] if profile else []
        self.controller = subprocess.Popen(
            [sys.executable, *prefix, "-m", "engine.cli.main", "controller", "--kubeconfig", str(self.kubeconfig),
             "--config", str(config), "--zap-log-level", "error", "--no-metrics-auth"],  # scraped without a token
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=(self.workdir / "controller.log").open("ab"))

    def stop_controller(self) -> None:
        """SIGTERM the controller and wait (a profile is written on a clean exit)."""
        if self.controller is not None:
            self.controller.send_signal(signal.SIGTERM)
            try:
                self.controller.wait(60)
            except subprocess.TimeoutExpired:
                self.controller.kill()
                self.controller.wait()
            self.controller = None

    def stop(self) -> None:
        """Stop both children."""
        self.stop_controller()
        self.server.terminate()
        try:
            self.server.wait(30)
        except subprocess.TimeoutExpired:
            self.server.kill()
            self.server.wait()


def rss_megabytes(pid: int) -> float:
    """Resident set size of a process, from /proc."""
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


# ---------------------------------------------------------------- HTTP from the bench


class Bench:
    """Asynchronous calls the bench makes to its children."""

    def __init__(self, children: Children, session: aiohttp.ClientSession) -> None:
        self.children = children
        self.session = session
        self.url = children.url

    async def call(self, method: str, path: str, body: Any = None, *, content_type: str = "application/json",
                   ok: tuple[int, ...] = (200, 201)) -> Any:
        """One JSON request to the API server; any other status than `ok` raises."""
        data = None if body is None else json.dumps(body)
        async with self.session.request(method, self.url + path, data=data,
                                        headers={"Content-Type": content_type}) as reply:
            if reply.status not in ok:
                raise RuntimeError(f"{method} {path}: {reply.status} {await reply.text()}")
            return await reply.json()

    async def writes_by_controller(self) -> int:
        """Write requests (POST, PUT, PATCH, DELETE) the API server received from the controller so far."""
        counts = await self.call("GET", COUNTER_PATH)
        return sum(n for key, n in counts.items() if key.startswith("jobset ") and key.split()[1] in WRITES)

    async def until_ready(self, timeout: float = 120) -> None:
        """Wait for the controller's readiness probe (its caches synced)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                async with self.session.get(f"http://127.0.0.1:{self.children.health}/readyz") as reply:
                    if reply.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
        raise RuntimeError("the controller did not become ready; see controller.log")

    async def reconcile_seconds(self) -> tuple[float, float]:
        """(sum, count) of the jobset controller's reconcile-time histogram."""
        async with self.session.get(f"https://127.0.0.1:{self.children.metrics}/metrics", ssl=False) as reply:
            text = await reply.text()
        found = {"sum": 0.0, "count": 0.0}
        for line in text.splitlines():
            for part in found:
                if line.startswith(f"controller_runtime_reconcile_time_seconds_{part}{{controller=\"jobset\"}}"):
                    found[part] = float(line.rsplit(" ", 1)[1])
        return found["sum"], found["count"]

    async def namespace(self, name: str) -> None:
        """Create namespace `name`."""
        await self.call("POST", "/api/v1/namespaces", {"metadata": {"name": name}})

    async def watch_jobs(self, namespace: str, wanted: int, selector: str = "") -> asyncio.Task[float]:
        """A task ending (with the time.perf_counter() of the last) once `wanted` Jobs were added."""
        listed = await self.call("GET", JOBS.format(ns=namespace) + "?limit=1")
        version = listed["metadata"]["resourceVersion"]
        path = f"{JOBS.format(ns=namespace)}?watch=true&resourceVersion={version}&labelSelector={selector}"

        async def follow() -> float:
            seen: set[str] = set()
            async with self.session.get(self.url + path, timeout=aiohttp.ClientTimeout(total=None)) as stream:
                async for line in stream.content:
                    event = json.loads(line)
                    if event["type"] == "ADDED":
                        seen.add(event["object"]["metadata"]["name"])
                        if len(seen) >= wanted:
                            return time.perf_counter()
            raise RuntimeError(f"watch on {namespace} Jobs ended after {len(seen)} of {wanted}")

        return asyncio.create_task(follow())

    async def quiet(self, seconds: float = 1.0, timeout: float = 120) -> None:
        """Wait until the controller made no write for `seconds`."""
        deadline = time.monotonic() + timeout
        last = await self.writes_by_controller()
        while time.monotonic() < deadline:
            await asyncio.sleep(seconds)
            now = await self.writes_by_controller()
            if now == last:
                return
            last = now
        raise RuntimeError("the controller never went quiet")


@functools.cache
def checker() -> Any:
    """`jobset lint`'s checker: it defaults JobSets as the webhook would (no webhook runs here)."""
    from engine.lint import pipeline

    return pipeline.Checker(feature_gates={})


def jobset(name: str, namespace: str, replicas: int) -> dict[str, Any]:
    """A defaulted JobSet of one replicated job."""
    manifest = {"apiVersion": "jobset.x-k8s.io/v1alpha2", "kind": "JobSet",
                "metadata": {"name": name, "namespace": namespace},
                "spec": {"failurePolicy": {"maxRestarts": 3}, "replicatedJobs": [
                    {"name": "w", "replicas": replicas, "template": {"spec": {"template": {"spec": {
                        "containers": [{"name": "c", "image": "busybox:1.36", "command": ["sleep", "60"]}]}}}}}]}}
    checked = checker().check(manifest)
    if not checked.valid:
        raise RuntimeError(f"bench JobSet rejected: {checked.findings}")
    return json.loads(json.dumps(checked.defaulted))


def bare(job: dict[str, Any], namespace: str) -> dict[str, Any]:
    """A copy of a created Job to create again elsewhere: same spec, labels and annotations, no owner."""
    meta = job["metadata"]
    return {"apiVersion": "batch/v1", "kind": "Job", "spec": copy.deepcopy(job["spec"]),
            "metadata": {"name": meta["name"], "namespace": namespace, "labels": dict(meta.get("labels") or {}),
                         "annotations": dict(meta.get("annotations") or {})}}


# ---------------------------------------------------------------- the python-client baselines


def batch_api(kubeconfig: pathlib.Path) -> k8s.BatchV1Api:
    """The official client, with a connection pool as large as its thread count."""
    configuration = k8s.Configuration()
    k8s_config.load_kube_config(config_file=str(kubeconfig), client_configuration=configuration)
    configuration.connection_pool_maxsize = THREADS
    return k8s.BatchV1Api(k8s.ApiClient(configuration))


def run_calls(calls: list[Any], threads: int) -> float:
    """Seconds to run `calls`, in order (threads=1) or from a pool."""
    started = time.perf_counter()
    if threads == 1:
        for call in calls:
            call()
    else:
        with concurrent.futures.ThreadPoolExecutor(threads) as pool:
            for future in [pool.submit(call) for call in calls]:
                future.result()
    return time.perf_counter() - started


def creations(api: k8s.BatchV1Api, bodies: list[dict[str, Any]]) -> list[Any]:
    """One create call per body."""
    return [lambda b=b: api.create_namespaced_job(b["metadata"]["namespace"], b) for b in bodies]


def delete_then_create(api: k8s.BatchV1Api, body: dict[str, Any]) -> None:
    """What a restart does to one Job: delete it (foreground), wait until its name is free, create it."""
    namespace, name = body["metadata"]["namespace"], body["metadata"]["name"]
    api.delete_namespaced_job(name, namespace, propagation_policy="Foreground")
    while True:
        try:
            api.create_namespaced_job(namespace, body)
            return
        except k8s.ApiException as error:
            if error.status != 409:
                raise
            time.sleep(0.005)


# ---------------------------------------------------------------- the four figures


async def creation_figure(bench: Bench, replicas: int, namespace: str) -> tuple[float, int, list[dict[str, Any]]]:
    """Seconds from POSTing JobSet `big` in `namespace` until all its Jobs exist, the controller's
    writes until it is quiet again, and the Jobs as created."""
    await bench.namespace(namespace)
    writes = await bench.writes_by_controller()
    watcher = await bench.watch_jobs(namespace, replicas)
    started = time.perf_counter()
    await bench.call("POST", JOBSETS.format(ns=namespace), jobset("big", namespace, replicas))
    finished = await asyncio.wait_for(watcher, 600)
    await bench.quiet()
    jobs = (await bench.call("GET", JOBS.format(ns=namespace)))["items"]
    return finished - started, await bench.writes_by_controller() - writes, jobs


async def steady_figure(bench: Bench, passes: int = 5) -> tuple[int, float, int]:
    """Controller writes and mean reconcile seconds over `passes` reconciles of the settled big JobSet."""
    await bench.quiet()
    writes = await bench.writes_by_controller()
    total, count = await bench.reconcile_seconds()
    for n in range(passes):  # each annotation change is one watch event, hence one reconcile
        await bench.call("PATCH", JOBSETS.format(ns="big") + "/big", {"metadata": {"annotations": {"bench": str(n)}}},
                         content_type="application/merge-patch+json")
        await asyncio.sleep(0.3)
    await bench.quiet()
    total2, count2 = await bench.reconcile_seconds()
    done = int(count2 - count)
    return await bench.writes_by_controller() - writes, (total2 - total) / max(done, 1), done


async def restart_figure(bench: Bench, replicas: int) -> tuple[float, int, list[dict[str, Any]]]:
    """Seconds from failing one Job of a settled JobSet until all Jobs of attempt 1 exist, the
    controller's writes until it is quiet again, and the Jobs of attempt 0."""
    await bench.namespace("restart")
    watcher = await bench.watch_jobs("restart", replicas)
    await bench.call("POST", JOBSETS.format(ns="restart"), jobset("restart", "restart", replicas))
    await asyncio.wait_for(watcher, 600)
    await bench.quiet()
    jobs = (await bench.call("GET", JOBS.format(ns="restart")))["items"]
    watcher = await bench.watch_jobs("restart", replicas, selector=f"{ATTEMPT}%3D1")
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    failed = [{"type": kind, "status": "True", "reason": "BackoffLimitExceeded", "message": "bench",
               "lastTransitionTime": stamp} for kind in ("FailureTarget", "Failed")]
    writes = await bench.writes_by_controller()
    started = time.perf_counter()
    await bench.call("PATCH", JOBS.format(ns="restart") + f"/{jobs[0]['metadata']['name']}/status",
                     {"status": {"startTime": stamp, "failed": 1, "conditions": failed}},
                     content_type="application/merge-patch+json")
    finished = await asyncio.wait_for(watcher, 600)
    await bench.quiet()
    return finished - started, await bench.writes_by_controller() - writes, jobs


def fleet_job(template: dict[str, Any], owner: dict[str, Any], index: int) -> dict[str, Any]:
    """Job `index` of JobSet `owner`, cut from a Job the controller created for another JobSet."""
    old_jobset = template["metadata"]["labels"]["jobset.sigs.k8s.io/jobset-name"]
    old_name = template["metadata"]["name"]
    new_jobset = owner["metadata"]["name"]
    new_name = f"{new_jobset}-w-{index}"

    def rewrite(value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            return {k: rewrite(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [rewrite(v) for v in value]
        if key.endswith(("job-index", "job-global-index")):
            return str(index)
        return {old_jobset: new_jobset, old_name: new_name}.get(value, value) if isinstance(value, str) else value

    job = bare(template, owner["metadata"]["namespace"])
    job = rewrite(job)
    job["metadata"]["ownerReferences"] = [{
        "apiVersion": "jobset.x-k8s.io/v1alpha2", "kind": "JobSet", "name": new_jobset,
        "uid": owner["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}]
    return job


def fleet_pod(job: dict[str, Any], index: int) -> dict[str, Any]:
    """Pod `index` of a created Job, labelled and owned as the Job controller would."""
    meta, template = job["metadata"], job["spec"]["template"]
    template_meta = template.get("metadata") or {}
    uid = meta["uid"]
    labels = {**(template_meta.get("labels") or {}), "job-name": meta["name"],
              "batch.kubernetes.io/job-name": meta["name"], "controller-uid": uid,
              "batch.kubernetes.io/controller-uid": uid}
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": f"{meta['name']}-{index}", "namespace": meta["namespace"], "labels": labels,
                         "annotations": dict(template_meta.get("annotations") or {}),
                         "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job", "name": meta["name"],
                                              "uid": uid, "controller": True, "blockOwnerDeletion": True}]},
            "spec": copy.deepcopy(template["spec"])}


async def populate(bench: Bench, template: dict[str, Any], jobs: int, pods_per_job: int) -> None:
    """`jobs` Jobs (over 4 JobSets) and `pods_per_job` Pods each, created directly, 16 requests at a time."""
    await bench.namespace("fleet")
    per = max(jobs // RSS_JOBSETS, 1)
    owners = [await bench.call("POST", JOBSETS.format(ns="fleet"), jobset(f"fleet-{n}", "fleet", per))
              for n in range(RSS_JOBSETS)]
    created = await bounded(bench, ((JOBS.format(ns="fleet"), fleet_job(template, owner, i))
                                    for owner in owners for i in range(per)))
    await bounded(bench, (("/api/v1/namespaces/fleet/pods", fleet_pod(job, p))
                          for job in created for p in range(pods_per_job)), keep=False)


async def bounded(bench: Bench, posts: Iterator[tuple[str, dict[str, Any]]], *, concurrency: int = 16,
                  keep: bool = True) -> list[Any]:
    """POST every (path, body), `concurrency` at a time; the created objects (when `keep`)."""
    created: list[Any] = []

    async def worker() -> None:
        for path, body in posts:
            answer = await bench.call("POST", path, body)
            if keep:
                created.append(answer)
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return created


# ---------------------------------------------------------------- the run


def line(label: str, value: str, goal: str, ratio: float | None = None) -> None:
    """Print one figure with its goal (and goal/measured when it is a cost with a goal)."""
    suffix = f"  ratio {ratio:.2f}" if ratio is not None else ""
    print(f"{label:<72} {value:>10}   goal {goal}{suffix}", flush=True)


async def controller_run(args: argparse.Namespace, children: Children) -> dict[str, Any]:
    """Figure 1a with a controller whose client limit is lifted, then figures 1b-3 with a second one on
    the default Configuration; returns what the baselines need."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64)) as session:
        bench = Bench(children, session)
        warm = asyncio.create_task(asyncio.to_thread(checker))
        await install_crd(bench)
        children.start_controller(args.profile, limit=LIFTED)
        await warm
        await bench.until_ready()
        assert children.controller is not None
        idle = rss_megabytes(children.controller.pid)
        lifted, lifted_writes, _ = await creation_figure(bench, args.jobs, "big-lifted")
        children.stop_controller()
        children.start_controller(None)
        await bench.until_ready()
        seconds, create_writes, big = await creation_figure(bench, args.jobs, "big")
        writes, per_pass, passes = await steady_figure(bench)
        restart, restart_writes, restart_jobs = await restart_figure(bench, args.restart_jobs)
    children.stop_controller()
    return {"idle": idle, "lifted": lifted, "lifted_writes": lifted_writes, "create": seconds,
            "create_writes": create_writes, "restart_writes": restart_writes,
            "big": big, "writes": writes, "pass": per_pass, "passes": passes,
            "restart": restart, "restart_jobs": restart_jobs}


async def install_crd(bench: Bench) -> None:
    """The JobSet CRD, served, and the controller's own namespace (its webhook certificate Secret lives there)."""
    await bench.namespace("jobset-system")
    crd = yaml.load((ROOT / "deploy" / "crd" / "jobset.x-k8s.io_jobsets.yaml").read_text(),
                    Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    await bench.call("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd)
    for _ in range(200):
        try:
            await bench.call("GET", JOBSETS.format(ns="default"))
            return
        except RuntimeError:
            await asyncio.sleep(0.05)
    raise RuntimeError("the JobSet CRD was never served")


def baselines(children: Children, found: dict[str, Any]) -> dict[str, float]:
    """The python-client loops over the same Jobs, with no controller running."""
    api = batch_api(children.kubeconfig)
    core = k8s.CoreV1Api(api.api_client)
    for namespace in BARE:
        core.create_namespace({"metadata": {"name": namespace}})
    figures = {"seq": run_calls(creations(api, [bare(j, "bare-seq") for j in found["big"]]), 1),
               "par": run_calls(creations(api, [bare(j, "bare-par") for j in found["big"]]), THREADS)}
    bodies = [bare(j, "bare-restart") for j in found["restart_jobs"]]
    run_calls(creations(api, bodies), THREADS)
    figures["restart_seq"] = run_calls([lambda b=b: delete_then_create(api, b) for b in bodies], 1)
    figures["restart_par"] = run_calls([lambda b=b: delete_then_create(api, b) for b in bodies], THREADS)
    api.api_client.close()
    return figures


async def rss_run(args: argparse.Namespace, children: Children, template: dict[str, Any]) -> tuple[float, float]:
    """Seconds a fresh controller takes to become ready with the fleet in the cluster, and its RSS once
    quiet, in a cluster emptied of the earlier figures' objects."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64)) as session:
        bench = Bench(children, session)
        await empty(bench)
        await populate(bench, template, args.rss_jobs, args.pods_per_job)
        started = time.perf_counter()
        children.start_controller(None)
        await bench.until_ready(timeout=900)
        ready = time.perf_counter() - started
        await bench.quiet(2.0)
        assert children.controller is not None
        return ready, rss_megabytes(children.controller.pid)


async def empty(bench: Bench, timeout: float = 600) -> None:
    """Delete the namespaces of figures 1-3 and wait until the API server has removed them."""
    for namespace in NAMESPACES:
        await bench.call("DELETE", f"/api/v1/namespaces/{namespace}")
    deadline = time.monotonic() + timeout
    for namespace in NAMESPACES:
        while True:
            async with bench.session.get(f"{bench.url}/api/v1/namespaces/{namespace}") as reply:
                if reply.status == 404:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"namespace {namespace} was never removed")
            await asyncio.sleep(0.2)


def report(found: dict[str, Any], bare_runs: dict[str, float], args: argparse.Namespace) -> None:
    """Figures 1-3, each beside its python-client baseline."""
    n, r = args.jobs, args.restart_jobs
    seq, par = bare_runs["seq"], bare_runs["par"]
    floor = max(n - DEFAULT_BURST, 0) / DEFAULT_QPS
    line(f"create {n:,} Jobs: python client, sequential (no rate limit)", f"{seq:.2f} s", "-")
    line(f"create {n:,} Jobs: python client, {THREADS} threads (no rate limit)", f"{par:.2f} s", "-")
    line(f"create {n:,} Jobs: JobSet 1 x {n:,}, 1a. controller client limit lifted", f"{found['lifted']:.2f} s", "-")
    line("  its API writes until quiet (Jobs, Service, status, events)", f"{found['lifted_writes']:,}",
         f"{n:,} Jobs + a few")
    line("  controller / python client sequential (its own overhead)", f"{found['lifted'] / seq:.2f}", "<= 1.25")
    line(f"  controller / python client {THREADS} threads", f"{found['lifted'] / par:.2f}", "-")
    line(f"create {n:,} Jobs: JobSet 1 x {n:,}, 1b. default limit (qps {DEFAULT_QPS:g}, burst {DEFAULT_BURST})",
         f"{found['create']:.2f} s", "-")
    line("  its API writes until quiet (Jobs, Service, status, events)", f"{found['create_writes']:,}",
         f"{n:,} Jobs + a few")
    line(f"  floor that limit imposes: ({n:,} - burst) / qps", f"{floor:.2f} s", "-")
    line("  default-limit controller / python client sequential", f"{found['create'] / seq:.2f}", "-")
    line("  floor of the default limit / python client sequential", f"{floor / seq:.2f}", "-")
    line(f"steady-state reconcile of {n:,} Jobs: API writes", f"{found['writes']}", "0")
    line(f"steady-state reconcile of {n:,} Jobs: time ({found['passes']} passes)",
         f"{found['pass'] * 1000:.1f} ms", "< 100 ms", 0.1 / max(found['pass'], 1e-9))
    line(f"RestartJobSet of {r:,} Jobs (controller)", f"{found['restart']:.2f} s", "-")
    line("  its API writes until quiet (Job deletions and creations, status, events)",
         f"{found['restart_writes']:,}", f"{2 * r:,} Jobs + a few")
    line(f"delete-then-create {r:,} Jobs: python client, sequential", f"{bare_runs['restart_seq']:.2f} s", "-")
    line(f"delete-then-create {r:,} Jobs: python client, {THREADS} threads", f"{bare_runs['restart_par']:.2f} s", "-")
    line("  controller / python client sequential", f"{found['restart'] / bare_runs['restart_seq']:.2f}", "<= 1.5")
    line(f"  controller / python client {THREADS} threads", f"{found['restart'] / bare_runs['restart_par']:.2f}",
         "<= 1.5")
    line("controller RSS, empty cluster", f"{found['idle']:.0f} MB", "-")


def report_rss(ready: float, rss: float, args: argparse.Namespace) -> None:
    """Figure 4."""
    fleet = f"{args.rss_jobs:,} Jobs + {args.rss_jobs * args.pods_per_job:,} Pods"
    line(f"controller start until ready, {fleet}", f"{ready:.1f} s", "-")
    line(f"controller RSS, {fleet}", f"{rss:.0f} MB", "<= 400 MB", 400 / rss)


def bench_main(args: argparse.Namespace) -> int:
    """Figures 1-3, the baselines, then figure 4, on one API server child."""
    with tempfile.TemporaryDirectory() as workdir:
        children = Children(pathlib.Path(workdir))
        try:
            found = asyncio.run(controller_run(args, children))
            bare_runs = baselines(children, found)
            report(found, bare_runs, args)
            report_rss(*asyncio.run(rss_run(args, children, found["big"][0])), args=args)
        finally:
            children.stop()
    if args.profile:
        print(f"controller profile (figure 1a): {args.profile}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python bench/controller.py [flags]`, or the API server child."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    sub = parser.add_subparsers(dest="mode")
    child = sub.add_parser("api-server", help="(internal) the API server child process")
    child.add_argument("--kubeconfig", required=True)
    parser.add_argument("--jobs", type=int, default=5000, help="replicas of the created JobSet (figures 1-2)")
    parser.add_argument("--restart-jobs", type=int, default=1000, help="replicas of the restarted JobSet (figure 3)")
    parser.add_argument("--rss-jobs", type=int, default=10000, help="Jobs in the cluster for the RSS figure")
    parser.add_argument("--pods-per-job", type=int, default=4, help="Pods per Job for the RSS figure")
    parser.add_argument("--profile", type=pathlib.Path, help="write a cProfile of the controller of figure 1a here")
    args = parser.parse_args(argv)
    if args.mode == "api-server":
        serve_api(args.kubeconfig)
        return 0
    return bench_main(args)


if __name__ == "__main__":
    sys.exit(main())
