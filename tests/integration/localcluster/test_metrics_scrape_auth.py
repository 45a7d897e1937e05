"""The controller's metrics over HTTPS, reviewed by the embedded API server (spec §14.4; upstream's filter).

A manager serves the real metrics port with its TokenReview + SubjectAccessReview filter, its
client talking HTTP to the embedded API server. No token: 401. A ServiceAccount's token without
the shipped `jobset-metrics-reader` ClusterRole: 403. Once a ClusterRoleBinding grants it (and the
cached denial expired): 200 with the metrics. A failing API server: 500.
"""

from __future__ import annotations

import asyncio
import base64
import pathlib
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import yaml
from kubernetes import client as k8s_client

from engine.kube import client, configuration, connection, manager
from engine.localcluster import authn, faults, server

ROOT = pathlib.Path(__file__).resolve().parents[3]
READER = "jobset-metrics-reader"


def metrics_reader_role() -> dict[str, Any]:
    """The ClusterRole as deploy/rbac ships it."""
    docs = yaml.safe_load_all((ROOT / "deploy" / "rbac" / "cluster-role.yaml").read_text())
    return next(d for d in docs if d["kind"] == "ClusterRole" and d["metadata"]["name"] == READER)


def scraping(kubeconfig: pathlib.Path, steps: Callable[[Callable[[str | None], Awaitable[tuple[int, str]]],
                                                        manager.Manager], Awaitable[None]]) -> None:
    """Run a manager serving metrics (HTTPS, reviews on, 0.3 s cache) and `steps(scrape, mgr)` against it."""
    config = configuration.load(None)
    config.metrics.bind_address = "127.0.0.1:0"
    config.health.health_probe_bind_address = "0"
    config.leader_election.leader_elect = False

    async def scenario() -> None:
        api = client.Client(connection.from_kubeconfig(str(kubeconfig)))
        mgr = manager.Manager(client=api, options=manager.Options.from_configuration(config))
        assert mgr.metrics_reviewer is not None
        mgr.metrics_reviewer.ttl = 0.3
        stop = asyncio.Event()
        task = asyncio.create_task(mgr.run(stop))
        try:
            while mgr.metrics_port is None:
                await asyncio.sleep(0.005)
            async with aiohttp.ClientSession() as session:
                async def scrape(token: str | None) -> tuple[int, str]:
                    headers = {"Authorization": f"Bearer {token}"} if token else {}
                    async with session.get(f"https://127.0.0.1:{mgr.metrics_port}/metrics", ssl=False,
                                           headers=headers) as response:
                        return response.status, await response.text()
                await steps(scrape, mgr)
        finally:
            stop.set()
            await task
            await api.close()

    asyncio.run(scenario())


def test_scrapes_need_a_token_and_the_metrics_reader_role_spec_14_4(
        cluster: server.RunningServer, kubeconfig: pathlib.Path, api_client: k8s_client.ApiClient) -> None:
    core, rbac_api = k8s_client.CoreV1Api(api_client), k8s_client.RbacAuthorizationV1Api(api_client)
    core.create_namespaced_service_account("default", {"metadata": {"name": "prometheus"}})
    core.create_namespaced_secret("default", {
        "metadata": {"name": "prometheus-token", "annotations": {authn.ACCOUNT_NAME: "prometheus"}},
        "type": authn.SERVICE_ACCOUNT_TOKEN, "data": {"token": base64.b64encode(b"prom-token").decode()}})
    rbac_api.create_cluster_role(metrics_reader_role())

    async def steps(scrape: Callable[[str | None], Awaitable[tuple[int, str]]], _: manager.Manager) -> None:
        assert (await scrape(None))[0] == 401
        assert (await scrape("not-a-known-token"))[0] == 401
        status, text = await scrape("prom-token")
        assert (status, text) == (403, 'Forbidden: user "system:serviceaccount:default:prometheus" may not get '
                                       '/metrics\n')
        rbac_api.create_cluster_role_binding({"metadata": {"name": "prometheus-metrics"}, "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": READER},
            "subjects": [{"kind": "ServiceAccount", "name": "prometheus", "namespace": "default"}]})
        assert (await scrape("prom-token"))[0] == 403  # the denial is still cached
        await asyncio.sleep(0.35)
        status, text = await scrape("prom-token")
        assert status == 200 and "controller_runtime_reconcile_total" in text

    scraping(kubeconfig, steps)


def test_a_failing_api_server_is_a_500_not_a_401(cluster: server.RunningServer, kubeconfig: pathlib.Path) -> None:
    async def steps(scrape: Callable[[str | None], Awaitable[tuple[int, str]]], _: manager.Manager) -> None:
        rule = cluster.faults.add(faults.Rule(verb="create", resource="tokenreviews", code=503))
        try:
            assert (await scrape(cluster.admin_token))[0] == 500
        finally:
            cluster.faults.remove(rule)
        assert (await scrape(cluster.admin_token))[0] == 200  # system:masters; the failure was not remembered

    scraping(kubeconfig, steps)
