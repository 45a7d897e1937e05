"""The Configuration file and flags (spec §14.1, §14.2) and feature gates (spec §4)."""

import argparse
import pathlib

import pytest

from engine.kube import configuration, featuregates


def write(tmp_path: pathlib.Path, text: str) -> pathlib.Path:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


HEADER = "apiVersion: config.jobset.x-k8s.io/v1alpha1\nkind: Configuration\n"


def test_defaults_without_a_file_match_spec_14_1() -> None:
    config = configuration.load(None)
    assert config.webhook.port == 9443
    assert config.metrics.bind_address == ":8443"
    assert config.health.health_probe_bind_address == ":8081"
    election = config.leader_election
    assert (election.leader_elect, election.resource_name, election.resource_lock) == (
        True, "6d4f6a47.jobset.x-k8s.io", "leases")
    assert (election.lease_duration, election.renew_deadline, election.retry_period) == (15.0, 10.0, 2.0)
    assert config.internal_cert_management.webhook_service_name == "jobset-webhook-service"
    assert config.internal_cert_management.webhook_secret_name == "jobset-webhook-server-cert"
    assert (config.client_connection.qps, config.client_connection.burst) == (500.0, 500)
    assert config.tls is None
    assert config.gates().enabled("TLSOptions") and not config.gates().enabled("InPlaceRestart")


def test_defaults_fill_what_a_file_leaves_out_spec_14_1(tmp_path: pathlib.Path) -> None:
    path = write(tmp_path, HEADER + "leaderElection:\n  leaseDuration: 1m30s\nclientConnection:\n  qps: 50\n")
    config = configuration.load(path)
    assert config.leader_election.lease_duration == 90.0
    assert config.leader_election.renew_deadline == 10.0
    assert config.client_connection.qps == 50.0 and config.client_connection.burst == 500


def test_unknown_field_fails_with_its_path_and_file_spec_14_1(tmp_path: pathlib.Path) -> None:
    path = write(tmp_path, HEADER + "webhook:\n  invalidField: 1\n")
    expected = r'config.yaml: webhook.invalidField: unknown field "invalidField"'
    with pytest.raises(configuration.ConfigurationError, match=expected):
        configuration.load(path)


def test_wrong_types_and_bad_yaml_are_clear_errors(tmp_path: pathlib.Path) -> None:
    with pytest.raises(configuration.ConfigurationError, match=r"clientConnection.burst: expected int, got str"):
        configuration.load(write(tmp_path, HEADER + "clientConnection:\n  burst: lots\n"))
    with pytest.raises(configuration.ConfigurationError, match=r"config.yaml:4:1: not valid YAML"):
        configuration.load(write(tmp_path, HEADER + "webhook: [\n"))
    with pytest.raises(configuration.ConfigurationError, match=r"leaderElection.retryPeriod: invalid duration"):
        configuration.load(write(tmp_path, HEADER + "leaderElection:\n  retryPeriod: soon\n"))
    with pytest.raises(configuration.ConfigurationError, match="expected apiVersion"):
        configuration.load(write(tmp_path, "apiVersion: v1\nkind: ConfigMap\n"))
    with pytest.raises(configuration.ConfigurationError, match="cannot read"):
        configuration.load(tmp_path / "missing.yaml")


def test_cert_names_validated_only_when_internal_certs_enabled_spec_14_1(tmp_path: pathlib.Path) -> None:
    bad = "internalCertManagement:\n  enable: {enable}\n  webhookServiceName: 0-invalid\n  webhookSecretName: ':)'\n"
    with pytest.raises(configuration.ConfigurationError) as raised:
        configuration.load(write(tmp_path, HEADER + bad.format(enable="true")))
    assert "internalCertManagement.webhookServiceName" in str(raised.value)
    assert "internalCertManagement.webhookSecretName" in str(raised.value)
    config = configuration.load(write(tmp_path, HEADER + bad.format(enable="false")))
    assert config.internal_cert_management.webhook_service_name == "0-invalid"


def test_disabled_cert_management_leaves_names_undefaulted_spec_14_1(tmp_path: pathlib.Path) -> None:
    config = configuration.load(write(tmp_path, HEADER + "internalCertManagement:\n  enable: false\n"))
    assert config.internal_cert_management.webhook_service_name == ""


