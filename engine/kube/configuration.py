"""The manager's Configuration file (`config.jobset.x-k8s.io/v1alpha1`, spec §14.1) and flags (§14.2).

Owns: `Configuration` and its sections, `load` (strict decoding: unknown and duplicate fields are
errors naming their path, or file:line; defaults applied with or without a file; validation of §14.1),
`add_flags` / `resolve` (flags override the file only when given explicitly), and Go-style
duration parsing.
Called by: the manager's composer and the CLI.
Must not import: anything in `engine` outside `kube`.
"""

from __future__ import annotations

import argparse
import dataclasses
import pathlib
import re
from typing import Any

import yaml

from engine import tls
from engine.kube import featuregates

API_VERSION = "config.jobset.x-k8s.io/v1alpha1"
KIND = "Configuration"

_DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


class ConfigurationError(ValueError):
    """The configuration cannot be used; the message names the file and field path."""


def _field(key: str, default: Any = None, *, factory: Any = None) -> Any:
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata={"key": key})
    return dataclasses.field(default=default, metadata={"key": key})


@dataclasses.dataclass
class Webhook:
    """`webhook`."""

    port: int = _field("port", 9443)
    host: str = _field("host", "")
    cert_dir: str = _field("certDir", "")


@dataclasses.dataclass
class Metrics:
    """`metrics`: `bind_address` "0" disables the metrics server. `auth_filter` is no field of the file
    (upstream's has none): `--no-metrics-auth` turns off the review of each scrape for local runs."""

    bind_address: str = _field("bindAddress", ":8443")
    cert_dir: str = _field("certDir", "")
    auth_filter: bool = dataclasses.field(default=True, metadata={"flag": "--metrics-auth"})


@dataclasses.dataclass
class Health:
    """`health`: probe address and endpoint names (empty means `healthz` / `readyz`)."""

    health_probe_bind_address: str = _field("healthProbeBindAddress", ":8081")
    readiness_endpoint_name: str = _field("readinessEndpointName", "")
    liveness_endpoint_name: str = _field("livenessEndpointName", "")


@dataclasses.dataclass
class LeaderElection:
    """`leaderElection` (spec §14.3); durations in seconds."""

    leader_elect: bool = _field("leaderElect", True)
    resource_name: str = _field("resourceName", "6d4f6a47.jobset.x-k8s.io")
    resource_lock: str = _field("resourceLock", "leases")
    resource_namespace: str = _field("resourceNamespace", "")
    lease_duration: float = _field("leaseDuration", 15.0)
    renew_deadline: float = _field("renewDeadline", 10.0)
    retry_period: float = _field("retryPeriod", 2.0)


@dataclasses.dataclass
class InternalCertManagement:
    """`internalCertManagement`; the two names are defaulted only when enabled."""

    enable: bool = _field("enable", True)
    webhook_service_name: str = _field("webhookServiceName", "")
    webhook_secret_name: str = _field("webhookSecretName", "")


@dataclasses.dataclass
class ClientConnection:
    """`clientConnection`: client-side rate limit towards the API server."""

    qps: float = _field("qps", 500.0)
    burst: int = _field("burst", 500)


@dataclasses.dataclass
class TLS:
    """`tls`: "" minVersion means TLS 1.2; None cipher suites means the defaults."""

    min_version: str = _field("minVersion", "")
    cipher_suites: list[str] | None = _field("cipherSuites", None)


@dataclasses.dataclass
class Configuration:
    """The whole file, defaults applied."""

    webhook: Webhook = _field("webhook", factory=Webhook)
    metrics: Metrics = _field("metrics", factory=Metrics)
    health: Health = _field("health", factory=Health)
    leader_election: LeaderElection = _field("leaderElection", factory=LeaderElection)
    internal_cert_management: InternalCertManagement = _field("internalCertManagement",
                                                              factory=InternalCertManagement)
    client_connection: ClientConnection = _field("clientConnection", factory=ClientConnection)
    tls: TLS | None = _field("tls", None)
    feature_gates: dict[str, bool] = _field("featureGates", factory=dict)

    def gates(self) -> featuregates.FeatureGates:
        """The effective feature gates (already validated by `load`)."""
        return featuregates.build(self.feature_gates)


