"""What a CRD validation rule reads of `self` (or `oldSelf`), so only that is bound.

Owns: `reads(sources, name) -> View | None` (found lexically, never missing a read: None
when the sources use the variable in a way not analysed) and `project(value, view)`, the
smallest value on which the sources give the same results. Binding a whole object costs a
conversion of all of it on the first read; a rule on a JobSet's spec reads a few fields.
A view is a tree of field names whose leaves are FULL (the value is read) or PRESENT (only
`has()` tests it); the key EACH holds what the single-variable macros `all`, `exists`,
`exists_one` and `map` read of each list element (so a list keeps its length).
Called by: `engine.crd.celrules`.
Must not import: anything in `engine`.
"""

from __future__ import annotations

import re

FULL = "*"
PRESENT = "?"
EACH = "[]"
View = dict[str, "View | str"]

_STRING = re.compile(r"""[rRbB]{0,2}('''.*?'''|\"\"\".*?\"\"\"|'(?:\\.|[^\\'\n])*'|"(?:\\.|[^\\"\n])*")""",
                     re.DOTALL)
_COMMENT = re.compile(r"//[^\n]*")
_CHAIN = r"((?:\s*\.\s*[A-Za-z_]\w*\b(?!\s*\())*)"
_MACROS = ("all", "exists", "exists_one", "existsOne", "map")
_BINDS = re.compile(r"\.\s*[A-Za-z_]\w*\s*\(\s*([A-Za-z_]\w*)\s*,")
_OPEN, _CLOSE = "([{", ")]}"


def reads(sources: list[str], name: str) -> View | None:
    """The view of `name` that `sources` read; None when they may read all of it."""
    view: View | str = {}
    for source in sources:
        found = _reads_in(_COMMENT.sub("", _STRING.sub("''", source)), name)
        if found is None:
            return None
        view = _merge(view, found)
    return view if isinstance(view, dict) else None


def project(value: object, view: View | str) -> object:
    """`value` reduced to what `view` reads of it."""
    if not isinstance(view, dict):
        return value
    if isinstance(value, list):
        each = view.get(EACH)
        return value if each is None else [project(item, each) for item in value]
    if not isinstance(value, dict) or EACH in view:  # a map's macros iterate its keys: keep it whole
        return value
    return {key: True if part == PRESENT else project(value[key], part) for key, part in view.items() if key in value}


def _reads_in(text: str, name: str) -> View | None:
    if any(match.group(1) == name for match in _BINDS.finditer(text)):
        return None  # a comprehension variable of the same name: not analysed
    view: View | str = {}
    free = rf"(?<![.\w?]){re.escape(name)}\b"
    macro = re.compile(free + _CHAIN + rf"\s*\.\s*({'|'.join(_MACROS)})\s*\(\s*([A-Za-z_]\w*)\s*,")
    kept, position = [], 0
    for match in macro.finditer(text):
        arguments = _arguments(text, match.end())
        if arguments is None or len(arguments) not in ((1, 2) if match.group(2) == "map" else (1,)):
            return None  # unbalanced, or a two-variable comprehension
        element = _reads_in(",".join(arguments), match.group(3))
        view = _merge(view, _at(_chain(match.group(1)), {EACH: FULL if element is None else element}))
        kept += [text[position:match.start()], " ("]
        position = match.end()
    text = "".join([*kept, text[position:]])
    tested = re.compile(rf"\bhas\(\s*{free}((?:\s*\.\s*[A-Za-z_]\w*\b)+)\s*\)")
    for match in tested.finditer(text):
        view = _merge(view, _at(_chain(match.group(1)), PRESENT))
    for match in re.finditer(free + _CHAIN, tested.sub("true", text)):
        path = _chain(match.group(1))
        if not path:
            return None
        view = _merge(view, _at(path, FULL))
    return view if isinstance(view, dict) else None


def _arguments(text: str, start: int) -> list[str] | None:
    """The arguments after the variable of a macro call, up to its closing parenthesis."""
    depth, found, begin = 0, [], start
    for position in range(start, len(text)):
        char = text[position]
        if char in _OPEN:
            depth += 1
        elif char in _CLOSE:
            if depth == 0:
                return [*found, text[begin:position]]
            depth -= 1
        elif char == "," and depth == 0:
            found.append(text[begin:position])
            begin = position + 1
    return None


def _chain(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(".")[1:])


def _at(path: tuple[str, ...], leaf: View | str) -> View | str:
    for key in reversed(path):
        leaf = {key: leaf}
    return leaf


def _merge(one: View | str, other: View | str) -> View | str:
    if one == FULL or other == FULL:
        return FULL
    if one == PRESENT:
        return other
    if other == PRESENT or not isinstance(one, dict) or not isinstance(other, dict):
        return one
    merged = dict(one)
    for key, part in other.items():
        merged[key] = _merge(merged[key], part) if key in merged else part
    return merged
