"""The CEL function library every backend registers, implemented once in plain Python.

Owns: `FUNCTIONS`, the backend-neutral declarations (`engine.cel.declarations`) of the
functions below, and their implementations on plain Python values. Called by: each module in
`engine.cel.backends`, which registers the table. Must not import: anything in `engine`
outside `engine.cel`.

Kubernetes lists (members of a list):
* `l.isSorted() -> bool`: elements are in ascending order.
* `l.sum() -> int|double`: sum of the elements; 0 for an empty list.
* `l.min()`, `l.max()`: smallest and largest element; an error on an empty list.
  (Unlike Kubernetes, lists of durations or timestamps are refused with an error: cel-expr
  cannot return them from a `dyn`-typed Python function. cel-python evaluates `l.min()`
  with a built-in macro of its own: same results, its own empty-list message.)
* `l.indexOf(x) -> int`, `l.lastIndexOf(x) -> int`: first or last position of x, or -1
  (the string forms `s.indexOf(t)` and `s.lastIndexOf(t)` keep working).
Kubernetes regex (members of a string, RE2 syntax):
* `s.find(re) -> string`: first match of re in s, or ''.
* `s.findAll(re) -> list<string>`, `s.findAll(re, n)`: all matches (at most n when n >= 0).
Ours (global functions):
* `sha1(s) -> string`: lowercase hex SHA-1 of the UTF-8 bytes of s.
* `range(n) -> list<int>`: [0, 1, ..., n-1]; empty when n <= 0.
* `reSearch(s, pattern) -> bool`: unanchored RE2 search; a bad pattern is no match.
* `dns1123LabelErrors(s) -> list<string>`: why s is not a DNS-1123 label ([] if it is).
* `dns1123SubdomainErrors(s) -> list<string>`: why s is not a DNS-1123 subdomain.
* `dns1035LabelErrors(s) -> list<string>`: why s is not a DNS-1035 label.
* `labelValueErrors(s) -> list<string>`: why s is not a label value (empty is valid).
* `qualifiedNameErrors(s) -> list<string>`: why s is not a qualified name (`[prefix/]name`).
* `domainPrefixedPathErrors(s) -> list<string>`: why s is not `host/path` (`acme.io/foo`).
* `semanticEqual(a, b) -> bool`: deep equality where null, absent, [] and {} are all equal.
* `jsonOverlay(target, source, pointers) -> dyn`: target with the value at each RFC 6901
  pointer taken from source (or removed when source has none); parents are created.
Strings (both backends; cel-expr's own strings extension, version 2, where it has them):
`join`, `split`, `lowerAscii`, `upperAscii`, `replace`, `substring`, `trim`, `indexOf`,
`lastIndexOf`, plus core `startsWith`, `endsWith`, `contains`, `matches`, `size`.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
from collections.abc import Callable
from typing import Any

import re2

from engine.cel import declarations, k8svalidation


# --- Kubernetes lists -------------------------------------------------------------------------

def _kind(value: Any) -> str:
    """The CEL ordering family of a value; ints and doubles compare with each other."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    for kind, types in (("string", str), ("bytes", (bytes, bytearray)),
                        ("duration", datetime.timedelta), ("timestamp", datetime.datetime)):
        if isinstance(value, types):
            return kind
    raise ValueError(f"values of type {type(value).__name__} cannot be ordered")


def _comparable(items: list[Any]) -> list[Any]:
    """Check that all items can be ordered against each other; return them unchanged."""
    kinds = {_kind(item) for item in items}
    if len(kinds) > 1:
        raise ValueError(f"list mixes types that cannot be compared: {', '.join(sorted(kinds))}")
    return items


def is_sorted(items: list[Any]) -> bool:
    """`[1, 2, 3].isSorted()`: true when every element is <= the next."""
    _comparable(items)
    return all(a <= b for a, b in zip(items, items[1:]))


def _scalars(items: list[Any], what: str) -> list[Any]:
    """Durations and timestamps cannot come back through a `dyn` result on cel-expr: refuse."""
    kind = _kind(_comparable(items)[0])
    if kind in ("duration", "timestamp"):
        raise ValueError(f"{what}() of {kind}s is not supported by this library")
    return items


