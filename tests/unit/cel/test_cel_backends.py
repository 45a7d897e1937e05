"""Backend selection: default, environment variable, unknown names."""

import types

import pytest

from engine.cel import backends


def test_default_backend_is_celexpr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(backends.ENV_VAR, raising=False)
    assert backends.get_backend().name == "celexpr"


def test_environment_variable_selects_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in backends.available_backends():
        monkeypatch.setenv(backends.ENV_VAR, name)
        assert backends.get_backend().name == name


def test_explicit_name_wins_over_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(backends.ENV_VAR, "nonsense")
    assert backends.get_backend("celexpr").name == "celexpr"


def test_unknown_backend_names_the_valid_ones() -> None:
    with pytest.raises(ValueError) as caught:
        backends.get_backend("cel-rust")
    assert "cel-rust" in str(caught.value)
    for name in backends.available_backends():
        assert name in str(caught.value)


def test_default_is_listed_first() -> None:
    assert backends.available_backends()[0] == backends.DEFAULT


def test_all_is_sorted_and_lists_the_public_names() -> None:
    public = {name for name, value in vars(backends).items()
              if not name.startswith("_") and not isinstance(value, types.ModuleType)}
    public.discard("annotations")  # `from __future__ import annotations`, not API
    assert backends.__all__ == sorted(backends.__all__)
    assert set(backends.__all__) == public


def test_environments_are_built_once_per_variables_and_limits() -> None:
    for name in backends.available_backends():
        backend = backends.get_backend(name)
        assert backend.environment(("a",)) is backend.environment(("a",))
        assert backend.environment(("a",)) is not backend.environment(("a", "b"))
