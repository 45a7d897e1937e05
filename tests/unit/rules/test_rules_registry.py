"""Loading directories and the active set: order, precedence, atomic swap, last good version (§3)."""

from __future__ import annotations

import pathlib
from collections.abc import Callable

from engine.cel import evaluator
from engine.rules import loading, registry
from rules_fixtures import backend, write_pack  # noqa: F401  (pytest fixtures)

WritePack = Callable[..., pathlib.Path]

LABEL = """\
phase: default
inputs: [{{name: object, required: true}}]
rules:
  - name: label
    patch: [{{op: add, path: /metadata/labels/{key}, value: "{value}"}}]
"""


def test_packs_load_in_name_order_per_directory_then_by_directory_order_3(
        tmp_path: pathlib.Path, write_pack: WritePack) -> None:
    builtin, extra = tmp_path / "builtin", tmp_path / "extra"
    for name in ["b-pack", "a-pack"]:
        write_pack(name, LABEL.format(key=name, value="builtin"), root=builtin)
    write_pack("c-pack", LABEL.format(key="c", value="extra"), root=extra)
    loaded = loading.load([builtin, extra])
    assert [p.name for p in loaded.packs] == ["a-pack", "b-pack", "c-pack"]
    assert loaded.problems == () and loaded.rejected == ()


def test_a_pack_with_the_same_name_replaces_the_earlier_one_in_place_3(
        tmp_path: pathlib.Path, write_pack: WritePack, backend: evaluator.Backend) -> None:
    builtin, extra = tmp_path / "builtin", tmp_path / "extra"
    write_pack("a-pack", LABEL.format(key="a", value="builtin"), root=builtin)
    write_pack("b-pack", LABEL.format(key="b", value="builtin"), root=builtin)
    write_pack("a-pack", LABEL.format(key="a", value="operator"), version="2.0.0", root=extra)
    active = registry.Registry(backend)
    assert active.load([builtin, extra]) == []
    assert [p.pack.id for p in active.snapshot.packs] == ["a-pack@2.0.0", "b-pack@1.0.0"]
    result = active.evaluate_phase("default", {"object": {"metadata": {}}})
    assert result.subject["metadata"]["labels"] == {"a": "operator", "b": "builtin"}


def test_patch_phases_chain_the_subject_through_packs(
        tmp_path: pathlib.Path, write_pack: WritePack, backend: evaluator.Backend) -> None:
    write_pack("first", LABEL.format(key="one", value="1"), root=tmp_path / "r")
    write_pack("second", """\
phase: default
inputs: [{name: object, required: true}]
rules:
  - name: copy
    patch: [{op: add, path: /metadata/copy, valueExpression: "object.metadata.labels.one"}]
""", root=tmp_path / "r")
    active = registry.Registry(backend)
    active.load([tmp_path / "r"])
    result = active.evaluate_phase("default", {"object": {"metadata": {}}})
    assert result.subject["metadata"]["copy"] == "1"
    assert [o.origin for o in result.operations] == ["first@1.0.0/label", "first@1.0.0/label", "second@1.0.0/copy"]
    assert active.evaluate_phase("validate", {"object": {"k": 1}}).subject == {"k": 1}


def test_a_rejected_pack_keeps_its_previous_version_in_force_3(
        tmp_path: pathlib.Path, write_pack: WritePack, backend: evaluator.Backend) -> None:
    root = tmp_path / "r"
    directory = write_pack("p", LABEL.format(key="v", value="one"), root=root)
    active = registry.Registry(backend)
    assert active.load([root]) == []
    before = active.snapshot
    (directory / "pack.yaml").write_text((directory / "pack.yaml").read_text()
                                         .replace("version: 1.0.0", "version: 1.1.0")
                                         .replace("value: \"one\"", "valueExpression: \"undefined_name\""))
    found = active.load([root])
    assert len(found) == 1 and "undeclared reference to 'undefined_name'" in found[0].message
    assert active.snapshot.get("p") is before.get("p"), "version 1.0.0 stays in force"
    assert active.evaluate_phase("default", {"object": {"metadata": {}}}).subject["metadata"]["labels"] == {"v": "one"}
    (directory / "pack.yaml").write_text("kind: [broken\n")
    found = active.load([root])
    assert found[0].line == 2 and "YAML syntax error" in found[0].message
    assert active.snapshot.get("p") is before.get("p")


