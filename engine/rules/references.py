"""What names a CEL source reads, found lexically, and substituting definitions for names.

Owns: `names_read` (a superset of the top-level names an expression may read),
`subject_paths` and `subject_view` (the parts of one input that expressions may read),
`conjuncts` (the operands of a top-level `&&` chain),
`undeclared` (free names not declared, with 1-based positions: the check every backend
gets, even one without a type checker) and `inline` (replace free names by parenthesised
definitions, refusing when a comprehension variable shadows one). String literals are
never looked into; a name after `.` is a field, a name before `(` a function.
Called by: `engine.rules.compiling`, `engine.rules.linting`.
Must not import: anything in `engine`.
"""

from __future__ import annotations

import re

_STRING_LITERAL = re.compile(
    r"""[rRbB]{0,2}('''.*?'''|\"\"\".*?\"\"\"|'(?:\\.|[^\\'\n])*'|"(?:\\.|[^\\"\n])*")""", re.DOTALL)
_NAME = re.compile(r"(?<![.\w])[A-Za-z_]\w*")
_FREE_NAME = re.compile(r"(?<![.\w?])([A-Za-z_]\w*)\b(?!\s*\()")
_BOUND = re.compile(r"\.\s*(?:all|exists|exists_one|existsOne|map|filter|sortBy|bind|transformList|transformMap"
                    r"|transformMapEntry)\s*\(\s*([A-Za-z_]\w*)\s*,(?:\s*([A-Za-z_]\w*)\s*,)?")
_TOKEN = re.compile(_STRING_LITERAL.pattern + r"|(?<![.\w?])([A-Za-z_]\w*)\b(?!\s*\()", re.DOTALL)
_ALWAYS_KNOWN = frozenset({"true", "false", "null", "in", "cel", "math", "strings", "sets", "optional",
                           "base64", "format", "google", "int", "uint", "double", "bool", "string",
                           "bytes", "list", "map", "type", "dyn", "null_type"})


class ShadowedError(ValueError):
    """A comprehension variable has the name of a definition: substitution would be wrong."""


def names_read(source: str) -> set[str]:
    """Identifiers an expression may read as top-level names (never misses one)."""
    return set(_NAME.findall(_STRING_LITERAL.sub("''", source)))


def bound_names(source: str) -> set[str]:
    """Names bound by comprehensions (`xs.all(x, ...)`, `m.map(k, v, ...)`, `cel.bind(v, ...)`)."""
    text = _STRING_LITERAL.sub("''", source)
    return {name for match in _BOUND.finditer(text) for name in match.groups() if name}


def undeclared(source: str, declared: tuple[str, ...]) -> list[tuple[str, int, int]]:
    """Free names of `source` that are not declared: (name, line, column), 1-based."""
    text = _STRING_LITERAL.sub(lambda m: "'" + " " * (len(m.group()) - 2) + "'", source)
    known = set(declared) | bound_names(source) | _ALWAYS_KNOWN
    found = []
    for match in _FREE_NAME.finditer(text):
        if match.group(1) not in known:
            line = text.count("\n", 0, match.start()) + 1
            column = match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1
            found.append((match.group(1), line, column))
    return found


def inline(source: str, definitions: dict[str, str]) -> str:
    """`source` with each free name of `definitions` replaced by `(definition)`."""
    if bound_names(source) & definitions.keys():
        raise ShadowedError(f"a comprehension variable shadows one of {sorted(definitions)}")

    def substitute(match: re.Match[str]) -> str:
        name = match.group(2)
        return f"({definitions[name]})" if name in definitions else match.group()

    return _TOKEN.sub(substitute, source)


def conjuncts(source: str) -> list[str]:
    """The operands of `source`'s top-level `&&` chain (`[source]` when there is none, or when
    a top-level `||` or `?:` makes the split unsafe)."""
    text = _STRING_LITERAL.sub(lambda m: "'" + " " * (len(m.group()) - 2) + "'", source)
    if "//" in text:  # a comment could hide or fake an operator
        return [source]
    depth, start, found = 0, 0, []
    for position, char in enumerate(text):
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif depth == 0 and (char in "?:" or text.startswith("||", position)):
            return [source]
        elif depth == 0 and text.startswith("&&", position):
            found.append(source[start:position].strip())
            start = position + 2
    return found + [source[start:].strip()]


def subject_paths(sources: list[str], subject: str) -> tuple[tuple[str, ...], ...] | None:
    """The field paths of `subject` the sources may read (each covers all below it).

    `object.spec.network.x` reads ('spec', 'network', 'x'); a chain ends at an index, a call
    or `?.`, so `object.spec.items.all(...)` reads ('spec', 'items'). None when a source
    reads the subject as a whole (or, being shadowed, cannot be analysed).
    """
    found: set[tuple[str, ...]] = set()
    for source in sources:
        text = _STRING_LITERAL.sub("''", source)
        if subject in bound_names(source):
            return None
        for match in re.finditer(rf"(?<![.\w?]){re.escape(subject)}\b((?:\s*\.\s*[A-Za-z_]\w*\b(?!\s*\())*)", text):
            path = tuple(part.strip() for part in match.group(1).split(".")[1:])
            if not path:
                return None
            found.add(path)
    return tuple(sorted(found))


FULL = "*"  # in a view: the whole value at this place
PRESENT = "?"  # in a view: only whether this key is there (`has()`)
View = dict[str, "View | str"]


def subject_view(sources: list[str], subject: str) -> View | None:
    """The parts of `subject` the sources may read, as a tree of keys whose leaves are FULL
    (the value is read) or PRESENT (only `has(subject.a.b)` tests it); None when a source
    reads the subject as a whole (or, being shadowed, cannot be analysed)."""
    view: View = {}
    name = re.escape(subject)
    for source in sources:
        if subject in bound_names(source):
            return None
        text = _STRING_LITERAL.sub("''", source)
        tested = rf"\bhas\(\s*{name}((?:\s*\.\s*[A-Za-z_]\w*\b)+)\s*\)"
        for match in re.finditer(tested, text):
            _insert(view, _chain(match.group(1)), PRESENT)
        text = re.sub(tested, "true", text)
        for match in re.finditer(rf"(?<![.\w?]){name}\b((?:\s*\.\s*[A-Za-z_]\w*\b(?!\s*\())*)", text):
            path = _chain(match.group(1))
            if not path:
                return None
            _insert(view, path, FULL)
    return view


def project(value: object, view: View | str) -> object:
    """`value` reduced to `view`: what the expressions of that view read of it is the same."""
    if view.__class__ is not dict or not isinstance(value, dict):
        return value
    found = {}
    for key, part in view.items():
        if key in value:
            found[key] = project(value[key], part) if part.__class__ is dict else True if part == PRESENT else value[key]
    return found


def _chain(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(".")[1:])


def _insert(view: View, path: tuple[str, ...], leaf: str) -> None:
    node = view
    for key in path[:-1]:
        child = node.get(key, PRESENT)
        if child == FULL:
            return
        if not isinstance(child, dict):
            child = node[key] = {}
        node = child
    if leaf == FULL or path[-1] not in node:
        node[path[-1]] = leaf