def list_sum(items: list[Any]) -> Any:
    """`[1, 3].sum() == 4`, `[1.0, 3.0].sum() == 4.0`; an empty list sums to 0."""
    if not items:
        return 0
    if _kind(_scalars(items, "sum")[0]) != "number":
        raise ValueError(f"sum() needs numbers, not {_kind(items[0])}s")
    return sum(items)


def list_min(items: list[Any]) -> Any:
    """`[1, 3].min() == 1`; an error on an empty list."""
    if not items:
        raise ValueError("min() called on an empty list")
    return min(_scalars(items, "min"))


def list_max(items: list[Any]) -> Any:
    """`[1, 3].max() == 3`; an error on an empty list."""
    if not items:
        raise ValueError("max() called on an empty list")
    return max(_scalars(items, "max"))


def _cel_equal(a: Any, b: Any) -> bool:
    """CEL equality on plain values: numbers compare across int/double, bools only with bools."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_cel_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_cel_equal(a[k], b[k]) for k in a)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    return type(a) is type(b) and a == b


def index_of(items: list[Any], value: Any) -> int:
    """`[1, 2, 2, 3].indexOf(2) == 1`; -1 when absent."""
    return next((i for i, item in enumerate(items) if _cel_equal(item, value)), -1)


def last_index_of(items: list[Any], value: Any) -> int:
    """`['a', 'b', 'b', 'c'].lastIndexOf('b') == 2`; -1 when absent."""
    found = [i for i, item in enumerate(items) if _cel_equal(item, value)]
    return found[-1] if found else -1


# --- Kubernetes regex -------------------------------------------------------------------------

_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False


@functools.lru_cache(maxsize=512)
def _regex(pattern: str) -> Any:
    """Compile an RE2 pattern once; raises ValueError naming the pattern when invalid."""
    try:
        return re2.compile(pattern, _RE2_OPTIONS)
    except re2.error as error:
        reason = error.args[0] if error.args else ""
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise ValueError(f"invalid regular expression {pattern!r}: {reason}") from None


def find(text: str, pattern: str) -> str:
    """`"abc 123".find('[0-9]+') == '123'`; '' when nothing matches."""
    match = _regex(pattern).search(text)
    return match.group(0) if match else ""


def find_all(text: str, pattern: str, limit: int = -1) -> list[str]:
    """`"123 abc 456".findAll('[0-9]+') == ['123', '456']`; at most `limit` when >= 0.

    Like Go's regexp, an empty match right after the previous match is not reported.
    """
    found: list[str] = []
    previous_end = -1
    for match in _regex(pattern).finditer(text):
        if limit >= 0 and len(found) >= limit:
            break
        if match.start() == match.end() == previous_end:
            continue
        found.append(match.group(0))
        previous_end = match.end()
    return found


# --- ours -------------------------------------------------------------------------------------

def sha1(text: str) -> str:
    """`sha1('abc') == 'a9993e364706816aba3e25717850c26c9cd0d89d'`."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def int_range(count: int) -> list[int]:
    """`range(3) == [0, 1, 2]`; `range(0) == []`."""
    return list(range(max(count, 0)))


def re_search(text: str, pattern: str) -> bool:
    """`reSearch('a1', '[0-9]')`: unanchored; a pattern RE2 rejects never matches."""
    try:
        return _regex(pattern).search(text) is not None
    except ValueError:
        return False


def _absent(value: Any) -> bool:
    return value is None or value == [] or value == {}


def semantic_equal(a: Any, b: Any) -> bool:
    """Deep equality where null, absent, [] and {} are all equal to each other."""
    if _absent(a) and _absent(b):
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return all(semantic_equal(a.get(k), b.get(k)) for k in a.keys() | b.keys())
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(semantic_equal(x, y) for x, y in zip(a, b))
    return _cel_equal(a, b)


def _tokens(pointer: str) -> list[str]:
    """RFC 6901: '' is the whole document; '/a~1b/~0c' is ['a/b', '~c']."""
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise ValueError(f"JSON pointer {pointer!r} must be empty or start with '/'")
    return [part.replace("~1", "/").replace("~0", "~") for part in pointer[1:].split("/")]


_MISSING = object()


