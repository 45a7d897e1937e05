"""`forEach` selectors: a JSONPath compiled once, matched many times.

Owns: `Selector` (compile a jsonpath-ng expression once; `select(subject)` gives each match
with its field path, innermost index, every list index on the way and Kubernetes-notation
path) and `SelectorError`. Simple paths (`$`, `.field`, `['field']`, `[n]`, `[*]`) run on a
direct walker; anything else (filters, slices, `..`) goes through jsonpath-ng's `find`.
Called by: `engine.rules.compiling` (compile), `engine.rules.evaluating` (select).
Must not import: anything in `engine` but `engine.sources`.
"""

from __future__ import annotations

import functools
import typing
from typing import Any

import jsonpath_ng
from jsonpath_ng import ext as jsonpath_ext

from engine.sources import yaml as sources_yaml

_ALL = object()
_END = object()
_text = functools.lru_cache(maxsize=16384)(sources_yaml.format_path)  # the same paths recur across requests


class SelectorError(Exception):
    """A forEach expression that jsonpath-ng cannot parse."""


class Match(typing.NamedTuple):
    """One element found by a selector."""

    value: Any
    path: sources_yaml.FieldPath
    index: int
    indexes: tuple[int, ...]
    text: str  # Kubernetes notation, e.g. spec.replicatedJobs[2].dependsOn[0]


class Selector:
    """A compiled forEach expression."""

    def __init__(self, source: str) -> None:
        self.source = source
        try:
            self._expression = jsonpath_ext.parse(source)
        except Exception as error:  # jsonpath-ng raises JsonPathParserError, its lexer a bare Exception
            raise SelectorError(f"invalid forEach JSONPath {source!r}: {error}") from None
        self._steps = _simple_steps(self._expression)
        self._runs = None if self._steps is None else _runs(self._steps)

    @property
    def depth(self) -> int | None:
        """How many keys every match path has, for a simple path (None when it varies)."""
        return None if self._steps is None else len(self._steps)

    @property
    def fields(self) -> tuple[str | None, ...] | None:
        """For a simple path, each step's field name, or None where a match has its own list
        index or map key (`[n]`, `[*]`); None when the path is not simple."""
        if self._steps is None:
            return None
        return tuple(step if isinstance(step, str) else None for step in self._steps)

    def select(self, subject: Any) -> list[Match]:
        """Every match in document order."""
        if self._steps is not None and self._runs is not None:
            found = _walk(subject, self._steps, self._runs)
        else:
            found = [(datum.value, _path_of(datum.full_path)) for datum in self._expression.find(subject)]
            found = [(value, path, tuple(p for p in path if isinstance(p, int))) for value, path in found]
        return [Match(value, path, indexes[-1] if indexes else -1, indexes, _text(path))
                for value, path, indexes in found]


def _simple_steps(expression: Any) -> tuple[Any, ...] | None:
    """The chain of field names / indexes / _ALL, or None when the path needs jsonpath-ng."""
    if isinstance(expression, jsonpath_ng.Root):
        return ()
    if isinstance(expression, jsonpath_ng.Child):
        left = _simple_steps(expression.left)
        right = _simple_steps_leaf(expression.right)
        return None if left is None or right is None else left + (right,)
    return None


def _simple_steps_leaf(node: Any) -> Any:
    if isinstance(node, jsonpath_ng.Fields) and len(node.fields) == 1 and node.fields[0] != "*":
        return node.fields[0]
    if isinstance(node, jsonpath_ng.Index) and len(node.indices) == 1:
        return node.indices[0]
    if isinstance(node, jsonpath_ng.Wildcard) or isinstance(node, jsonpath_ng.Fields) and node.fields == ("*",):
        return _ALL
    return None


def _runs(steps: tuple[Any, ...]) -> tuple[tuple[tuple[str, ...], Any], ...]:
    """`steps` as (the field names up to the next other step, that step or _END)."""
    runs, fields = [], []
    for step in steps:
        if isinstance(step, str):
            fields.append(step)
        else:
            runs.append((tuple(fields), step))
            fields = []
    return tuple(runs) + ((tuple(fields), _END),)


def _walk(subject: Any, steps: tuple[Any, ...], runs: tuple[tuple[tuple[str, ...], Any], ...]
          ) -> list[tuple[Any, sources_yaml.FieldPath, tuple[int, ...]]]:
    """(value, path, list indexes) of every match, in document order: each run of fields is
    followed in place, then each list index or map key taken (`[n]`, `[*]`)."""
    found: list[tuple[Any, tuple[Any, ...], tuple[int, ...]]] = [(subject, (), ())]  # keys: the variable steps'
    for fields, step in runs:
        following = []
        for value, keys, indexes in found:
            for field in fields:
                if not (isinstance(value, dict) and field in value):
                    break
                value = value[field]
            else:
                if step is _END:
                    following.append((value, keys, indexes))
                elif step is _ALL:
                    if isinstance(value, list):
                        following += [(item, keys + (position,), indexes + (position,))
                                      for position, item in enumerate(value)]
                    elif isinstance(value, dict):
                        following += [(item, keys + (key,), indexes) for key, item in value.items()]
                elif isinstance(value, list) and -len(value) <= step < len(value):
                    position = step % len(value)
                    following.append((value[position], keys + (position,), indexes + (position,)))
        found = following
    return [(value, _path(steps, keys), indexes) for value, keys, indexes in found]


def _path(steps: tuple[Any, ...], keys: tuple[Any, ...]) -> sources_yaml.FieldPath:
    """The field path of a match: the fields of `steps`, with `keys` where a step has none."""
    if not keys:
        return steps
    own = iter(keys)
    return tuple([step if step.__class__ is str else next(own) for step in steps])


def _path_of(full_path: Any) -> sources_yaml.FieldPath:
    """jsonpath-ng's full_path (Child/Fields/Index) as a field path tuple."""
    if isinstance(full_path, jsonpath_ng.Child):
        return _path_of(full_path.left) + _path_of(full_path.right)
    if isinstance(full_path, jsonpath_ng.Fields):
        return tuple(full_path.fields)
    if isinstance(full_path, jsonpath_ng.Index):
        return tuple(full_path.indices)
    return ()