@pytest.mark.parametrize("tls, error", [
    ("{}", None),
    ("{minVersion: VersionTLS13}", None),
    ("{minVersion: VersionTLS12, cipherSuites: []}", None),
    ("{minVersion: VersionTLS12, cipherSuites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]}", None),
    ("{minVersion: VersionTLS10}", r"tls: Invalid value: minVersion VersionTLS10 is not supported"),
    ("{minVersion: VersionTLS11}", r"tls: Invalid value: minVersion VersionTLS11"),
    ("{minVersion: TLS9}", r"tls: Invalid value: unknown minVersion 'TLS9'"),
    ("{cipherSuites: [NOPE]}", r"tls: Invalid value: unknown cipher suites NOPE"),
    ("{minVersion: TLS9, cipherSuites: [NOPE]}", r"unknown minVersion 'TLS9'; unknown cipher suites NOPE"),
    ("{minVersion: VersionTLS13, cipherSuites: [TLS_AES_128_GCM_SHA256]}", r"tls.cipherSuites: Forbidden"),
])
def test_tls_section_validation_spec_14_1(tmp_path: pathlib.Path, tls: str, error: str | None) -> None:
    path = write(tmp_path, HEADER + f"tls: {tls}\n")
    if error is None:
        assert configuration.load(path).tls is not None
    else:
        with pytest.raises(configuration.ConfigurationError, match=error):
            configuration.load(path)


def test_unknown_or_locked_feature_gates_fail_startup_spec_4(tmp_path: pathlib.Path) -> None:
    with pytest.raises(configuration.ConfigurationError, match="unrecognized feature gate: Teleport"):
        configuration.load(write(tmp_path, HEADER + "featureGates:\n  Teleport: true\n"))
    with pytest.raises(configuration.ConfigurationError, match="locked to true"):
        configuration.load(write(tmp_path, HEADER + "featureGates:\n  TLSOptions: false\n"))
    config = configuration.load(write(tmp_path, HEADER + "featureGates:\n  InPlaceRestart: true\n"))
    assert config.gates().enabled("InPlaceRestart")


def test_feature_gates_by_upstream_names_spec_4() -> None:
    gates = featuregates.build({"RestartJob": True, "ElasticJobSet": False})
    assert gates.values == {"ElasticJobSet": False, "InPlaceRestart": False, "RestartJob": True, "TLSOptions": True}
    with pytest.raises(featuregates.FeatureGateError, match="value must be true or false"):
        featuregates.build({"RestartJob": "yes"})


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    configuration.add_flags(parser)
    return parser.parse_args(argv)


def test_flags_override_the_file_only_when_given_spec_14_2(tmp_path: pathlib.Path) -> None:
    path = write(tmp_path, HEADER + "leaderElection:\n  leaderElect: false\nmetrics:\n  bindAddress: ':9999'\n"
                 "clientConnection:\n  qps: 7\n")
    config = configuration.resolve(parse(["--config", str(path)]))
    assert (config.leader_election.leader_elect, config.metrics.bind_address, config.client_connection.qps) == (
        False, ":9999", 7.0)
    config = configuration.resolve(parse(["--config", str(path), "--leader-elect", "--metrics-bind-address", "0",
                                          "--kube-api-qps", "20", "--kube-api-burst", "30",
                                          "--health-probe-bind-address", ":1"]))
    assert config.leader_election.leader_elect is True
    assert config.metrics.bind_address == "0"
    assert (config.client_connection.qps, config.client_connection.burst) == (20.0, 30)
    assert config.health.health_probe_bind_address == ":1"


def test_logging_flags_default_to_development_mode() -> None:
    assert configuration.log_settings(parse([])) == ("text", "debug")
    assert configuration.log_settings(parse(["--no-zap-devel"])) == ("json", "info")
    explicit = parse(["--zap-encoder", "json", "--zap-log-level", "error"])
    assert configuration.log_settings(explicit) == ("json", "error")


@pytest.mark.parametrize("text, seconds", [("15s", 15.0), ("1m30s", 90.0), ("500ms", 0.5), ("1h", 3600.0),
                                           ("1.5s", 1.5), ("0", 0.0)])
def test_go_durations(text: str, seconds: float) -> None:
    assert configuration.parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "15", "s", "15x", "1m junk"])
def test_malformed_durations(text: str) -> None:
    with pytest.raises(ValueError, match="invalid duration"):
        configuration.parse_duration(text)


def test_duplicate_fields_fail_with_file_and_line_spec_14_1(tmp_path: pathlib.Path) -> None:
    path = write(tmp_path, HEADER + "webhook:\n  port: 1\n  port: 2\n")
    expected = r"config.yaml:5:3: not valid YAML: duplicate field 'port'"
    with pytest.raises(configuration.ConfigurationError, match=expected):
        configuration.load(path)
