"""The CEL evaluator contract every backend implements.

Owns: `Backend`, `Environment`, `Program`, `Activation` protocols, the `Limits` value and the
`CelError` tree.
Called by: `engine.rules.compiling` (compile once per pack version) and
`engine.rules.evaluating` (one activation per evaluation request).
Must not import: anything else in `engine`.

Contract:
* `Backend.environment(variables, limits=...)` builds an environment that declares the given
  top-level variable names (all typed `dyn`) plus the extension library
  (`engine.cel.k8slib`). Build it once per pack version, never per request.
* `Environment.compile(source)` parses and, where the backend can, type-checks.
  It raises `CelCompileError` carrying 1-based `line` and `column` when known, and also
  when the source breaks the environment's static `Limits`.
* `Environment.compile(source, lets=((name, definition), ...))`, where the environment's
  `local_bindings` is true, compiles `source` with each name bound to its definition, in
  order (a definition sees the inputs and the names before it, not the later ones). A
  definition is evaluated at most once per evaluation, and only if read. The names need no
  declaration. Where `local_bindings` is false, lets raise `CelCompileError`. Positions in
  the errors of such a program are not meaningful: compile its parts on their own first.
* `Environment.activation(bindings)` wraps plain JSON-like Python data
  (dict, list, str, int, float, bool, None) for one evaluation request.
* An activation may serve the programs of any environment of the same backend whose names
  it declares too (the rules engine evaluates a pack's programs in one activation).
* `Program.evaluate(activation)` returns plain Python data (dict, list, str, int,
  float, bool, None, bytes) or raises `CelEvaluationError`. A uint comes back as int, a
  timestamp as its RFC 3339 string, a duration as its CEL string (`"90s"`), a type as its
  name (`"int"`).
* Backends register the same function library (`engine.cel.k8slib`) and enforce the same
  static `Limits` (`engine.cel.limits`); `engine.cel.backends.get_backend` picks one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, Protocol


class CelError(Exception):
    """Base of every error the CEL layer raises."""

    def __init__(self, message: str, *, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


class CelCompileError(CelError):
    """A syntax, type-check or static-limit error found when compiling an expression."""


class CelEvaluationError(CelError):
    """A runtime error: no such key, overflow, division by zero, bad argument, budget."""


@dataclasses.dataclass(frozen=True)
class Limits:
    """Static limits every compiled expression must respect (checked before parsing)."""

    max_source_length: int = 10_000
    max_comprehension_depth: int = 3


DEFAULT_LIMITS = Limits()


class Activation(Protocol):
    """Backend-specific bindings for one evaluation request; opaque to callers."""


class Program(Protocol):
    """A compiled expression, reusable across requests and threads."""

    @property
    def source(self) -> str: ...

    @property
    def return_type(self) -> str:
        """Checked result type: 'bool', 'string', 'int', 'list', 'map', ... or 'dyn'."""
        ...

    def evaluate(self, activation: Activation) -> Any: ...


class Environment(Protocol):
    """Declared variables plus function library; compiles expressions."""

    @property
    def local_bindings(self) -> bool:
        """Whether `compile` accepts `lets`."""
        ...

    def compile(self, source: str, *, lets: Sequence[tuple[str, str]] = ()) -> Program: ...

    def activation(self, bindings: Mapping[str, Any]) -> Activation: ...


class Backend(Protocol):
    """One CEL library behind the contract above."""

    @property
    def name(self) -> str: ...

    def environment(
        self, variables: tuple[str, ...], *, limits: Limits = DEFAULT_LIMITS
    ) -> Environment: ...
