"""Rule-pack and pack-test documents: checked YAML -> frozen dataclasses.

Owns: `Pack`, `Rule`, `PatchOperation`, `ActionCall` and the other pack values; `TestFile`,
`TestCase`, `Expectation`; `read_pack`/`read_test` (schema from `schemas/`, then the checks a
schema cannot express), each returning the value or the `problems.Problem`s that stop it.
Called by: `engine.rules.loading` (packs and their tests).
Must not import: `model`, `planner`, `kube`, `webhook`, `cel`.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import json
import pathlib
import re
from typing import Any

import jsonschema

from engine.rules import problems
from engine.sources import yaml as sources_yaml

ENGINE_API_VERSION = (1, 0, 0)
SCHEMAS = pathlib.Path(__file__).resolve().parent.parent.parent / "schemas"
FOR_EACH_NAMES = ("item", "index", "indexes", "path")
_CONSTRAINT = re.compile(r"^\s*(>=|<=|>|<|==|=)?\s*(\d+)\.(\d+)\.(\d+)\s*$")


class Phase(enum.StrEnum):
    """When a pack runs, and so which effect its rules have."""

    DEFAULT = "default"
    VALIDATE = "validate"
    CONSTRUCT = "construct"
    STATUS = "status"
    SUCCESS = "success"
    FAILURE = "failure"
    PLACEMENT = "placement"

    @property
    def effect(self) -> str:
        """The one rule key that yields something in this phase."""
        if self in (Phase.DEFAULT, Phase.CONSTRUCT, Phase.STATUS):
            return "patch"
        return "assert" if self is Phase.VALIDATE else "action"


@dataclasses.dataclass(frozen=True)
class Target:
    api_version: str
    kind: str


@dataclasses.dataclass(frozen=True)
class Input:
    name: str
    required: bool


@dataclasses.dataclass(frozen=True)
class Variable:
    name: str
    expression: str


@dataclasses.dataclass(frozen=True)
class ActionType:
    type: str
    params: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class PatchOperation:
    """One operation; exactly one of path/path_expression, of value/value_expression."""

    op: str
    path: str | None
    path_expression: str | None
    value: Any
    value_expression: str | None


@dataclasses.dataclass(frozen=True)
class ActionCall:
    type: str
    params: tuple[tuple[str, str], ...]  # (name, CEL source), in document order


@dataclasses.dataclass(frozen=True)
class Rule:
    """One rule; `index` is its position in `spec.rules`."""

    index: int
    name: str
    description: str
    ref: str
    for_each: str | None
    when: str | None
    patch: tuple[PatchOperation, ...]
    assert_: str | None
    assertions: str | None
    field: str
    field_expression: str | None
    reason: str
    message: str | None
    message_expression: str | None
    action: ActionCall | None

    @property
    def where(self) -> sources_yaml.FieldPath:
        """Field path of this rule inside its pack document."""
        return ("spec", "rules", self.index)


@dataclasses.dataclass(frozen=True, eq=False)
class Pack:
    """A checked pack document; `source` keeps the positions for later diagnostics."""

    name: str
    version: str
    engine: str
    description: str
    phase: Phase
    subject: str
    targets: tuple[Target, ...]
    inputs: tuple[Input, ...]
    evaluation: str
    failure_policy: str
    budget_ms: int
    variables: tuple[Variable, ...]
    actions: tuple[ActionType, ...]
    rules: tuple[Rule, ...]
    source: sources_yaml.Document
    directory: pathlib.Path
    digest: str = ""
    layer: int = 0  # index of the directory it came from (0: the first, usually built-in)

    @property
    def id(self) -> str:
        """`name@version`, the prefix of every origin this pack produces."""
        return f"{self.name}@{self.version}"


@dataclasses.dataclass(frozen=True)
class Expectation:
    """What a case expects; None means "not checked"."""

    object: Any
    checks_object: bool
    errors: tuple[dict[str, Any], ...] | None
    actions: tuple[dict[str, Any], ...] | None
    fired: tuple[str, ...] | None


@dataclasses.dataclass(frozen=True)
class TestCase:
    index: int
    name: str
    ref: str
    inputs: dict[str, Any]
    expect: Expectation


@dataclasses.dataclass(frozen=True, eq=False)
class TestFile:
    name: str
    cases: tuple[TestCase, ...]
    source: sources_yaml.Document


def problem(document: sources_yaml.Document, path: sources_yaml.FieldPath, message: str,
            *, pack: str = "", rule: str = "") -> problems.Problem:
    """A problem placed at `path` of `document` (or its nearest existing parent)."""
    line, column = document.locate(path)
    return problems.Problem(document.filename, line, column, message,
                            field=sources_yaml.format_path(path), pack=pack, rule=rule)


def read_pack(document: sources_yaml.Document) -> tuple[Pack | None, list[problems.Problem]]:
    """Check one pack document; the pack, or None with every problem found."""
    found = _schema_problems(document, "rulepack.schema.json")
    if found:
        return None, found
    pack = _build_pack(document)
    found = _pack_problems(pack)
    return (None, found) if found else (pack, [])


def read_test(document: sources_yaml.Document) -> tuple[TestFile | None, list[problems.Problem]]:
    """Check one pack-test document; the test file, or None with its problems."""
    found = _schema_problems(document, "rulepacktest.schema.json")
    if found:
        return None, found
    raw = document.data
    cases = tuple(_build_case(index, case) for index, case in enumerate(raw["cases"]))
    return TestFile(raw["metadata"]["name"], cases, document), []


def engine_accepts(constraint: str) -> bool:
    """Whether ENGINE_API_VERSION satisfies a constraint such as '>=1.0.0, <2.0.0'."""
    for part in constraint.split(","):
        match = _CONSTRAINT.match(part)
        if match is None:
            return False
        wanted = tuple(int(number) for number in match.group(2, 3, 4))
        operator = match.group(1) or "=="
        if not _compare(ENGINE_API_VERSION, operator, wanted):
            return False
    return True


def _compare(have: tuple[int, ...], operator: str, wanted: tuple[int, ...]) -> bool:
    return {
        ">=": have >= wanted, "<=": have <= wanted, ">": have > wanted,
        "<": have < wanted, "==": have == wanted, "=": have == wanted,
    }[operator]


@functools.cache
def _validator(schema_name: str) -> jsonschema.Draft202012Validator:
    schema = json.loads((SCHEMAS / schema_name).read_text())
    return jsonschema.Draft202012Validator(schema)


def _schema_problems(document: sources_yaml.Document, schema_name: str) -> list[problems.Problem]:
    found: list[problems.Problem] = []
    for error in _validator(schema_name).iter_errors(document.data):
        path = tuple(error.absolute_path)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            known = error.schema.get("properties", {})
            found += [problem(document, path + (key,), f"unknown field {key!r}")
                      for key in error.instance if key not in known]
        else:
            found.append(problem(document, path, _schema_message(error)))
    return sorted(found, key=lambda p: (p.line, p.column, p.message))


def _schema_message(error: jsonschema.ValidationError) -> str:
    if error.validator == "required":
        return error.message.replace("is a required property", "is required")
    if error.validator == "pattern":
        return f"{error.instance!r} does not match {error.validator_value!r}"
    return error.message


def _build_pack(document: sources_yaml.Document) -> Pack:
    raw = document.data
    spec = raw["spec"]
    phase = Phase(spec["phase"])
    decision = phase.effect == "action"
    return Pack(
        name=raw["metadata"]["name"],
        version=raw["metadata"]["version"],
        engine=spec["engine"],
        description=spec.get("description", ""),
        phase=phase,
        subject=spec.get("subject", "object"),
        targets=tuple(Target(t["apiVersion"], t["kind"]) for t in spec.get("targets", [])),
        inputs=tuple(Input(i["name"], i.get("required", False)) for i in spec.get("inputs", [])),
        evaluation=spec.get("evaluation", "firstMatch" if decision else "allMatch"),
        failure_policy=spec.get("failurePolicy", "Fail"),
        budget_ms=spec.get("budget", {}).get("milliseconds", 100),
        variables=tuple(Variable(v["name"], v["expression"]) for v in spec.get("variables", [])),
        actions=tuple(ActionType(a["type"], tuple(a.get("params", []))) for a in spec.get("actions", [])),
        rules=tuple(_build_rule(index, rule) for index, rule in enumerate(spec["rules"])),
        source=document,
        directory=pathlib.Path(document.filename).parent,
    )


def _build_rule(index: int, raw: dict[str, Any]) -> Rule:
    action = raw.get("action")
    return Rule(
        index=index,
        name=raw["name"],
        description=raw.get("description", ""),
        ref=raw.get("ref", ""),
        for_each=raw.get("forEach"),
        when=raw.get("when"),
        patch=tuple(PatchOperation(op["op"], op.get("path"), op.get("pathExpression"),
                                   op.get("value"), op.get("valueExpression"))
                    for op in raw.get("patch", [])),
        assert_=raw.get("assert"),
        assertions=raw.get("assertions"),
        field=raw.get("field", ""),
        field_expression=raw.get("fieldExpression"),
        reason=raw.get("reason", "Invalid"),
        message=raw.get("message"),
        message_expression=raw.get("messageExpression"),
        action=ActionCall(action["type"], tuple(action.get("params", {}).items())) if action else None,
    )


def _pack_problems(pack: Pack) -> list[problems.Problem]:
    """What the schema cannot say: names, effect keys per phase, patch shapes, actions."""
    document, found = pack.source, []
    spec = document.data["spec"]
    if not engine_accepts(pack.engine):
        version = ".".join(map(str, ENGINE_API_VERSION))
        found.append(problem(document, ("spec", "engine"), f"engine API {version} does not satisfy {pack.engine!r}"))
    input_names = [i.name for i in pack.inputs]
    found += _duplicates(document, ("spec", "inputs"), input_names, "input")
    found += _duplicates(document, ("spec", "variables"), [v.name for v in pack.variables], "variable")
    found += _duplicates(document, ("spec", "actions"), [a.type for a in pack.actions], "action type")
    found += _duplicates(document, ("spec", "rules"), [r.name for r in pack.rules], "rule")
    if pack.subject not in input_names:
        found.append(problem(document, ("spec", "subject") if "subject" in spec else ("spec", "inputs"),
                             f"subject {pack.subject!r} is not a declared input"))
    for index, variable in enumerate(pack.variables):
        if variable.name in input_names or variable.name in FOR_EACH_NAMES:
            found.append(problem(document, ("spec", "variables", index, "name"),
                                 f"variable {variable.name!r} shadows an input or a forEach name"))
    for index, name in enumerate(input_names):
        if name in FOR_EACH_NAMES:
            found.append(problem(document, ("spec", "inputs", index, "name"),
                                 f"input {name!r} is reserved for forEach"))
    if pack.actions and pack.phase.effect != "action":
        found.append(problem(document, ("spec", "actions"), f"phase {pack.phase} takes no actions"))
    for rule in pack.rules:
        found += _rule_problems(pack, rule)
    return found


def _duplicates(document: sources_yaml.Document, where: sources_yaml.FieldPath,
                names: list[str], what: str) -> list[problems.Problem]:
    seen: set[str] = set()
    found = []
    for index, name in enumerate(names):
        if name in seen:
            found.append(problem(document, where + (index,), f"duplicate {what} name {name!r}"))
        seen.add(name)
    return found


def _rule_problems(pack: Pack, rule: Rule) -> list[problems.Problem]:
    document, raw = pack.source, pack.source.data["spec"]["rules"][rule.index]
    def at(key: str | None, message: str) -> problems.Problem:
        path = rule.where + ((key,) if key else ())
        return problem(document, path, message, pack=pack.name, rule=rule.name)

    effects = [key for key in ("patch", "assert", "assertions", "action") if key in raw]
    wanted = ("assert", "assertions") if pack.phase is Phase.VALIDATE else (pack.phase.effect,)
    found = [at(key, f"{key!r} is not allowed in phase {pack.phase} (use {' or '.join(wanted)})")
             for key in effects if key not in wanted]
    if not effects:
        found.append(at(None, f"rule has no effect: give it {' or '.join(repr(w) for w in wanted)}"))
    elif len(effects) > 1:
        found.append(at(effects[1], f"a rule has exactly one effect key, found {', '.join(effects)}"))
    if pack.phase is not Phase.VALIDATE:
        found += [at(key, f"{key!r} is only for validate rules")
                  for key in ("field", "fieldExpression", "reason", "message", "messageExpression") if key in raw]
    elif "field" in raw and "fieldExpression" in raw:
        found.append(at("fieldExpression", "give either 'field' or 'fieldExpression', not both"))
    for index, operation in enumerate(raw.get("patch", [])):
        found += [problem(document, rule.where + ("patch", index), message, pack=pack.name, rule=rule.name)
                  for message in _operation_problems(operation)]
    if rule.action is not None:
        found += _action_problems(pack, rule, at)
    return found


def _operation_problems(operation: dict[str, Any]) -> list[str]:
    found = []
    if ("path" in operation) == ("pathExpression" in operation):
        found.append("give exactly one of 'path' and 'pathExpression'")
    has_value = "value" in operation or "valueExpression" in operation
    if operation["op"] == "remove" and has_value:
        found.append("'remove' takes no value")
    if operation["op"] != "remove" and ("value" in operation) == ("valueExpression" in operation):
        found.append(f"{operation['op']!r} needs exactly one of 'value' and 'valueExpression'")
    return found


def _action_problems(pack: Pack, rule: Rule, at: Any) -> list[problems.Problem]:
    assert rule.action is not None
    declared = {a.type: a for a in pack.actions}
    if rule.action.type not in declared:
        known = ", ".join(sorted(declared)) or "none"
        return [at("action", f"action type {rule.action.type!r} is not declared in spec.actions (declared: {known})")]
    allowed = declared[rule.action.type].params
    return [at("action", f"param {name!r} is not declared for {rule.action.type} (declared: {', '.join(allowed)})")
            for name, _ in rule.action.params if name not in allowed]


def _build_case(index: int, raw: dict[str, Any]) -> TestCase:
    expect = raw["expect"]
    def listed(key: str) -> tuple[Any, ...] | None:
        return tuple(expect[key]) if key in expect else None

    return TestCase(
        index=index,
        name=raw["name"],
        ref=raw.get("ref", ""),
        inputs=raw["inputs"],
        expect=Expectation(expect.get("object"), "object" in expect, listed("errors"),
                           listed("actions"), listed("fired")),
    )
