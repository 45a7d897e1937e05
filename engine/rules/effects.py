"""What a rule of a read-only phase yields once it fires, and how its programs' results are read.

Owns: `RuleError` (a runtime error of one rule on one element), `value`/`boolean`/`string`/
`pointer` (a program's result, of the type the rule needs, or RuleError), `asserted` (the
outcome and field errors of an `assert` or `assertions` rule, docs/rule-packs.md §2.6) and
`action` (the typed action of a decision rule, §2.7).
Called by: `engine.rules.evaluating`.
Must not import: any I/O; `model`, `kube`, `webhook`, `planner`.
"""

from __future__ import annotations

from typing import Any

from engine.cel import evaluator
from engine.rules import compiling, decisions, patching

Outcome = decisions.Outcome


class RuleError(Exception):
    """A runtime error inside one rule on one element (CEL or patch)."""


def value(program: evaluator.Program, activation: evaluator.Activation, what: str) -> Any:
    """The result of `program`; a CEL runtime error becomes RuleError, prefixed with `what`."""
    try:
        return program.evaluate(activation)
    except evaluator.CelEvaluationError as error:
        raise RuleError(f"{what}: {error.message}") from None


def boolean(program: evaluator.Program, activation: evaluator.Activation, what: str) -> bool:
    """A result that must be a bool."""
    found = value(program, activation, what)
    if not isinstance(found, bool):
        raise RuleError(f"{what}: expected bool, got {type(found).__name__}")
    return found


def string(program: evaluator.Program, activation: evaluator.Activation, what: str) -> str:
    """A result that must be a string."""
    found = value(program, activation, what)
    if not isinstance(found, str):
        raise RuleError(f"{what}: expected string, got {type(found).__name__}")
    return found


def pointer(found: Any) -> tuple[str, ...]:
    """A pathExpression's result as JSON Pointer tokens."""
    if not isinstance(found, str) or (found and not found.startswith("/")):
        raise RuleError(f"pathExpression: {found!r} is not a JSON pointer")
    return patching.parse_pointer(found)


def action(rule: compiling.CompiledRule, activation: evaluator.Activation) -> decisions.Action:
    """The action of a decision rule whose `when` held, its params evaluated."""
    call = rule.rule.action
    assert call is not None
    params = {name: value(program, activation, f"action.params.{name}") for name, program in rule.action_params}
    return decisions.Action(call.type, params, rule.origin)


def asserted(pack: str, rule: compiling.CompiledRule, path: str, activation: evaluator.Activation
             ) -> tuple[Outcome, str, list[decisions.FieldError]]:
    """Outcome, trace detail and field errors of a validate rule on the element at `path`."""
    if rule.assertions is not None:
        return _assertions(pack, rule, activation)
    assert rule.assert_ is not None
    if boolean(rule.assert_, activation, "assert"):
        return Outcome.SKIPPED, "assertion held", []
    field = None
    if rule.field_expression is not None:
        field = string(rule.field_expression, activation, "fieldExpression")
    message = None
    if rule.message_expression is not None:
        message = string(rule.message_expression, activation, "messageExpression")
    if field is None:
        field = _join(path, rule.rule.field)
    if message is None or not message.strip():  # messageExpression, then message, then the rule
        message = rule.rule.message or f"failed rule {pack}/{rule.rule.name}"
    return Outcome.FAILED, field, [decisions.FieldError(field, message, rule.rule.reason, rule.origin)]


def _assertions(pack: str, rule: compiling.CompiledRule, activation: evaluator.Activation
                ) -> tuple[Outcome, str, list[decisions.FieldError]]:
    assert rule.assertions is not None
    found = value(rule.assertions, activation, "assertions")
    if not (isinstance(found, list) and all(isinstance(f, dict) and "field" in f for f in found)):
        raise RuleError("assertions must return a list of {field, message, reason?} maps")
    errors = [decisions.FieldError(str(item["field"]),
                                   str(item.get("message") or f"failed rule {pack}/{rule.rule.name}"),
                                   str(item.get("reason") or rule.rule.reason), rule.origin)
              for item in found]
    if not found:
        return Outcome.SKIPPED, "no assertion failed", errors
    return Outcome.FAILED, f"{len(found)} error(s)", errors


def _join(base: str, field: str) -> str:
    if not field:
        return base
    if not base or field.startswith("["):
        return base + field
    return f"{base}.{field}"
