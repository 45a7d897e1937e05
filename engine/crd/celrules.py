"""`x-kubernetes-validations`: compiling CRD CEL rules once and evaluating them per value.

Owns: `Rule` (a compiled rule with its message, messageExpression, fieldPath and reason),
`compile_rules` and `Rule.check`, which turns a failed or broken rule into a `FieldError`
exactly as kube-apiserver words it. Transition rules (those reading `oldSelf`) are
recognised here; deciding *when* they run is the validation walker's job. A rule binds only
what its rule and message expression read of `self` and `oldSelf` (`engine.crd.views`).
Called by: `engine.crd.nodes` (compile), `engine.crd.keywords` and `engine.crd.validation` (check).
Must not import: anything in `engine` but `engine.cel`, `engine.crd.fielderrors` and `engine.crd.views`.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from engine.cel import evaluator
from engine.crd import fielderrors, views

VARIABLES = ("self", "oldSelf")
REASONS = frozenset({
    fielderrors.INVALID, fielderrors.FORBIDDEN, fielderrors.REQUIRED, fielderrors.DUPLICATE,
})
_OLD_SELF = re.compile(r"\boldSelf\b")
_FIELD_PATH_STEP = re.compile(r"\.([A-Za-z_][A-Za-z0-9_-]*)|\[\s*'([^']*)'\s*\]|\[(\d+)\]")


class RuleError(Exception):
    """A rule that cannot be compiled; `location` is its place in the schema."""

    def __init__(self, location: str, message: str) -> None:
        super().__init__(f"{location}: {message}")
        self.location = location
        self.message = message


@dataclasses.dataclass(frozen=True)
class Rule:
    """One compiled `x-kubernetes-validations` entry."""

    source: str
    program: Any
    environment: Any
    message: str
    message_program: Any
    field_path: tuple[tuple[str, str], ...]
    reason: str
    transition: bool
    self_view: views.View | None
    old_view: views.View | None

    def check(self, value: object, old: object, path: str, type_name: str) -> fielderrors.FieldError | None:
        """Evaluate against `self=value` (and `oldSelf=old`); an error when the rule fails."""
        if self.self_view is not None:
            value = views.project(value, self.self_view)
        if self.old_view is not None:
            old = views.project(old, self.old_view)
        activation = self.environment.activation({"self": value, "oldSelf": old})
        try:
            verdict = self.program.evaluate(activation)
        except evaluator.CelError as error:
            return fielderrors.invalid(path, type_name, f"{error.message}, evaluating rule: {self.source}")
        if verdict is True:
            return None
        return _error(self.reason, self._target(path), type_name, self._message(activation))

    def _target(self, path: str) -> str:
        for kind, step in self.field_path:
            path = fielderrors.child(path, step) if kind == "." else fielderrors.key(path, step)
        return path

    def _message(self, activation: Any) -> str:
        if self.message_program is not None:
            try:
                text = self.message_program.evaluate(activation)
            except evaluator.CelError:
                text = None
            if isinstance(text, str) and text.strip() and "\n" not in text:
                return text
        return self.message or f"failed rule: {self.source}"


def compile_rules(entries: object, environment: Any, location: str) -> tuple[Rule, ...]:
    """Compile the `x-kubernetes-validations` list found at `location` of a schema."""
    if not isinstance(entries, list):
        raise RuleError(location, "x-kubernetes-validations must be a list")
    return tuple(_compile(entry, environment, f"{location}[{i}]") for i, entry in enumerate(entries))


def _compile(entry: object, environment: Any, location: str) -> Rule:
    if not isinstance(entry, dict) or not isinstance(entry.get("rule"), str):
        raise RuleError(location, "each validation needs a string 'rule'")
    if entry.get("optionalOldSelf"):
        raise RuleError(f"{location}.optionalOldSelf", "optionalOldSelf is not supported")
    reason = entry.get("reason", fielderrors.INVALID)
    if reason not in REASONS:
        raise RuleError(f"{location}.reason", f"unsupported reason {reason!r}")
    program = _program(environment, entry["rule"], f"{location}.rule", "bool")
    message_source = entry.get("messageExpression")
    message_program = None
    if message_source is not None:
        message_program = _program(environment, message_source, f"{location}.messageExpression", "string")
    sources = [entry["rule"], *([message_source] if message_source is not None else [])]
    return Rule(
        source=entry["rule"], program=program, environment=environment,
        message=str(entry.get("message", "")), message_program=message_program,
        field_path=_field_path(entry.get("fieldPath", ""), f"{location}.fieldPath"),
        reason=reason, transition=bool(_OLD_SELF.search(entry["rule"])),
        self_view=views.reads(sources, "self"), old_view=views.reads(sources, "oldSelf"),
    )


def _program(environment: Any, source: str, location: str, expected: str) -> Any:
    try:
        program = environment.compile(source)
    except evaluator.CelError as error:
        raise RuleError(location, f"compilation failed: {error.message}") from None
    if program.return_type not in (expected, "dyn"):
        raise RuleError(location, f"must evaluate to {expected}, not {program.return_type}")
    return program


def _field_path(text: object, location: str) -> tuple[tuple[str, str], ...]:
    """`.spec.items['a.b']` -> (('.', 'spec'), ('.', 'items'), ('[', 'a.b'))."""
    if not isinstance(text, str):
        raise RuleError(location, "fieldPath must be a string")
    steps: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        match = _FIELD_PATH_STEP.match(text, position)
        if match is None:
            raise RuleError(location, f"invalid fieldPath {text!r} at character {position}")
        if match[1] is not None:
            steps.append((".", match[1]))
        else:
            steps.append(("[", match[2] if match[2] is not None else match[3]))
        position = match.end()
    return tuple(steps)


def _error(reason: str, path: str, type_name: str, message: str) -> fielderrors.FieldError:
    if reason == fielderrors.FORBIDDEN:
        return fielderrors.forbidden(path, message)
    if reason == fielderrors.REQUIRED:
        return fielderrors.required(path, message)
    if reason == fielderrors.DUPLICATE:
        return fielderrors.duplicate(path, type_name)
    return fielderrors.invalid(path, type_name, message)
