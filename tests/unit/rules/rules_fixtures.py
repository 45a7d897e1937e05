"""Fixtures for the rules-engine tests (every CEL backend, packs written to disk); test modules import them.

Not a conftest.py: other test directories import their own `conftest` by name."""

from __future__ import annotations

import pathlib
import textwrap
from collections.abc import Callable

import pytest

from engine.cel import backends as cel_backends
from engine.cel import evaluator
from engine.rules import compiling, loading

HEADER = """\
apiVersion: rules.jobset.x-k8s.io/v1alpha1
kind: RulePack
metadata:
  name: {name}
  version: {version}
spec:
  engine: ">=1.0.0, <2.0.0"
"""

WritePack = Callable[..., pathlib.Path]


@pytest.fixture(params=cel_backends.available_backends())
def backend(request: pytest.FixtureRequest) -> evaluator.Backend:
    """Each available CEL backend in turn."""
    return cel_backends.get_backend(request.param)


@pytest.fixture
def write_pack(tmp_path: pathlib.Path) -> WritePack:
    """write_pack(name, spec_body, version=..., root=...) -> the pack directory.

    `spec_body` is the YAML under `spec:` after `engine:`, indented by two spaces.
    """
    def write(name: str, body: str, *, version: str = "1.0.0", root: pathlib.Path | None = None) -> pathlib.Path:
        directory = (root or tmp_path / "packs") / name
        directory.mkdir(parents=True, exist_ok=True)
        text = HEADER.format(name=name, version=version) + textwrap.indent(textwrap.dedent(body), "  ")
        (directory / "pack.yaml").write_text(text)
        return directory
    return write


@pytest.fixture
def compiled(write_pack: WritePack, backend: evaluator.Backend) -> Callable[..., compiling.CompiledPack]:
    """compiled(name, spec_body) -> the compiled pack; fails the test on any problem."""
    def build(name: str, body: str, **options: object) -> compiling.CompiledPack:
        pack, found = loading.read_pack_dir(write_pack(name, body, **options))
        assert pack is not None, [str(p) for p in found]
        result, found = compiling.compile_pack(pack, backend)
        assert result is not None, [str(p) for p in found]
        return result
    return build


@pytest.fixture
def problems_of(write_pack: WritePack, backend: evaluator.Backend) -> Callable[[str, str], list[str]]:
    """problems_of(name, spec_body) -> every load or compile problem, as printed text."""
    def find(name: str, body: str) -> list[str]:
        pack, found = loading.read_pack_dir(write_pack(name, body))
        if pack is not None:
            _, found = compiling.compile_pack(pack, backend)
        return [str(p) for p in found]
    return find
