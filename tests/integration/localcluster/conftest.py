"""Fixtures: an embedded API server per test module, a kubeconfig, the python client and kubectl."""

from __future__ import annotations

import json
import pathlib
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from kubernetes import client as k8s_client, config as k8s_config

from engine.localcluster import server

ROOT = pathlib.Path(__file__).resolve().parents[3]
KUBECTL = ROOT / ".venv" / "bin" / "kubectl"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[server.RunningServer]:
    running = server.start_in_thread()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def kubeconfig(cluster: server.RunningServer, tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    return cluster.write_kubeconfig(tmp_path_factory.mktemp("kube") / "config")


@pytest.fixture(scope="module")
def api_client(kubeconfig: pathlib.Path) -> Iterator[k8s_client.ApiClient]:
    configuration = k8s_client.Configuration()
    k8s_config.load_kube_config(config_file=str(kubeconfig), client_configuration=configuration)
    with k8s_client.ApiClient(configuration) as api_client:
        yield api_client


class Kubectl:
    """The real kubectl against the fixture's server, with a fresh discovery cache."""

    def __init__(self, kubeconfig: pathlib.Path, cache: pathlib.Path) -> None:
        self.kubeconfig, self.cache = kubeconfig, cache

    def command(self, *args: str) -> list[str]:
        return [str(KUBECTL), "--kubeconfig", str(self.kubeconfig), "--cache-dir", str(self.cache), *args]

    def __call__(self, *args: str, stdin: str | None = None, check: bool = True,
                 timeout: float = 30) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(self.command(*args), input=stdin, capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
        return result

    def json(self, *args: str) -> dict:
        return json.loads(self(*args, "-o", "json").stdout)


@pytest.fixture(scope="module")
def kubectl(kubeconfig: pathlib.Path, tmp_path_factory: pytest.TempPathFactory) -> Kubectl:
    return Kubectl(kubeconfig, tmp_path_factory.mktemp("kubectl-cache"))


class Raw:
    """Plain HTTP to the server, for requests no client library would send."""

    def __init__(self, url: str) -> None:
        self.url = url

    def __call__(self, method: str, path: str, body: bytes | dict | list | None = None,
                 headers: dict[str, str] | None = None) -> tuple[int, dict, dict]:
        data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
        headers = {"Content-Type": "application/json", **(headers or {})}
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, dict(response.headers), json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), json.loads(error.read() or b"null")


@pytest.fixture(scope="module")
def raw(cluster: server.RunningServer) -> Raw:
    return Raw(cluster.url)
