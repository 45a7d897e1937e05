"""Loading a kubeconfig through the `kubernetes` loaders, and the user agent of spec §14.6."""

import pathlib
import re

import pytest
import yaml

from kubernetes.config import incluster_config

from engine.kube import connection, tlsconfig


def kubeconfig(tmp_path: pathlib.Path, server: str, user: dict) -> pathlib.Path:
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "here",
        "clusters": [{"name": "c", "cluster": {"server": server}}],
        "users": [{"name": "u", "user": user}],
        "contexts": [{"name": "here", "context": {"cluster": "c", "user": "u"}}],
    }))
    return path


def test_kubeconfig_gives_host_token_and_rate_limit(tmp_path: pathlib.Path) -> None:
    path = kubeconfig(tmp_path, "http://127.0.0.1:6443/", {"token": "s3cret"})
    conn = connection.from_kubeconfig(str(path), qps=5, burst=7)
    assert conn.host == "http://127.0.0.1:6443"
    assert conn.ssl_context is None
    assert (conn.qps, conn.burst) == (5, 7)
    assert (conn.authorization() or conn.headers()["Authorization"]) == "Bearer s3cret"
    assert conn.headers()["User-Agent"].startswith("jobset/")


def test_https_kubeconfig_without_verification_builds_a_permissive_context(tmp_path: pathlib.Path) -> None:
    path = kubeconfig(tmp_path, "https://127.0.0.1:6443", {})
    raw = yaml.safe_load(path.read_text())
    raw["clusters"][0]["cluster"]["insecure-skip-tls-verify"] = True
    path.write_text(yaml.safe_dump(raw))
    conn = connection.from_kubeconfig(str(path))
    assert conn.ssl_context is not None and conn.ssl_context.check_hostname is False
    assert "Authorization" not in conn.headers() and conn.authorization() is None


def test_broken_kubeconfig_is_a_clear_error_naming_the_file(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "kubeconfig"
    path.write_text("apiVersion: v1\nkind: Config\ncontexts: []\n")
    with pytest.raises(connection.ConfigError, match=f"kubeconfig {re.escape(str(path))}"):
        connection.from_kubeconfig(str(path))


def test_in_cluster_outside_a_pod_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    with pytest.raises(connection.ConfigError, match="in-cluster configuration"):
        connection.in_cluster()


def test_in_cluster_reads_the_service_account_token_through_its_refresh_hook(
        tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cert, _ = tlsconfig.self_signed(tmp_path)
    token = tmp_path / "token"
    token.write_text("first")
    monkeypatch.setattr(incluster_config, "SERVICE_TOKEN_FILENAME", str(token))
    monkeypatch.setattr(incluster_config, "SERVICE_CERT_FILENAME", str(cert))
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")
    conn = connection.in_cluster(qps=50, burst=100)
    assert conn.host == "https://10.0.0.1:443" and conn.ssl_context is not None
    assert conn.token_source is not None and "Authorization" not in conn.headers()
    assert conn.authorization() == "bearer first"


@pytest.mark.parametrize("version, commit, expected", [
    ("0.11.0", "0123456789abcdef", r"^jobset/0\.11\.0 \([a-z0-9]+/[a-z0-9_]+\) 0123456$"),
    ("0.11.0-rc.1", "abc", r"^jobset/0\.11\.0 \(.+\) abc$"),
    ("", "", r"^jobset/unknown \(.+\) unknown$"),
])
def test_user_agent_format_spec_14_6(version: str, commit: str, expected: str) -> None:
    assert re.match(expected, connection.user_agent(version, commit))


def test_default_user_agent_uses_the_package_version_spec_14_6() -> None:
    assert re.match(r"^jobset/\d+\.\d+\.\d+ \(linux/(amd64|arm64)\) unknown$", connection.user_agent())
