"""One CEL program for a whole read-only pack: every variable and every rule's batch at once.

Owns: `program(pack, rules, each, backend)`, the program that gives, in one evaluation, what
each rule says of each of its elements (`batching.Batch`), or None when the backend has no
local bindings or the pack cannot be put in one program.
A CEL activation converts a value to CEL the first time an expression reads it, and a value
computed by one program crosses into Python and back into CEL when another program reads
it: that, not evaluation, is what a read-only pack spends most on. So its variables become
local bindings of one program (`Environment.compile(source, lets=...)`), one map per
dependency level (`jsrLevel1.isCreate`; one binding per variable would nest too deep for
cel-cpp's parser), evaluated once; the program reads only the inputs and the element lists,
in one activation, and returns a list with one entry per rule: a `Batch` value for a rule
without forEach, the list of its elements' values for a forEach rule, or SKIPPED alone when
the part of its `when` that reads no forEach name is false (that part is tested once,
before the elements). Every variable is evaluated first (a local binding alone is evaluated
only when read), so a variable that would fail fails the program; `engine.rules.evaluating` then evaluates the pack rule by rule, which reports every
runtime error where it belongs. So the program changes the cost of an evaluation, never its
result.
Called by: `engine.rules.compiling`.
Must not import: anything in `engine` but `engine.cel.evaluator` and `engine.rules` batching,
documents, references and selecting.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from engine.cel import evaluator
from engine.rules import batching, documents, references, selecting

RESERVED = "jsr"  # the prefix of the names the engine binds (a pack using it gets no whole program)
LEVEL = RESERVED + "Level"


def program(pack: documents.Pack, rules: Sequence[tuple[documents.Rule, selecting.Selector | None]],
            each: Mapping[str, tuple[str, batching.Layout]], environment: evaluator.Environment
            ) -> evaluator.Program | None:
    """The whole-pack program (see the module docstring), or None.

    `each` maps a forEach source to its element list's name and layout; `environment`
    declares the inputs and those names.
    """
    declared = [i.name for i in pack.inputs] + [v.name for v in pack.variables]
    if not rules or not environment.local_bindings or any(name.startswith(RESERVED) for name in declared):
        return None
    try:
        lets, names = _levels(pack)
        body = "[" + ", ".join(_rule(rule, selector, names, each, pack.subject) for rule, selector in rules) + "]"
        if lets:  # a binding is evaluated only when read: every level is read first
            body = f"size([{', '.join(name for name, _ in lets)}]) >= 0 ? {body} : []"
        return environment.compile(body, lets=lets)
    except (references.ShadowedError, evaluator.CelCompileError):
        return None


def _levels(pack: documents.Pack) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """One binding per dependency level of the variables, a map of that level's values; and
    the text that reads each variable."""
    level: dict[str, int] = {}
    names: dict[str, str] = {}
    entries: dict[int, list[str]] = {}
    for variable in pack.variables:
        read = references.names_read(variable.expression)
        level[variable.name] = 1 + max((level[name] for name in read if name in level), default=0)
        value = batching.part(variable.expression, names)
        entries.setdefault(level[variable.name], []).append(f"{batching.quote(variable.name)}: dyn{value}")
        names[variable.name] = f"{LEVEL}{level[variable.name]}.{variable.name}"
    lets = [(f"{LEVEL}{number}", "{" + ", ".join(entries[number]) + "}") for number in sorted(entries)]
    return lets, names


def _rule(rule: documents.Rule, selector: selecting.Selector | None, variables: dict[str, str],
          each: Mapping[str, tuple[str, batching.Layout]], subject: str) -> str:
    """The entry of one rule in the program's list."""
    if selector is None:
        return batching.element_source(rule, variables, rule.when)
    name, layout = each[selector.source]
    names = {**variables, **layout.names(subject)}
    operands = references.conjuncts(rule.when) if rule.when is not None else []
    once = [o for o in operands if not references.names_read(o) & set(documents.FOR_EACH_NAMES)]
    per_element = [o for o in operands if o not in once]
    source = f"{name}.map({batching.ELEMENT}, " \
             f"{batching.element_source(rule, names, ' && '.join(per_element) or None)})"
    if not once:
        return source
    return f"!{batching.part(' && '.join(once), names)} ? dyn({batching.Batch.SKIPPED:d}) : dyn({source})"