def _child(container: Any, token: str) -> Any:
    """The value under `token`, or _MISSING."""
    if isinstance(container, dict):
        return container.get(token, _MISSING)
    if isinstance(container, list) and token.isdigit() and int(token) < len(container):
        return container[int(token)]
    return _MISSING


def _lookup(document: Any, tokens: list[str]) -> Any:
    for token in tokens:
        document = _child(document, token)
        if document is _MISSING:
            break
    return document


def _set(node: Any, tokens: list[str], value: Any, pointer: str) -> Any:
    """A copy of `node` with `value` at `tokens` (_MISSING removes); copies only the path."""
    if not tokens:
        return value
    head, rest = tokens[0], tokens[1:]
    if isinstance(node, list):
        return _set_in_list(node, head, rest, value, pointer)
    if node is None or node is _MISSING:
        if value is _MISSING:
            return node
        node = {}
    if not isinstance(node, dict):
        raise ValueError(f"JSON pointer {pointer!r}: {head!r} lies under a non-object value")
    current = node.get(head, _MISSING)
    if value is _MISSING and current is _MISSING:
        return node
    child = _set(current, rest, value, pointer)
    copy = dict(node)
    if child is _MISSING:
        del copy[head]
    else:
        copy[head] = child
    return copy


def _set_in_list(node: list[Any], head: str, rest: list[str], value: Any, pointer: str) -> Any:
    index = int(head) if head.isdigit() else -1
    if not 0 <= index < len(node):
        if value is _MISSING:
            return node
        raise ValueError(f"JSON pointer {pointer!r}: the target list has no index {head!r}")
    child = _set(node[index], rest, value, pointer)
    copy = list(node)
    if child is _MISSING:
        del copy[index]
    else:
        copy[index] = child
    return copy


def json_overlay(target: Any, source: Any, pointers: list[str]) -> Any:
    """Copy of target with each pointer's value taken from source (removed if source has none)."""
    result = target
    for pointer in pointers:
        tokens = _tokens(pointer)
        result = _set(result, tokens, _lookup(source, tokens), pointer)
    return result


def _one(name: str, params: tuple[str, ...], result: str, impl: Callable[..., Any],
         *, member: bool = False) -> declarations.Function:
    """A function with a single overload."""
    return declarations.Function(
        name, (declarations.overload(name, params, result, impl, member=member),))


FUNCTIONS: tuple[declarations.Function, ...] = (
    _one("isSorted", ("list",), "bool", is_sorted, member=True),
    _one("sum", ("list",), "dyn", list_sum, member=True),
    _one("min", ("list",), "dyn", list_min, member=True),
    _one("max", ("list",), "dyn", list_max, member=True),
    _one("indexOf", ("list", "dyn"), "int", index_of, member=True),
    _one("lastIndexOf", ("list", "dyn"), "int", last_index_of, member=True),
    _one("find", ("string", "string"), "string", find, member=True),
    declarations.Function("findAll", (
        declarations.overload("findAll", ("string", "string"), "list<string>", find_all,
                              member=True),
        declarations.overload("findAll", ("string", "string", "int"), "list<string>", find_all,
                              member=True),
    )),
    _one("sha1", ("string",), "string", sha1),
    _one("range", ("int",), "list<int>", int_range),
    _one("reSearch", ("string", "string"), "bool", re_search),
    _one("dns1123LabelErrors", ("string",), "list<string>", k8svalidation.dns1123_label_errors),
    _one("dns1123SubdomainErrors", ("string",), "list<string>",
         k8svalidation.dns1123_subdomain_errors),
    _one("dns1035LabelErrors", ("string",), "list<string>", k8svalidation.dns1035_label_errors),
    _one("labelValueErrors", ("string",), "list<string>", k8svalidation.label_value_errors),
    _one("qualifiedNameErrors", ("string",), "list<string>", k8svalidation.qualified_name_errors),
    _one("domainPrefixedPathErrors", ("string",), "list<string>",
         k8svalidation.domain_prefixed_path_errors),
    _one("semanticEqual", ("dyn", "dyn"), "bool", semantic_equal),
    _one("jsonOverlay", ("dyn", "dyn", "list<string>"), "dyn", json_overlay),
)

NAMES: frozenset[str] = frozenset(function.name for function in FUNCTIONS)
