"""The pure parts of the pack reloader: directory fingerprints, ConfigMap materialisation, naming, layering."""

from __future__ import annotations

import ast
import pathlib

from engine.kube import packreload
from engine.rules import loading

ROOT = pathlib.Path(__file__).resolve().parents[3]


def config_map(name: str, data: dict[str, str]) -> dict[str, object]:
    return {"metadata": {"name": name, "namespace": "jobset-system", "uid": f"uid-{name}"}, "data": data}


def test_the_fingerprint_changes_with_content_not_with_a_rewrite_of_the_same_bytes(tmp_path: pathlib.Path) -> None:
    pack = tmp_path / "a" / "pack.yaml"
    pack.parent.mkdir()
    pack.write_text("one")
    first = packreload.fingerprint([tmp_path])
    pack.write_text("one")
    assert packreload.fingerprint([tmp_path]) == first
    pack.write_text("two")
    assert packreload.fingerprint([tmp_path]) != first


def test_the_fingerprint_sees_added_and_removed_files_and_missing_directories(tmp_path: pathlib.Path) -> None:
    empty = packreload.fingerprint([tmp_path])
    (tmp_path / "pack.yaml").write_text("x")
    added = packreload.fingerprint([tmp_path])
    assert added != empty
    (tmp_path / "pack.yaml").unlink()
    assert packreload.fingerprint([tmp_path]) == empty
    assert packreload.fingerprint([tmp_path / "gone"]) != packreload.fingerprint([tmp_path])


def test_materialise_writes_the_pack_and_its_tests_keys_and_ignores_other_keys(tmp_path: pathlib.Path) -> None:
    found = packreload.materialise([config_map("retry", {
        "pack.yaml": "kind: RulePack\n", "tests-basic.yaml": "cases: []\n", "README": "notes"})], tmp_path)
    assert found == []
    assert (tmp_path / "retry" / loading.PACK_FILE).read_text() == "kind: RulePack\n"
    assert (tmp_path / "retry" / "tests" / "basic.yaml").read_text() == "cases: []\n"
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()) == [
        "retry/pack.yaml", "retry/tests/basic.yaml"]
    assert loading.pack_dirs(tmp_path) == [tmp_path / "retry"]


def test_materialise_removes_what_no_configmap_holds_any_more(tmp_path: pathlib.Path) -> None:
    packreload.materialise([config_map("a", {"pack.yaml": "a", "tests-t.yaml": "t"}),
                            config_map("b", {"pack.yaml": "b"})], tmp_path)
    packreload.materialise([config_map("a", {"pack.yaml": "a2"})], tmp_path)
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")) == ["a", "a/pack.yaml"]
    assert (tmp_path / "a" / "pack.yaml").read_text() == "a2"


def test_materialise_leaves_unchanged_files_alone(tmp_path: pathlib.Path) -> None:
    packreload.materialise([config_map("a", {"pack.yaml": "same"})], tmp_path)
    before = (tmp_path / "a" / "pack.yaml").stat().st_mtime_ns
    packreload.materialise([config_map("a", {"pack.yaml": "same"})], tmp_path)
    assert (tmp_path / "a" / "pack.yaml").stat().st_mtime_ns == before


def test_a_configmap_without_a_pack_is_a_problem_named_by_its_key(tmp_path: pathlib.Path) -> None:
    found = packreload.materialise([config_map("empty", {"tests-x.yaml": "cases: []"})], tmp_path)
    assert [str(p) for p in found] == [
        "configmaps/jobset-system/empty/pack.yaml:1:1: the ConfigMap has no pack.yaml key"]
    assert list(tmp_path.iterdir()) == []


def test_source_name_names_the_configmap_and_key() -> None:
    assert packreload.source_name(config_map("retry", {}), "tests-basic.yaml") == \
        "configmaps/jobset-system/retry/tests-basic.yaml"


def test_the_reloader_stays_below_the_planner_and_the_webhooks() -> None:
    tree = ast.parse((ROOT / "engine" / "kube" / "packreload.py").read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    engine = {module for module in imported if module.startswith("engine")}
    assert engine <= {"engine.kube", "engine.rules"}, engine
