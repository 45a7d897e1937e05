"""The strings-extension subset (cel-go `ext.Strings` version 2) for backends that lack it.

Owns: pure-Python `join`, `split`, `lowerAscii`, `upperAscii`, `replace`, `substring`, `trim`,
`indexOf` and `lastIndexOf` (string forms), declared in `FUNCTIONS`. Indices count Unicode
code points, as CEL does. Called by: `engine.cel.backends.celpy` (cel-expr has them natively).
Must not import: anything in `engine` outside `engine.cel`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.cel import declarations


def _check_index(index: int, length: int, what: str) -> None:
    if not 0 <= index <= length:
        raise ValueError(f"{what} index out of range: {index}")


def join(items: list[str], separator: str = "") -> str:
    """`['a', 'b'].join('-') == 'a-b'`; every element must be a string."""
    if not all(isinstance(item, str) for item in items):
        raise ValueError("join() needs a list of strings")
    return separator.join(items)


def split(text: str, separator: str, limit: int = -1) -> list[str]:
    """`'a,b,c'.split(',', 2) == ['a', 'b,c']`; limit 0 gives [], a negative limit no limit."""
    if limit == 0:
        return []
    if separator == "":
        parts = list(text)
        if 0 < limit < len(parts):
            parts = parts[:limit - 1] + ["".join(parts[limit - 1:])]
        return parts
    return text.split(separator, limit - 1 if limit > 0 else -1)


def lower_ascii(text: str) -> str:
    """`'ÀbC'.lowerAscii() == 'Àbc'`: only ASCII letters change."""
    return "".join(c.lower() if c.isascii() else c for c in text)


def upper_ascii(text: str) -> str:
    """`'àbC'.upperAscii() == 'àBC'`: only ASCII letters change."""
    return "".join(c.upper() if c.isascii() else c for c in text)


def replace(text: str, old: str, new: str, limit: int = -1) -> str:
    """`'aaa'.replace('a', 'b', 2) == 'bba'`; a negative limit replaces all."""
    return text.replace(old, new, limit if limit >= 0 else -1)


def substring(text: str, start: int, end: int | None = None) -> str:
    """`'hello'.substring(1, 3) == 'el'`; out-of-range or reversed indices are errors."""
    end = len(text) if end is None else end
    _check_index(start, len(text), "substring start")
    _check_index(end, len(text), "substring end")
    if start > end:
        raise ValueError(f"substring start {start} is after end {end}")
    return text[start:end]


def trim(text: str) -> str:
    """`'  a b \\n'.trim() == 'a b'`: leading and trailing Unicode white space removed."""
    return text.strip()


def index_of(text: str, sub: str, offset: int = 0) -> int:
    """`'abcb'.indexOf('b') == 1`, `'abcb'.indexOf('b', 2) == 3`; -1 when absent."""
    _check_index(offset, len(text), "indexOf offset")
    return text.find(sub, offset)


def last_index_of(text: str, sub: str, offset: int | None = None) -> int:
    """`'abcb'.lastIndexOf('b') == 3`; with offset, the last match starting at or before it."""
    offset = len(text) if offset is None else offset
    _check_index(offset, len(text), "lastIndexOf offset")
    return text.rfind(sub, 0, offset + len(sub))


def _member(name: str, *signatures: tuple[tuple[str, ...], str],
            impl: Callable[..., Any]) -> declarations.Function:
    """A member function with one overload per (params, result) signature."""
    return declarations.Function(name, tuple(
        declarations.overload(name, params, result, impl, member=True)
        for params, result in signatures
    ))


FUNCTIONS: tuple[declarations.Function, ...] = (
    _member("join", (("list",), "string"), (("list", "string"), "string"), impl=join),
    _member("split", (("string", "string"), "list<string>"),
            (("string", "string", "int"), "list<string>"), impl=split),
    _member("lowerAscii", (("string",), "string"), impl=lower_ascii),
    _member("upperAscii", (("string",), "string"), impl=upper_ascii),
    _member("replace", (("string", "string", "string"), "string"),
            (("string", "string", "string", "int"), "string"), impl=replace),
    _member("substring", (("string", "int"), "string"), (("string", "int", "int"), "string"),
            impl=substring),
    _member("trim", (("string",), "string"), impl=trim),
    _member("indexOf", (("string", "string"), "int"), (("string", "string", "int"), "int"),
            impl=index_of),
    _member("lastIndexOf", (("string", "string"), "int"), (("string", "string", "int"), "int"),
            impl=last_index_of),
)
