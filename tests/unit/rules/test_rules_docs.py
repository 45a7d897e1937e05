"""docs/rule-packs.md stays true: its pack examples load and compile, and the worked example is the shipped one."""

from __future__ import annotations

import pathlib
import re

import yaml

from engine.cel import evaluator
from engine.rules import compiling, documents, loading
from engine.sources import yaml as sources_yaml
from rules_fixtures import backend  # noqa: F401  (pytest fixtures)

ROOT = pathlib.Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "rule-packs.md"


def pack_blocks() -> list[str]:
    blocks = re.findall(r"```yaml\n(.*?)```", DOC.read_text(), re.DOTALL)
    return [block for block in blocks if "kind: RulePack\n" in block]


def test_the_doc_shows_the_pack_document_and_the_worked_example() -> None:
    assert len(pack_blocks()) == 2


def test_every_pack_in_the_doc_loads_and_compiles(backend: evaluator.Backend) -> None:
    for block in pack_blocks():
        document = sources_yaml.load_text(block, filename="docs/rule-packs.md")[0]
        pack, found = documents.read_pack(document)
        assert pack is not None, [str(p) for p in found]
        compiled, found = compiling.compile_pack(pack, backend)
        assert compiled is not None, [str(p) for p in found]


def test_the_worked_example_is_the_shipped_operator_pack_6() -> None:
    shown = yaml.safe_load(pack_blocks()[1])
    shipped, found = loading.read_pack_dir(ROOT / "examples" / "operator-pack")
    assert shipped is not None, found
    shipped_spec = shipped.source.data["spec"]
    assert [i["name"] for i in shown["spec"]["inputs"]] == [i.name for i in shipped.inputs]
    for key in ("phase", "subject", "targets", "evaluation", "variables", "actions"):
        assert shown["spec"][key] == shipped_spec[key], key
    assert shown["spec"]["rules"][0]["action"] == shipped_spec["rules"][0]["action"]
    assert shown["spec"]["rules"][0]["when"] == shipped_spec["rules"][0]["when"]
