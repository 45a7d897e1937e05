"""Backend-neutral declarations of Python-implemented CEL functions.

Owns: `Function`, `Overload` and the `overload` constructor; the type names they use
('bool', 'int', 'string', 'dyn', 'list', 'list<string>', 'list<int>').
Called by: `engine.cel.k8slib` and `engine.cel.stringsext` (which declare functions) and
`engine.cel.backends` (which register them). Must not import: anything in `engine`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

TYPE_NAMES = frozenset({"bool", "int", "string", "dyn", "list", "list<string>", "list<int>"})


@dataclasses.dataclass(frozen=True)
class Overload:
    """One signature; the implementation takes and returns plain Python values."""

    id: str
    params: tuple[str, ...]
    result: str
    impl: Callable[..., Any]
    member: bool = False


@dataclasses.dataclass(frozen=True)
class Function:
    """A named function with its overloads."""

    name: str
    overloads: tuple[Overload, ...]


def overload(name: str, params: tuple[str, ...], result: str, impl: Callable[..., Any],
             *, member: bool = False) -> Overload:
    """Declare `name(params) -> result` (or `params[0].name(params[1:])` when member)."""
    for type_name in (*params, result):
        if type_name not in TYPE_NAMES:
            raise ValueError(f"unknown CEL type name {type_name!r} in a declaration of {name}")
    suffix = "_".join(p.replace("<", "_").replace(">", "") for p in params)
    return Overload(f"jobset_{name}_{suffix}", params, result, impl, member)
