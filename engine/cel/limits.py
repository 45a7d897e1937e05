"""Static limits on CEL sources, checked the same way for every backend before it parses.

Owns: `check(source, limits)`, a lexical scan that measures source length and how deeply
comprehension macros nest (`all`, `exists`, `exists_one`, `map`, `filter` and the
two-variable forms). Called by: every `engine.cel.backends` environment in `compile`.
Must not import: anything in `engine` but `engine.cel.evaluator`.
"""

from __future__ import annotations

import re

from engine.cel import evaluator

COMPREHENSIONS = frozenset({
    "all", "exists", "exists_one", "existsOne", "map", "filter",
    "transformList", "transformMap", "transformMapEntry",
})

# One token per match: comments, string literals (any prefix, any quoting), identifiers,
# then any other single character. Only brackets, dots and identifiers matter below.
_QUOTED = "|".join((
    r"'{3}(?:\\.|[^\\])*?'{3}", r'"{3}(?:\\.|[^\\])*?"{3}',
    r"'(?:\\.|[^\\'\n])*'", r'"(?:\\.|[^\\"\n])*"',
))
_RAW = "|".join((r"'{3}.*?'{3}", r'"{3}.*?"{3}', r"'[^'\n]*'", r'"[^"\n]*"'))
_TOKEN = re.compile(
    "|".join((
        r"(?P<comment>//[^\n]*)",
        rf"(?P<raw>(?:[bB]?[rR]|[rR][bB])(?:{_RAW}))",
        rf"(?P<string>[bB]?(?:{_QUOTED}))",
        r"(?P<ident>[A-Za-z_][A-Za-z0-9_]*)",
        r"(?P<space>\s+)",
        r"(?P<other>.)",
    )),
    re.DOTALL,
)


def check(source: str, limits: evaluator.Limits) -> None:
    """Raise `CelCompileError` when `source` breaks `limits`; positions are 1-based."""
    if len(source) > limits.max_source_length:
        raise evaluator.CelCompileError(
            f"ERROR: <input>:1:1: expression is {len(source)} characters long; "
            f"it must be no more than {limits.max_source_length} characters",
            line=1, column=1,
        )
    _check_nesting(source, limits.max_comprehension_depth)


def _check_nesting(source: str, max_depth: int) -> None:
    """Walk the tokens, keeping a stack of open brackets marked when they open a macro call."""
    opened: list[bool] = []
    depth = 0
    previous = ""
    pending: re.Match[str] | None = None
    for token in _TOKEN.finditer(source):
        kind = token.lastgroup
        if kind in ("space", "comment"):
            continue
        text = token.group()
        if text == "(":
            opened.append(pending is not None)
            if pending is not None:
                depth += 1
                if depth > max_depth:
                    _raise_too_deep(source, pending, max_depth)
        elif text in "[{":
            opened.append(False)
        elif text in ")]}" and opened:
            depth -= opened.pop()
        pending = token if kind == "ident" and previous == "." and text in COMPREHENSIONS else None
        previous = text


def _raise_too_deep(source: str, macro: re.Match[str], max_depth: int) -> None:
    """Report the macro that goes one level too deep, at its own position."""
    line = source.count("\n", 0, macro.start()) + 1
    column = macro.start() - (source.rfind("\n", 0, macro.start()) + 1) + 1
    raise evaluator.CelCompileError(
        f"ERROR: <input>:{line}:{column}: comprehension '{macro.group()}' nests more than "
        f"{max_depth} comprehensions deep",
        line=line, column=column,
    )
