"""How to reach the API server: address, TLS, credentials, user agent, client-side rate limit.

Owns: `Connection` and its loaders (`from_kubeconfig`, `in_cluster`), which read the
configuration through the `kubernetes` package's loaders (expiring credentials, such as a
rotated service-account token, are re-read through their refresh hook), and `user_agent`
(spec §14.6).
Called by: `kube.client` (consumes a `Connection`), the manager and the CLI (load one).
Must not import: anything in `engine` outside `kube`.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import platform
import re
import ssl
import sys
from collections.abc import Callable

from kubernetes import client as k8s_client
from kubernetes import config as k8s_config

_GO_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64", "i386": "386",
            "i686": "386", "armv7l": "arm", "ppc64le": "ppc64le", "s390x": "s390x"}


class ConfigError(Exception):
    """The kubeconfig (or in-cluster environment) cannot be used; the message says why and where."""


@dataclasses.dataclass(frozen=True)
class Connection:
    """Everything needed to open HTTP sessions against one API server."""

    host: str
    ssl_context: ssl.SSLContext | None = None
    token: str | None = None
    user_agent: str = ""
    qps: float = 500.0
    burst: int = 500
    token_source: Callable[[], str | None] | None = None  # credentials that expire: asked before each request

    def headers(self) -> dict[str, str]:
        """Headers sent on every request (without expiring credentials: see `authorization`)."""
        found = {"User-Agent": self.user_agent or user_agent(), "Accept": "application/json"}
        if self.token and self.token_source is None:
            found["Authorization"] = _bearer(self.token)
        return found

    def authorization(self) -> str | None:
        """The current Authorization header value when credentials expire (else None: it is in `headers`)."""
        if self.token_source is None:
            return None
        token = self.token_source()
        return _bearer(token) if token else None


def _bearer(token: str) -> str:
    return token if " " in token else f"Bearer {token}"


def user_agent(version: str | None = None, commit: str | None = None) -> str:
    """`jobset/<version without pre-release suffix> (<os>/<arch>) <commit[:7]>` (spec §14.6)."""
    if version is None:
        try:
            version = importlib.metadata.version("jobset-rules")
        except importlib.metadata.PackageNotFoundError:
            version = ""
    release = re.split(r"[-+]", version, maxsplit=1)[0] if version else ""
    machine = platform.machine().lower()
    arch = _GO_ARCH.get(machine, machine or "unknown")
    return f"jobset/{release or 'unknown'} ({sys.platform}/{arch}) {(commit or '')[:7] or 'unknown'}"


def from_kubeconfig(path: str | None = None, *, context: str | None = None,
                    qps: float = 500.0, burst: int = 500) -> Connection:
    """Load a kubeconfig file (default: $KUBECONFIG or ~/.kube/config) with the `kubernetes` loaders."""
    configuration = k8s_client.Configuration()
    try:
        k8s_config.load_kube_config(config_file=path, context=context, client_configuration=configuration,
                                    persist_config=False)
    except (k8s_config.ConfigException, OSError, ValueError, TypeError) as error:
        raise ConfigError(f"kubeconfig {path or '(default)'}: {error}") from error
    return _connection(configuration, qps=qps, burst=burst)


def in_cluster(*, qps: float = 500.0, burst: int = 500) -> Connection:
    """The service-account configuration of a Pod."""
    configuration = k8s_client.Configuration()
    try:
        k8s_config.load_incluster_config(client_configuration=configuration)
    except k8s_config.ConfigException as error:
        raise ConfigError(f"in-cluster configuration: {error}") from error
    return _connection(configuration, qps=qps, burst=burst)


def _connection(configuration: k8s_client.Configuration, *, qps: float, burst: int) -> Connection:
    token = configuration.get_api_key_with_prefix("BearerToken", alias="authorization")
    source = None
    if configuration.refresh_api_key_hook is not None:  # in-cluster token files rotate; exec plugins expire
        def source() -> str | None:
            configuration.refresh_api_key_hook(configuration)
            return configuration.get_api_key_with_prefix("BearerToken", alias="authorization") or None
    return Connection(host=configuration.host.rstrip("/"), ssl_context=_ssl_context(configuration),
                      token=token or None, qps=qps, burst=burst, token_source=source)


def _ssl_context(configuration: k8s_client.Configuration) -> ssl.SSLContext | None:
    if not configuration.host.startswith("https"):
        return None
    context = ssl.create_default_context(cafile=configuration.ssl_ca_cert)
    if configuration.cert_file:
        context.load_cert_chain(configuration.cert_file, configuration.key_file)
    if not configuration.verify_ssl:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context
