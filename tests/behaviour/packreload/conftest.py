"""One installation (API server + controller + webhooks, no simulation) with an operator rules
directory that starts empty; the tests write packs into it while the controller runs."""

from __future__ import annotations

import pathlib
from collections.abc import Iterator

import kubernetes
import pytest

from engine import up


class Installation:
    """The running environment, its operator rules directory and clients of the python `kubernetes` library."""

    def __init__(self, environment: up.Environment, kubeconfig: pathlib.Path, rules_dir: pathlib.Path) -> None:
        self.environment = environment
        self.rules_dir = rules_dir
        config = kubernetes.client.Configuration()
        kubernetes.config.load_kube_config(config_file=str(kubeconfig), client_configuration=config)
        api_client = kubernetes.client.ApiClient(config)
        self.custom = kubernetes.client.CustomObjectsApi(api_client)
        self.batch = kubernetes.client.BatchV1Api(api_client)
        self.core = kubernetes.client.CoreV1Api(api_client)


@pytest.fixture(scope="module")
def installation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installation]:
    base = tmp_path_factory.mktemp("packreload")
    rules_dir = base / "operator-rules"
    rules_dir.mkdir()
    environment = up.Environment(up.Options(kubeconfig=base / "kubeconfig", simulate=False, rules_dirs=(rules_dir,)))
    environment.start()
    try:
        yield Installation(environment, base / "kubeconfig", rules_dir)
    finally:
        environment.stop()
