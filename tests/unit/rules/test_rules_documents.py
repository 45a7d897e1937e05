"""Pack documents: the schema and the checks it cannot express, each at file:line:col (§2, §3)."""

from __future__ import annotations

import pathlib
from collections.abc import Callable

import pytest

from engine.rules import documents, loading
from rules_fixtures import backend, problems_of, write_pack  # noqa: F401  (pytest fixtures)

ProblemsOf = Callable[[str, str], list[str]]


def only(found: list[str]) -> str:
    assert len(found) == 1, found
    return found[0]


def test_unknown_fields_are_errors_at_the_key(problems_of: ProblemsOf) -> None:
    found = only(problems_of("p", """\
        phase: validate
        inputs: [{name: object}]
        rules:
          - name: r
            assert: "true"
            message: m
            colour: blue
        """))
    assert "/p/pack.yaml:14:7: spec.rules[0].colour: unknown field 'colour'" in found


def test_wrong_types_and_enums_name_the_field(problems_of: ProblemsOf) -> None:
    found = problems_of("p", """\
        phase: sometimes
        inputs: [{name: object}]
        rules:
          - name: r
            when: 3
        """)
    assert any(":8:3: spec.phase: 'sometimes' is not one of" in f for f in found), found
    assert any(":12:7: spec.rules[0].when: 3 is not of type 'string'" in f for f in found), found


def test_missing_required_fields_are_reported(tmp_path: pathlib.Path) -> None:
    directory = tmp_path / "p"
    directory.mkdir()
    (directory / "pack.yaml").write_text("apiVersion: rules.jobset.x-k8s.io/v1alpha1\nkind: RulePack\n"
                                         "metadata: {name: p}\n")
    pack, found = loading.read_pack_dir(directory)
    assert pack is None
    assert [f"{p.line}:{p.field}: {p.message}" for p in found] == [
        "1:: 'spec' is required", "3:metadata: 'version' is required"]


@pytest.mark.parametrize(("phase", "rule", "message"), [
    ("validate", "patch: [{op: add, path: /a, value: 1}]", "'patch' is not allowed in phase validate"),
    ("default", "assert: 'true'", "'assert' is not allowed in phase default (use patch)"),
    ("failure", "when: 'true'", "rule has no effect: give it 'action'"),
    ("default", "message: hi\n    patch: [{op: remove, path: /a}]", "'message' is only for validate rules"),
    ("validate", "assert: 'true'\n    assertions: '[]'", "exactly one effect key"),
    ("validate", "assert: 'true'\n    field: a\n    fieldExpression: \"'a'\"", "either 'field' or 'fieldExpression'"),
    ("default", "patch: [{op: add, path: /a}]", "'add' needs exactly one of 'value' and 'valueExpression'"),
    ("default", "patch: [{op: remove, path: /a, value: 1}]", "'remove' takes no value"),
    ("default", "patch: [{op: add, value: 1}]", "give exactly one of 'path' and 'pathExpression'"),
    ("failure", "action: {type: Nope}", "action type 'Nope' is not declared"),
])
def test_effect_keys_must_fit_the_phase_2_1(problems_of: ProblemsOf, phase: str, rule: str, message: str) -> None:
    actions = "actions: [{type: Stop, params: [why]}]\n" if phase == "failure" else ""
    found = only(problems_of("p", f"phase: {phase}\ninputs: [{{name: object}}]\n{actions}rules:\n  - name: r\n    {rule}\n"))
    assert message in found
    assert found.endswith("[p/r]")


def test_action_params_must_be_declared_2_7(problems_of: ProblemsOf) -> None:
    found = only(problems_of("p", """\
        phase: failure
        inputs: [{name: object}]
        actions: [{type: Stop, params: [why]}]
        rules:
          - name: r
            action: {type: Stop, params: {why: "'x'", how: "'y'"}}
        """))
    assert "param 'how' is not declared for Stop (declared: why)" in found


def test_names_must_be_unique_and_the_subject_declared(problems_of: ProblemsOf) -> None:
    found = problems_of("p", """\
        phase: validate
        subject: thing
        inputs: [{name: object}, {name: object}, {name: item}]
        variables: [{name: object, expression: "1"}]
        rules:
          - {name: r, assert: "true"}
          - {name: r, assert: "true"}
        """)
    text = "\n".join(found)
    for message in ["duplicate input name 'object'", "duplicate rule name 'r'", "subject 'thing' is not a declared input",
                    "variable 'object' shadows an input", "input 'item' is reserved for forEach"]:
        assert message in text, text


def test_engine_constraint_must_accept_this_engine(write_pack: Callable[..., pathlib.Path]) -> None:
    directory = write_pack("p", "phase: validate\ninputs: [{name: object}]\nrules: []\n")
    path = directory / "pack.yaml"
    path.write_text(path.read_text().replace(">=1.0.0, <2.0.0", ">=2.0.0"))
    pack, found = loading.read_pack_dir(directory)
    assert pack is None
    assert found[0].line == 7 and "engine API 1.0.0 does not satisfy '>=2.0.0'" in found[0].message


@pytest.mark.parametrize(("constraint", "accepted"), [
    (">=1.0.0, <2.0.0", True), ("1.0.0", True), ("==1.0.0", True), (">1.0.0", False), ("<1.0.0", False),
    ("<=1.0.0", True), ("bad", False),
])
def test_engine_accepts(constraint: str, accepted: bool) -> None:
    assert documents.engine_accepts(constraint) is accepted


def test_defaults_of_a_pack_document(write_pack: Callable[..., pathlib.Path]) -> None:
    pack, _ = loading.read_pack_dir(write_pack("p", """\
        phase: failure
        inputs: [{name: object, required: true}]
        actions: [{type: Stop}]
        rules: [{name: r, action: {type: Stop}}]
        """))
    assert pack is not None
    assert (pack.subject, pack.evaluation, pack.failure_policy, pack.budget_ms) == ("object", "firstMatch", "Fail", 100)
    assert pack.id == "p@1.0.0" and pack.rules[0].where == ("spec", "rules", 0)
    assert pack.inputs == (documents.Input("object", True),)
    assert len(pack.digest) == 64
