"""Pack -> CompiledPack: every CEL expression and forEach path compiled once per pack version.

Owns: `CompiledPack`, `CompiledRule`, `CompiledOperation`, `compile_pack` and
`parse_pointer`. Compiles `when`, `assert`, `assertions`, `fieldExpression`,
`messageExpression`, `pathExpression`, `valueExpression`, action params and pack variables;
checks result types where the backend knows them; undeclared names and static limits are
reported by the CEL layer. A pack with any error is rejected whole, each error placed at the
file:line:col of the offending text inside the YAML scalar.
Called by: `engine.rules.registry`, `engine.rules.testing`, `jobset rules lint`.
Must not import: `kube`, `webhook`, `model`, `planner`.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from engine.cel import evaluator
from engine.rules import documents, problems, selecting
from engine.sources import yaml as sources_yaml

_CEL_PREFIX = re.compile(r"^(ERROR: )?<input>:\d+:\d+: ")
_STRING_LITERAL = re.compile(
    r"""[rRbB]{0,2}('''.*?'''|\"\"\".*?\"\"\"|'(?:\\.|[^\\'\n])*'|"(?:\\.|[^\\"\n])*")""", re.DOTALL)
_NAME = re.compile(r"(?<![.\w])[A-Za-z_]\w*")
_FREE_NAME = re.compile(r"(?<![.\w?])([A-Za-z_]\w*)\b(?!\s*\()")
_BOUND = re.compile(r"\.\s*(?:all|exists|exists_one|existsOne|map|filter|sortBy|bind|transformList|transformMap"
                    r"|transformMapEntry)\s*\(\s*([A-Za-z_]\w*)\s*,(?:\s*([A-Za-z_]\w*)\s*,)?")
_ALWAYS_KNOWN = frozenset({"true", "false", "null", "in", "cel", "math", "strings", "sets", "optional",
                           "base64", "format", "google", "int", "uint", "double", "bool", "string",
                           "bytes", "list", "map", "type", "dyn", "null_type"})
_EXPECTED = {"bool": ("bool",), "string": ("string",), "list": ("list",)}


@dataclasses.dataclass(frozen=True, eq=False)
class CompiledOperation:
    """A patch operation with its pointer parsed or its expressions compiled."""

    op: str
    tokens: tuple[str, ...] | None
    path_program: evaluator.Program | None
    value: Any
    value_program: evaluator.Program | None


@dataclasses.dataclass(frozen=True, eq=False)
class CompiledRule:
    """One rule, ready to evaluate in `environment`."""

    rule: documents.Rule
    origin: str
    environment: evaluator.Environment
    selector: selecting.Selector | None
    when: evaluator.Program | None
    assert_: evaluator.Program | None
    assertions: evaluator.Program | None
    field_expression: evaluator.Program | None
    message_expression: evaluator.Program | None
    patch: tuple[CompiledOperation, ...]
    action_params: tuple[tuple[str, evaluator.Program], ...]
    reads: frozenset[str]  # top-level names its expressions may read (a lexical superset)


@dataclasses.dataclass(frozen=True, eq=False)
class CompiledPack:
    """A pack whose every expression compiled; immutable and shared across requests."""

    pack: documents.Pack
    backend: str
    names: tuple[str, ...]  # inputs then variables: what every activation binds
    variables: tuple[tuple[str, evaluator.Program, evaluator.Environment], ...]
    rules: tuple[CompiledRule, ...]


class _Compiler:
    """Collects every problem of one pack while compiling it."""

    def __init__(self, pack: documents.Pack, backend: evaluator.Backend) -> None:
        self.pack = pack
        self.backend = backend
        self.problems: list[problems.Problem] = []
        self.inputs = tuple(i.name for i in pack.inputs)
        self.names = self.inputs + tuple(v.name for v in pack.variables)
        self.environments: dict[tuple[str, ...], evaluator.Environment] = {}

    def environment(self, names: tuple[str, ...]) -> evaluator.Environment:
        """The environment declaring `names`, built once per pack."""
        if names not in self.environments:
            self.environments[names] = self.backend.environment(names)
        return self.environments[names]

    def expression(self, names: tuple[str, ...], source: str | None, where: sources_yaml.FieldPath,
                   expected: str | None = None, rule: str = "") -> evaluator.Program | None:
        """Compile one expression; on error record a positioned problem and return None."""
        if source is None:
            return None
        environment = self.environment(names)
        try:
            program = environment.compile(source)
        except evaluator.CelCompileError as error:
            self.report(where, _cel_message(error), rule, error.line or 1, error.column or 1)
            return None
        unknown = undeclared(source, names)
        if unknown:  # backends without a checker (celpy) would only fail at evaluation
            name, line, column = unknown[0]
            self.report(where, f"undeclared reference to {name!r}", rule, line, column)
            return None
        if expected and program.return_type not in _EXPECTED[expected] + ("dyn",):
            self.report(where, f"expression must be of type {expected}, not {program.return_type}", rule)
        return program

    def report(self, where: sources_yaml.FieldPath, message: str, rule: str = "",
               line: int = 1, column: int = 1) -> None:
        document = self.pack.source
        file_line, file_column = document.locate_in_scalar(where, line, column)
        self.problems.append(problems.Problem(
            document.filename, file_line, file_column, message,
            field=sources_yaml.format_path(where), pack=self.pack.name, rule=rule))

    def variables(self) -> tuple[tuple[str, evaluator.Program, evaluator.Environment], ...]:
        """Each variable sees the inputs and the variables before it, no later ones."""
        compiled = []
        for index, variable in enumerate(self.pack.variables):
            names = self.inputs + tuple(v.name for v in self.pack.variables[:index])
            program = self.expression(names, variable.expression, ("spec", "variables", index, "expression"))
            if program is not None:
                compiled.append((variable.name, program, self.environment(names)))
        return tuple(compiled)

    def rule(self, rule: documents.Rule) -> CompiledRule:
        where, name = rule.where, rule.name
        names = self.names + (documents.FOR_EACH_NAMES if rule.for_each is not None else ())
        def cel(source: str | None, key: str, expected: str | None = None) -> evaluator.Program | None:
            return self.expression(names, source, where + (key,), expected, name)

        return CompiledRule(
            rule=rule,
            origin=f"{self.pack.id}/{name}",
            environment=self.environment(names),
            selector=self.selector(rule),
            when=cel(rule.when, "when", "bool"),
            assert_=cel(rule.assert_, "assert", "bool"),
            assertions=cel(rule.assertions, "assertions", "list"),
            field_expression=cel(rule.field_expression, "fieldExpression", "string"),
            message_expression=cel(rule.message_expression, "messageExpression", "string"),
            patch=tuple(self.operation(names, rule, index, operation)
                        for index, operation in enumerate(rule.patch)),
            action_params=self.action_params(names, rule),
            reads=frozenset(name for source in _sources(rule) for name in names_read(source)),
        )

    def selector(self, rule: documents.Rule) -> selecting.Selector | None:
        if rule.for_each is None:
            return None
        try:
            return selecting.Selector(rule.for_each)
        except selecting.SelectorError as error:
            self.report(rule.where + ("forEach",), str(error), rule.name)
            return None

    def operation(self, names: tuple[str, ...], rule: documents.Rule, index: int,
                  operation: documents.PatchOperation) -> CompiledOperation:
        where = rule.where + ("patch", index)
        tokens = None
        if operation.path is not None:
            tokens = parse_pointer(operation.path)
        return CompiledOperation(
            op=operation.op,
            tokens=tokens,
            path_program=self.expression(names, operation.path_expression,
                                         where + ("pathExpression",), "string", rule.name),
            value=operation.value,
            value_program=self.expression(names, operation.value_expression,
                                          where + ("valueExpression",), None, rule.name),
        )

    def action_params(self, names: tuple[str, ...], rule: documents.Rule) -> tuple[tuple[str, evaluator.Program], ...]:
        if rule.action is None:
            return ()
        compiled = []
        for name, source in rule.action.params:
            where = rule.where + ("action", "params", name)
            program = self.expression(names, source, where, None, rule.name)
            if program is not None:
                compiled.append((name, program))
        return tuple(compiled)


def compile_pack(pack: documents.Pack,
                 backend: evaluator.Backend) -> tuple[CompiledPack | None, list[problems.Problem]]:
    """Compile every expression of `pack`; the compiled pack, or None and every problem."""
    compiler = _Compiler(pack, backend)
    variables = compiler.variables()
    rules = tuple(compiler.rule(rule) for rule in pack.rules)
    if compiler.problems:
        return None, compiler.problems
    return CompiledPack(pack, backend.name, compiler.names, variables, rules), []


def parse_pointer(pointer: str) -> tuple[str, ...]:
    """RFC 6901 JSON Pointer -> its unescaped reference tokens ('' is the root)."""
    if pointer == "":
        return ()
    if not pointer.startswith("/"):
        raise ValueError(f"JSON pointer {pointer!r} must be empty or start with '/'")
    return tuple(token.replace("~1", "/").replace("~0", "~") for token in pointer[1:].split("/"))


def undeclared(source: str, declared: tuple[str, ...]) -> list[tuple[str, int, int]]:
    """Free names of `source` that are not declared: (name, line, column), 1-based."""
    text = _STRING_LITERAL.sub(lambda m: "'" + " " * (len(m.group()) - 2) + "'", source)
    bound = {name for match in _BOUND.finditer(text) for name in match.groups() if name}
    known = set(declared) | bound | _ALWAYS_KNOWN
    found = []
    for match in _FREE_NAME.finditer(text):
        if match.group(1) not in known:
            line = text.count("\n", 0, match.start()) + 1
            column = match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1
            found.append((match.group(1), line, column))
    return found


def names_read(source: str) -> set[str]:
    """Identifiers an expression may read as top-level names (never misses one)."""
    return set(_NAME.findall(_STRING_LITERAL.sub("''", source)))


def _sources(rule: documents.Rule) -> list[str]:
    sources = [rule.when, rule.assert_, rule.assertions, rule.field_expression, rule.message_expression]
    sources += [o.path_expression for o in rule.patch] + [o.value_expression for o in rule.patch]
    sources += [source for _, source in rule.action.params] if rule.action else []
    return [source for source in sources if source]


def _cel_message(error: evaluator.CelError) -> str:
    """The first line of a CEL error, without the `ERROR: <input>:L:C:` prefix."""
    first = error.message.strip().splitlines()[0] if error.message.strip() else "invalid expression"
    return _CEL_PREFIX.sub("", first).replace(" (in container '')", "")
