"""engine.sources.yaml: data, positions, and errors that name file:line:col."""

from __future__ import annotations

import pathlib

import pytest

from engine.sources import yaml as sources_yaml

TEXT = """\
kind: RulePack
spec:
  rules:
    - name: first
      when: |
        has(object.spec)
        && true
    - name: second
      when: "object.x == 1"
---
---
created: 2021-01-01
"""


def test_multi_document_data_and_empty_documents_dropped() -> None:
    documents = sources_yaml.load_text(TEXT, filename="pack.yaml")
    assert [d.index for d in documents] == [0, 2]
    assert documents[0].data["spec"]["rules"][1] == {"name": "second", "when": "object.x == 1"}
    assert documents[1].data == {"created": "2021-01-01"}, "timestamps stay strings"


def test_positions_are_one_based_and_point_at_keys() -> None:
    document = sources_yaml.load_text(TEXT, filename="pack.yaml")[0]
    assert document.locate(()) == (1, 1)
    assert document.locate(("spec",)) == (2, 1)
    assert document.locate(("spec", "rules", 1)) == (8, 7)
    assert document.locate(("spec", "rules", 1, "when")) == (9, 7)


def test_locate_falls_back_to_the_nearest_existing_parent() -> None:
    document = sources_yaml.load_text(TEXT, filename="pack.yaml")[0]
    assert document.locate(("spec", "rules", 1, "missing", 4)) == (8, 7)
    assert document.locate(("nothing",)) == (1, 1)
    assert document.describe(("spec", "rules", 0, "name")) == "pack.yaml:4:7"


def test_positions_inside_scalars_map_to_the_file() -> None:
    document = sources_yaml.load_text(TEXT, filename="pack.yaml")[0]
    # block scalar: line 2 of the expression is file line 7, indented 8 spaces
    assert document.locate_in_scalar(("spec", "rules", 0, "when"), 2, 4) == (7, 12)
    # double-quoted: column 1 of the expression is just after the quote
    assert document.locate_in_scalar(("spec", "rules", 1, "when"), 1, 1) == (9, 14)


def test_aliases_share_data_and_non_string_keys_become_strings() -> None:
    data = sources_yaml.load_text("a: &x {k: 1}\nb: *x\n1: 2\ntrue: 3\n")[0].data
    assert data == {"a": {"k": 1}, "b": {"k": 1}, "1": 2, "true": 3}


@pytest.mark.parametrize(("text", "where", "message"), [
    ("a: 1\nb: 2\na: 3\n", "3:1", "duplicate key 'a'"),
    ("a: [1,\n", "2:1", "YAML syntax error"),
    ("a:\n  b: 1\n c: 2\n", "3:2", "YAML syntax error"),
    ("a: &x [*x]\n", "1:4", "recursive alias"),
    ("base: &b {x: 1}\nc:\n  <<: *b\n", "3:3", "merge keys"),
    ("a: !!binary aGVsbG8=\n", "1:4", "unsupported YAML type"),
    ("a: !custom 3\n", "1:4", "cannot read value"),
    ("[a]: 1\n", "1:1", "mapping keys must be scalars"),
])
def test_bad_yaml_is_an_error_at_file_line_col(text: str, where: str, message: str) -> None:
    with pytest.raises(sources_yaml.SourceError) as caught:
        sources_yaml.load_text(text, filename="bad.yaml")
    assert str(caught.value).startswith(f"bad.yaml:{where}: ")
    assert message in caught.value.message


def test_documents_over_the_size_limit_are_refused() -> None:
    text = "small: 1\n---\nbig: " + "x" * 200 + "\n"
    with pytest.raises(sources_yaml.SourceError) as caught:
        sources_yaml.load_text(text, filename="big.yaml", max_bytes=100)
    assert caught.value.line == 3
    assert "larger than 100 bytes" in caught.value.message
    assert len(sources_yaml.load_text(text, max_bytes=1000)) == 2


def test_load_file_names_the_file(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("a: 1\na: 1\n")
    with pytest.raises(sources_yaml.SourceError) as caught:
        sources_yaml.load_file(path)
    assert caught.value.filename == str(path)
    with pytest.raises(sources_yaml.SourceError, match="cannot read"):
        sources_yaml.load_file(tmp_path / "missing.yaml")


def test_format_path_uses_kubernetes_notation() -> None:
    assert sources_yaml.format_path(("spec", "rules", 3, "when")) == "spec.rules[3].when"
    assert sources_yaml.format_path((0, "a")) == "[0].a"
    assert sources_yaml.format_path(()) == ""