class _StrictLoader(yaml.SafeLoader):
    """Safe YAML that rejects a key given twice in one mapping, as strict decoding does."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate field {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def parse_duration(text: str) -> float:
    """Seconds in a Go duration such as `15s`, `1m30s`, `500ms`; ValueError if malformed."""
    stripped = text.strip()
    if stripped in ("0", "-0"):
        return 0.0
    sign = -1.0 if stripped.startswith("-") else 1.0
    body = stripped.lstrip("+-")
    if not body or _DURATION.sub("", body):
        raise ValueError(f"invalid duration {text!r} (expected e.g. 15s, 1m30s, 500ms)")
    return sign * sum(float(number) * _UNITS[unit] for number, unit in _DURATION.findall(body))


def load(path: str | pathlib.Path | None) -> Configuration:
    """Read, strictly decode, default and validate the file at `path` (None: all defaults)."""
    where = str(path) if path else "(defaults)"
    raw: Any = {}
    if path:
        try:
            raw = yaml.load(pathlib.Path(path).read_text(), Loader=_StrictLoader) or {}
        except OSError as error:
            raise ConfigurationError(f"{where}: cannot read: {error.strerror}") from error
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            line = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
            raise ConfigurationError(f"{where}{line}: not valid YAML: {getattr(error, 'problem', error)}") from error
    if not isinstance(raw, dict):
        raise ConfigurationError(f"{where}: the configuration must be a mapping")
    _check_type_meta(raw, where)
    body = {k: v for k, v in raw.items() if k not in ("apiVersion", "kind")}
    config = _decode(Configuration, body, path="", where=where)
    _apply_defaults(config)
    problems = validate(config)
    if problems:
        raise ConfigurationError(f"{where}: " + "; ".join(problems))
    return config


def validate(config: Configuration) -> list[str]:
    """Every §14.1 problem as `field: message`."""
    problems: list[str] = []
    certs = config.internal_cert_management
    if certs.enable:
        if len(certs.webhook_service_name) > 63 or not _DNS1035_LABEL.match(certs.webhook_service_name):
            problems.append(f"internalCertManagement.webhookServiceName: Invalid value: "
                            f"{certs.webhook_service_name!r}: must be a DNS-1035 label")
        if len(certs.webhook_secret_name) > 253 or not _DNS1123_SUBDOMAIN.match(certs.webhook_secret_name):
            problems.append(f"internalCertManagement.webhookSecretName: Invalid value: "
                            f"{certs.webhook_secret_name!r}: must be a DNS-1123 subdomain")
    if config.tls is not None:
        problems.extend(_validate_tls(config.tls))
    try:
        featuregates.build(config.feature_gates)
    except featuregates.FeatureGateError as error:
        problems.append(f"featureGates: {error}")
    return problems


def _validate_tls(settings: TLS) -> list[str]:
    kinds = {"tls": "Invalid value", "tls.cipherSuites": "Forbidden"}
    return [f"{field}: {kinds[field]}: {message}" for field, message in
            tls.validate(settings.min_version, settings.cipher_suites)]


def _check_type_meta(raw: dict[str, Any], where: str) -> None:
    if raw.get("apiVersion", API_VERSION) != API_VERSION or raw.get("kind", KIND) != KIND:
        raise ConfigurationError(f"{where}: expected apiVersion {API_VERSION} and kind {KIND}, "
                                 f"got {raw.get('apiVersion')!r} {raw.get('kind')!r}")


def _decode(cls: Any, raw: Any, *, path: str, where: str) -> Any:
    if not isinstance(raw, dict):
        raise ConfigurationError(f"{where}: {path or '(root)'}: expected a mapping, got {type(raw).__name__}")
    fields = {f.metadata["key"]: f for f in dataclasses.fields(cls) if "key" in f.metadata}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        field_path = f"{path}.{key}" if path else str(key)
        if key not in fields:
            raise ConfigurationError(f'{where}: {field_path}: unknown field "{key}"')
        values[fields[key].name] = _decode_value(fields[key], value, path=field_path, where=where)
    return cls(**values)


def _decode_value(field: dataclasses.Field[Any], value: Any, *, path: str, where: str) -> Any:
    kind = str(field.type)
    section = _SECTIONS.get(kind)
    if section is not None:
        return _decode(section, {} if value is None else value, path=path, where=where)
    if kind == "float" and field.name in _DURATIONS:
        try:
            return parse_duration(str(value))
        except ValueError as error:
            raise ConfigurationError(f"{where}: {path}: {error}") from error
    expected = _SCALARS[kind]
    if (isinstance(value, bool) and bool not in expected) or not isinstance(value, expected):
        raise ConfigurationError(f"{where}: {path}: expected {kind}, got {type(value).__name__} {value!r}")
    return float(value) if kind == "float" else value


_SECTIONS: dict[str, type] = {
    "Webhook": Webhook, "Metrics": Metrics, "Health": Health, "LeaderElection": LeaderElection,
    "InternalCertManagement": InternalCertManagement, "ClientConnection": ClientConnection, "TLS | None": TLS,
}
_SCALARS: dict[str, tuple[type, ...]] = {
    "int": (int,), "float": (int, float), "str": (str,), "bool": (bool,), "dict[str, bool]": (dict,),
    "list[str] | None": (list,),
}
_DURATIONS = frozenset({"lease_duration", "renew_deadline", "retry_period"})


def _apply_defaults(config: Configuration) -> None:
    certs = config.internal_cert_management
    if certs.enable:
        certs.webhook_service_name = certs.webhook_service_name or "jobset-webhook-service"
        certs.webhook_secret_name = certs.webhook_secret_name or "jobset-webhook-server-cert"


def add_flags(parser: argparse.ArgumentParser) -> None:
    """The §14.2 flags; defaults are None so `resolve` can tell an explicit flag from its absence."""
    parser.add_argument("--config", default="", help="path of the Configuration file")
    parser.add_argument("--metrics-bind-address", default=None,
                        help='metrics address (default ":8443", "0" disables)')
    parser.add_argument("--metrics-auth", action=argparse.BooleanOptionalAction, default=None,
                        help="serve metrics only to bearer tokens the API server authenticates and allows to get "
                             "/metrics (TokenReview, SubjectAccessReview; default on with HTTPS metrics); "
                             "--no-metrics-auth for local runs")
    parser.add_argument("--health-probe-bind-address", default=None, help='probe address (default ":8081")')
    parser.add_argument("--leader-elect", action="store_true", default=None, help="enable leader election")
    parser.add_argument("--kube-api-qps", type=float, default=None, help="client QPS towards the API (default 500)")
    parser.add_argument("--kube-api-burst", type=int, default=None, help="client burst towards the API (default 500)")
    parser.add_argument("--zap-devel", action=argparse.BooleanOptionalAction, default=True,
                        help="development logging: key=value lines at debug level (default on)")
    parser.add_argument("--zap-encoder", choices=["json", "console"], default=None, help="log line format")
    parser.add_argument("--zap-log-level", choices=["debug", "info", "error"], default=None, help="log level")


def resolve(args: argparse.Namespace) -> Configuration:
    """The file named by `--config` (or defaults) with explicitly given flags applied over it."""
    config = load(args.config or None)
    if args.metrics_bind_address is not None:
        config.metrics.bind_address = args.metrics_bind_address
    if args.metrics_auth is not None:
        config.metrics.auth_filter = args.metrics_auth
    if args.health_probe_bind_address is not None:
        config.health.health_probe_bind_address = args.health_probe_bind_address
    if args.leader_elect is not None:
        config.leader_election.leader_elect = args.leader_elect
    if args.kube_api_qps is not None:
        config.client_connection.qps = args.kube_api_qps
    if args.kube_api_burst is not None:
        config.client_connection.burst = args.kube_api_burst
    return config


def log_settings(args: argparse.Namespace) -> tuple[str, str]:
    """(format, level) for `logs.configure` from the zap-style flags."""
    encoder = args.zap_encoder or ("console" if args.zap_devel else "json")
    level = args.zap_log_level or ("debug" if args.zap_devel else "info")
    return ("text" if encoder == "console" else "json"), level
