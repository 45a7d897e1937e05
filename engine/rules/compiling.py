"""Pack -> CompiledPack: every CEL expression and forEach path compiled once per pack version.

Owns: `CompiledPack`, `CompiledRule`, `CompiledOperation` and `compile_pack`. Compiles
`when`, `assert`, `assertions`, `fieldExpression`, `messageExpression`, `pathExpression`,
`valueExpression`, action params and pack variables;
checks result types where the backend knows them; undeclared names (`references`) and static
limits are reported. A pack with any error is rejected whole, each error placed at the
file:line:col of the offending text inside the YAML scalar.

Then, for speed, pack variables up to MAX_INLINED_VARIABLE characters are inlined
(parenthesised) into the variables after them and into every rule without `forEach`: a CEL
activation converts a value the first time an expression reads it, so a variable holding a
large value would be converted back and forth in every new activation, and each level of
variables needs a new one. In patch phases, variables that read the subject are inlined
into variables only (rules must see them as given, not as patched). In read-only phases
each forEach rule also gets a batch program (`batching`) with the comprehension-free
inlined variables substituted, and the pack one program for all its rules (`wholepack`),
tried before them; in patch phases, a forEach rule whose `when` reads the
subject only through `item` gets a program giving `when` for all its elements. Variables
still read by name are evaluated once per evaluation in dependency order
(`CompiledPack.eager` up front, the rest only if a batch falls back). When a definition is
shadowed by a comprehension variable, an expression grows past MAX_INLINED characters or
does not compile, the pack keeps all its variables bound.
Called by: `engine.rules.registry`, `engine.rules.testing`, `jobset rules lint`.
Must not import: `kube`, `webhook`, `model`, `planner`.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from engine.cel import evaluator
from engine.rules import batching, documents, patching, problems, references, selecting, wholepack
from engine.sources import yaml as sources_yaml

_CEL_PREFIX = re.compile(r"^(ERROR: )?<input>:\d+:\d+: ")
_EXPECTED = {"bool": ("bool",), "string": ("string",), "list": ("list",)}
# Inlined expressions grow: they are checked against these limits, the originals against the defaults.
INLINED_LIMITS = evaluator.Limits(max_source_length=100_000, max_comprehension_depth=16)
MAX_INLINED = 20_000
MAX_INLINED_VARIABLE = 1_000  # a longer variable stays bound: evaluated once, by dependency level


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
    reads: frozenset[str]  # inputs and variables its expressions may read (forEach adds the subject)
    batch: evaluator.Program | None = None  # forEach of a read-only phase: all elements at once
    batch_reads: frozenset[str] = frozenset()  # what `batch` reads (variables inlined)
    # patch phases, rules without forEach: the subject paths it reads (None: all of it), so an
    # activation made before patches elsewhere can still serve it
    subject_paths: tuple[tuple[str, ...], ...] | None = None
    item_view: references.View | None = None  # patch batches: what `when` reads of `item`
    layout: batching.Layout | None = None  # patch batches: what an element holds
    computed: bool = False  # a patch operation has an expression (it needs an activation)


@dataclasses.dataclass(frozen=True, eq=False)
class CompiledPack:
    """A pack whose every expression compiled; immutable and shared across requests."""

    pack: documents.Pack
    backend: str
    names: tuple[str, ...]  # inputs then variables: what every activation binds
    environment: evaluator.Environment  # declares `names`: variables and rules without forEach
    # (name, program, names read), in dependency levels: a variable comes after all those it
    # reads, and variables of one level share one activation (declared order within a level).
    variables: tuple[tuple[str, evaluator.Program, frozenset[str]], ...]
    rules: tuple[CompiledRule, ...]
    eager: frozenset[str] = frozenset()  # variables evaluated before the first rule; others when needed
    batch_environment: evaluator.Environment | None = None  # declares names + the element lists' names
    # read-only phases: (a distinct forEach, its element list's name, what an element holds)
    each: tuple[tuple[selecting.Selector, str, batching.Layout], ...] = ()
    whole: evaluator.Program | None = None  # read-only phases: every rule at once (`wholepack`)
    # patch phases: what variables and rules without forEach read of the subject (None: all of
    # it); their activations bind only that, so converting it to CEL costs less
    subject_view: references.View | None = None


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
        unknown = references.undeclared(source, names)
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

    def variables(self) -> tuple[tuple[str, evaluator.Program, frozenset[str]], ...]:
        """Each variable sees the inputs and the variables before it, no later ones."""
        compiled = []
        for index, variable in enumerate(self.pack.variables):
            where = ("spec", "variables", index, "expression")
            visible = self.inputs + tuple(v.name for v in self.pack.variables[:index])
            later = [found for found in references.undeclared(variable.expression, visible) if found[0] in self.names]
            if later:  # itself or a variable below it
                name, line, column = later[0]
                self.report(where, f"undeclared reference to {name!r}", "", line, column)
                continue
            program = self.expression(self.names, variable.expression, where)
            if program is not None:
                compiled.append((variable.name, program, frozenset(references.names_read(variable.expression))))
        return _by_level(compiled)

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
            computed=any(o.path_expression is not None or o.value_expression is not None for o in rule.patch),
            reads=frozenset(name for source in rule_sources(rule) for name in references.names_read(source)
                            if name in self.names)
            | ({self.pack.subject} if rule.for_each is not None else set()),  # item is part of the subject
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
            tokens = patching.parse_pointer(operation.path)
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
    compiled, definitions = _inlined(pack, rules, backend) or (CompiledPack(
        pack, backend.name, compiler.names, compiler.environment(compiler.names), variables, rules), {})
    return _batched(compiled, backend, definitions), []


def _inlined(pack: documents.Pack, rules: tuple[CompiledRule, ...],
             backend: evaluator.Backend) -> tuple[CompiledPack, dict[str, str]] | None:
    """The pack with its small variables inlined (see the module docstring) and the
    definitions inlined into rules; None when that is not possible."""
    inputs = tuple(i.name for i in pack.inputs)
    names = inputs + tuple(v.name for v in pack.variables)
    environment = backend.environment(names, limits=INLINED_LIMITS)
    into_variables: dict[str, str] = {}  # small variables, inlined into later variables
    into_rules: dict[str, str] = {}  # those of them also inlined into rules without forEach
    sources: dict[str, str] = {}  # every variable, with the small ones before it inlined
    try:
        for variable in pack.variables:
            source = sources[variable.name] = _inline(variable.expression, into_variables)
            if len(source) <= MAX_INLINED_VARIABLE:
                into_variables[variable.name] = source
                # in patch phases a variable sees the subject as given: rules read it bound
                if not (pack.phase.effect == "patch" and pack.subject in references.names_read(source)):
                    into_rules[variable.name] = source
        rules = tuple(rule if rule.selector is not None else _inline_rule(rule, into_rules, environment, names)
                      for rule in rules)
        bound = _closure({name for rule in rules for name in rule.reads if name in sources}, sources)
        variables = [(v.name, environment.compile(sources[v.name]), frozenset(references.names_read(sources[v.name])))
                     for v in pack.variables if v.name in bound]
    except (references.ShadowedError, evaluator.CelCompileError):
        return None
    return CompiledPack(pack, backend.name, names, environment, _by_level(variables), rules), into_rules


def _closure(names: set[str], sources: dict[str, str]) -> set[str]:
    """`names` plus every variable their sources read, transitively."""
    pending, found = list(names), set(names)
    while pending:
        for read in references.names_read(sources[pending.pop()]):
            if read in sources and read not in found:
                found.add(read)
                pending.append(read)
    return found


def _by_level(variables: list[tuple[str, evaluator.Program, frozenset[str]]]
              ) -> tuple[tuple[str, evaluator.Program, frozenset[str]], ...]:
    """Variables sorted so each comes after those it reads; one level shares one activation."""
    level: dict[str, int] = {}
    for name, _, reads in variables:
        level[name] = 1 + max((level.get(read, 0) for read in reads), default=0)
    return tuple(sorted(variables, key=lambda variable: level[variable[0]]))


def _batched(compiled: CompiledPack, backend: evaluator.Backend, definitions: dict[str, str]) -> CompiledPack:
    """In read-only phases, give each forEach rule a program over all its elements (batching),
    with the `definitions` of inlined variables substituted, and the pack its whole program."""
    if compiled.pack.phase.effect == "patch":
        return _with_eager(_patch_batches(compiled, backend))
    selectors = {r.selector.source: r.selector for r in reversed(compiled.rules) if r.selector is not None}
    each = {source: (batching.each_name(position), batching.layout(selector, [
        text for r in compiled.rules if r.selector is not None and r.selector.source == source
        for text in (r.rule.when, r.rule.assert_, r.rule.assertions) if text]))
        for position, (source, selector) in enumerate(selectors.items())}
    environment = backend.environment(compiled.names + tuple(name for name, _ in each.values()),
                                      limits=INLINED_LIMITS)
    # a definition with a comprehension would run again for every element: those stay bound
    simple = {name: text for name, text in definitions.items() if not references.bound_names(text)}
    rules = []
    for rule in compiled.rules:
        if rule.selector is not None:
            name, layout = each[rule.selector.source]
            try:
                source = _inline(batching.batch_source(rule.rule, name, layout, compiled.pack.subject), simple)
                program = environment.compile(source)
            except (references.ShadowedError, evaluator.CelCompileError):
                rules.append(rule)  # evaluated element by element
                continue
            reads = {n for n in references.names_read(source) if n in compiled.names} | {compiled.pack.subject}
            rule = dataclasses.replace(rule, batch=program, batch_reads=frozenset(reads | {name}))
        rules.append(rule)
    # rules without forEach evaluate in the batches' activation too (it declares more names): the
    # subject is converted once for all of them
    rules = [rule if rule.selector is not None else dataclasses.replace(rule, environment=environment)
             for rule in rules]
    inputs = tuple(i.name for i in compiled.pack.inputs)
    whole = wholepack.program(compiled.pack, [(r.rule, r.selector) for r in rules], each, backend.environment(
        inputs + tuple(name for name, _ in each.values()), limits=INLINED_LIMITS))
    return _with_eager(dataclasses.replace(
        compiled, rules=tuple(rules), batch_environment=environment, whole=whole,
        each=tuple((selectors[source], name, layout) for source, (name, layout) in each.items())))


def _patch_batches(compiled: CompiledPack, backend: evaluator.Backend) -> CompiledPack:
    """In patch phases, a forEach rule on a simple path whose `when` reads no subject but
    through `item` gets one program giving `when` for all its elements: elements are disjoint
    and a rule patches inside its own element, so no element's `when` sees another's patch."""
    each = batching.each_name(0)
    environment = backend.environment(compiled.names + (each,), limits=INLINED_LIMITS)
    rules = []
    for rule in compiled.rules:
        when = rule.rule.when
        if (rule.selector is not None and rule.selector.depth is not None and when is not None
                and compiled.pack.subject not in references.names_read(when)):
            layout = batching.layout(rule.selector, [when], simple=False)
            try:
                program = environment.compile(batching.batch_source(rule.rule, each, layout, compiled.pack.subject))
            except (references.ShadowedError, evaluator.CelCompileError):
                program = None
            if program is not None:
                reads = {n for n in references.names_read(program.source) if n in compiled.names}
                rule = dataclasses.replace(rule, batch=program, batch_reads=frozenset(reads | {each}), layout=layout,
                                           item_view=references.subject_view([when], "item"))
        rules.append(rule)
    return dataclasses.replace(compiled, rules=tuple(rules), batch_environment=environment)


def _with_eager(compiled: CompiledPack) -> CompiledPack:
    """Variables read outside batches are evaluated up front (all of them in patch phases,
    where they must see the subject as given); the rest only if a batch falls back."""
    variables = {name: reads for name, _, reads in compiled.variables}
    if compiled.pack.phase.effect == "patch":
        rules = tuple(rule if rule.selector is not None else dataclasses.replace(
            rule, subject_paths=references.subject_paths(_program_sources(rule), compiled.pack.subject))
            for rule in compiled.rules)
        sources = [p.source for _, p, _ in compiled.variables]
        sources += [source for rule in rules if rule.selector is None for source in _program_sources(rule)]
        return dataclasses.replace(compiled, rules=rules, eager=frozenset(variables),
                                   subject_view=references.subject_view(sources, compiled.pack.subject))
    read = {name for rule in compiled.rules for name in (rule.batch_reads if rule.batch else rule.reads)}
    eager, pending = set(), [name for name in read if name in variables]
    while pending:
        name = pending.pop()
        if name not in eager:
            eager.add(name)
            pending += [r for r in variables[name] if r in variables]
    return dataclasses.replace(compiled, eager=frozenset(eager))


def _program_sources(rule: CompiledRule) -> list[str]:
    """The sources of every program of a patch rule, as compiled (variables inlined)."""
    programs = [rule.when] + [o.path_program for o in rule.patch] + [o.value_program for o in rule.patch]
    return [program.source for program in programs if program is not None]


def _inline(source: str, definitions: dict[str, str]) -> str:
    text = references.inline(source, definitions)
    if len(text) > MAX_INLINED:
        raise references.ShadowedError(f"inlined expression longer than {MAX_INLINED} characters")
    return text


def _inline_rule(rule: CompiledRule, definitions: dict[str, str], environment: evaluator.Environment,
                 names: tuple[str, ...]) -> CompiledRule:
    """A rule without forEach, its programs recompiled with the variables inlined."""
    def again(program: evaluator.Program | None) -> evaluator.Program | None:
        return None if program is None else environment.compile(_inline(program.source, definitions))

    sources = [_inline(source, definitions) for source in rule_sources(rule.rule)]
    return dataclasses.replace(
        rule, environment=environment, when=again(rule.when), assert_=again(rule.assert_),
        assertions=again(rule.assertions), field_expression=again(rule.field_expression),
        message_expression=again(rule.message_expression),
        patch=tuple(dataclasses.replace(o, path_program=again(o.path_program), value_program=again(o.value_program))
                    for o in rule.patch),
        action_params=tuple((name, environment.compile(_inline(p.source, definitions)))
                            for name, p in rule.action_params),
        reads=frozenset(name for source in sources for name in references.names_read(source) if name in names),
    )


def rule_sources(rule: documents.Rule) -> list[str]:
    """Every CEL source of a rule."""
    sources = [rule.when, rule.assert_, rule.assertions, rule.field_expression, rule.message_expression]
    sources += [o.path_expression for o in rule.patch] + [o.value_expression for o in rule.patch]
    sources += [source for _, source in rule.action.params] if rule.action else []
    return [source for source in sources if source]


def _cel_message(error: evaluator.CelError) -> str:
    """The first line of a CEL error, without the `ERROR: <input>:L:C:` prefix."""
    first = error.message.strip().splitlines()[0] if error.message.strip() else "invalid expression"
    return _CEL_PREFIX.sub("", first).replace(" (in container '')", "")
