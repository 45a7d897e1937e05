"""Tools of the deploy tests: the kustomize rendering, kubectl on the embedded control plane,
stand-in types for kinds it does not serve, a recording proxy, and RBAC rule matching.

The embedded API server serves neither `apps` nor `policy`; `serve_missing_kinds`
registers each kind of the manifests that discovery lacks as a schemaless CRD, so kubectl can
apply the whole installation. Those objects' real schemas are checked by kubernetes-validate.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import pathlib
import subprocess
import urllib.error
import urllib.request
from typing import Any

import aiohttp
import yaml
from aiohttp import web

ROOT = pathlib.Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"
KUBECTL = ROOT / ".venv" / "bin" / "kubectl"
NAMESPACE = "jobset-system"
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding", "host"}


def kustomize() -> str:
    """`kubectl kustomize deploy/`, as text."""
    done = subprocess.run([str(KUBECTL), "kustomize", str(DEPLOY)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def documents(text: str) -> list[dict[str, Any]]:
    """The non-empty YAML documents of `text`."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: the CRD is 12k lines
    return [doc for doc in yaml.load_all(text, Loader=loader) if doc]


def find(docs: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    """The one document of `kind` (and `name`)."""
    found = [d for d in docs if d["kind"] == kind and name in (None, d["metadata"]["name"])]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]


def manager_role(docs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    """The controller's own Role or ClusterRole (not the metrics reader it ships for scrapers)."""
    return find(docs, kind, "jobset-manager-role" if kind == "ClusterRole" else None)


class Kubectl:
    """The real kubectl against one server, with a fresh discovery cache."""

    def __init__(self, kubeconfig: pathlib.Path, cache: pathlib.Path) -> None:
        self.kubeconfig, self.cache = kubeconfig, cache

    def __call__(self, *args: str, stdin: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        command = [str(KUBECTL), "--kubeconfig", str(self.kubeconfig), "--cache-dir", str(self.cache), *args]
        done = subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
        assert done.returncode == 0, f"kubectl {' '.join(args)} failed ({done.returncode}):\n{done.stderr}"
        return done


def served_kinds(url: str, api_version: str) -> set[str]:
    """Kinds the server's discovery lists for `api_version`."""
    path = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
    try:
        with urllib.request.urlopen(url + path, timeout=10) as response:
            return {r["kind"] for r in json.load(response)["resources"]}
    except urllib.error.HTTPError:
        return set()


def serve_missing_kinds(kubectl: Kubectl, url: str, docs: list[dict[str, Any]]) -> list[str]:
    """Register a schemaless CRD for every kind of `docs` the server does not serve; their names."""
    crds: dict[str, dict[str, Any]] = {}
    for doc in docs:
        if doc["kind"] in served_kinds(url, doc["apiVersion"]) or doc["kind"] == "CustomResourceDefinition":
            continue
        group, version = doc["apiVersion"].split("/")
        kind = doc["kind"]
        plural = kind.lower() + "s"
        crds[f"{plural}.{group}"] = {
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": f"{plural}.{group}"},
            "spec": {"group": group, "scope": "Namespaced" if "namespace" in doc["metadata"] else "Cluster",
                     "names": {"kind": kind, "plural": plural, "singular": kind.lower(), "listKind": f"{kind}List"},
                     "versions": [{"name": version, "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                         "type": "object", "x-kubernetes-preserve-unknown-fields": True}}}]}}
    if crds:
        kubectl("apply", "--server-side", "-f", "-", stdin=yaml.safe_dump_all(list(crds.values())))
        kubectl("wait", "--for=condition=Established", "--timeout=30s", *(f"crd/{name}" for name in crds))
    return sorted(crds)


@dataclasses.dataclass(frozen=True)
class Attributes:
    """What RBAC sees of one resource request."""

    verb: str
    group: str
    resource: str  # "jobs" or "jobs/status"
    namespace: str
    name: str


def attributes(method: str, path: str, query: dict[str, str]) -> Attributes | None:
    """RBAC attributes of a request, as kube-apiserver derives them; None for non-resource paths."""
    parts = path.strip("/").split("/")
    if parts[0] == "api" and len(parts) > 2:
        group, rest = "", parts[2:]
    elif parts[0] == "apis" and len(parts) > 3:
        group, rest = parts[1], parts[3:]
    else:
        return None
    namespace = ""
    if rest[0] == "namespaces" and len(rest) > 2:
        namespace, rest = rest[1], rest[2:]
    name = rest[1] if len(rest) > 1 else ""
    resource = "/".join([rest[0], *rest[2:3]])
    watching = query.get("watch") in ("true", "1")
    verb = {"GET": "watch" if watching else "get" if name else "list", "POST": "create", "PUT": "update",
            "PATCH": "patch", "DELETE": "delete" if name else "deletecollection"}[method]
    return Attributes(verb, group, resource, namespace, name)


def allows(rules: list[dict[str, Any]], request: Attributes) -> bool:
    """Whether one of the PolicyRules grants `request` (resourceNames never cover list/watch/create)."""
    for rule in rules:
        names = rule.get("resourceNames") or []
        if (request.group in rule.get("apiGroups", []) and request.resource in rule.get("resources", [])
                and request.verb in rule.get("verbs", []) and (not names or request.name in names)):
            return True
    return False


class RecordingProxy:
    """An HTTP proxy in front of the API server that records every request it forwards."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.url = ""
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._streams: set[asyncio.Task[object]] = set()

    async def start(self) -> None:
        """Listen on a free loopback port (`self.url`)."""
        self._session = aiohttp.ClientSession()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"

    async def stop(self) -> None:
        """Stop listening, ending the watch streams still open."""
        for task in list(self._streams):
            task.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        assert self._session is not None
        self.requests.append((request.method, request.path, dict(request.query)))
        task = asyncio.current_task()
        if task is not None:
            self._streams.add(task)
            task.add_done_callback(self._streams.discard)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        body = await request.read()
        async with self._session.request(request.method, self.upstream + request.path_qs, data=body or None,
                                         headers=headers, timeout=aiohttp.ClientTimeout(total=None)) as upstream:
            response = web.StreamResponse(status=upstream.status, headers={
                k: v for k, v in upstream.headers.items() if k.lower() not in _HOP_BY_HOP})
            await response.prepare(request)
            try:
                async for chunk in upstream.content.iter_any():
                    await response.write(chunk)
            except (ConnectionResetError, aiohttp.ClientError):
                return response
            await response.write_eof()
            return response