def test_a_rejected_pack_never_loaded_before_is_absent(
        tmp_path: pathlib.Path, write_pack: WritePack, backend: evaluator.Backend) -> None:
    root = tmp_path / "r"
    write_pack("good", LABEL.format(key="g", value="1"), root=root)
    write_pack("bad", "phase: default\nrules: oops\n", root=root)
    active = registry.Registry(backend)
    found = active.load([root])
    assert [p.field for p in found] == ["spec.rules"]
    assert [p.pack.name for p in active.snapshot.packs] == ["good"]


def test_an_unchanged_pack_is_not_recompiled(
        tmp_path: pathlib.Path, write_pack: WritePack, backend: evaluator.Backend) -> None:
    write_pack("p", LABEL.format(key="v", value="one"), root=tmp_path / "r")
    active = registry.Registry(backend)
    active.load([tmp_path / "r"])
    first = active.snapshot.get("p")
    active.load([tmp_path / "r"])
    assert active.snapshot.get("p") is first


def test_bad_directories_and_files_are_problems_not_crashes(tmp_path: pathlib.Path) -> None:
    (tmp_path / "multi").mkdir()
    (tmp_path / "multi" / "pack.yaml").write_text("a: 1\n---\nb: 2\n")
    loaded = loading.load([tmp_path / "missing", tmp_path / "multi"])
    assert [p.message for p in loaded.problems] == [
        "rules directory does not exist", "a pack file holds exactly one document, found 2"]
    assert loaded.rejected == ("multi",)


def test_builtin_directory_is_beside_the_engine_package() -> None:
    assert loading.builtin_directory() == pathlib.Path(__file__).resolve().parents[3] / "rules"


def test_an_operator_pack_that_fails_to_compile_leaves_the_builtin_in_force_3(
        tmp_path: pathlib.Path, write_pack: WritePack, backend: evaluator.Backend) -> None:
    builtin, extra = tmp_path / "builtin", tmp_path / "extra"
    write_pack("a-pack", LABEL.format(key="a", value="builtin"), root=builtin)
    write_pack("a-pack", LABEL.format(key="a", value="operator").replace('value: "operator"', 'valueExpression: "nope"'),
               version="2.0.0", root=extra)
    active = registry.Registry(backend)
    found = active.load([builtin, extra])
    assert [p.message for p in found] == ["undeclared reference to 'nope'"]
    assert [p.pack.id for p in active.snapshot.packs] == ["a-pack@1.0.0"]


def test_decision_phases_consult_operator_packs_first_and_stop_at_the_first_decision_3(
        tmp_path: pathlib.Path, write_pack: WritePack, backend: evaluator.Backend) -> None:
    decide = """\
phase: failure
inputs: [{{name: object, required: true}}]
actions: [{{type: Say, params: [who]}}]
rules:
  - {{name: say, when: "{when}", action: {{type: Say, params: {{who: "'{who}'"}}}}}}
"""
    builtin, ops = tmp_path / "builtin", tmp_path / "ops"
    write_pack("builtin-decides", decide.format(when="true", who="builtin"), root=builtin)
    write_pack("operator-decides", decide.format(when="object.x == 1", who="operator"), root=ops)
    active = registry.Registry(backend)
    assert active.load([builtin, ops]) == []
    assert [p.pack.name for p in active.snapshot.by_phase("failure")] == ["operator-decides", "builtin-decides"]
    chosen = active.evaluate_phase("failure", {"object": {"x": 1}})
    assert [a.params["who"] for a in chosen.actions] == ["operator"]
    assert {t.origin.split("@")[0] for t in chosen.trace} == {"operator-decides"}, "the built-in pack did not run"
    assert [a.params["who"] for a in active.evaluate_phase("failure", {"object": {"x": 2}}).actions] == ["builtin"]
    assert active.load([ops, builtin]) == []
    assert [p.pack.name for p in active.snapshot.by_phase("failure")] == ["builtin-decides", "operator-decides"]
