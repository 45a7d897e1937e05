"""The default CEL backend: cel-expr-python (Google's cel-cpp) behind the evaluator contract.

Owns: `Backend`, its environments and programs; turning cel-cpp compile errors into
`CelCompileError` with positions, error values into `CelEvaluationError`, and results into
plain Python. Called by: `engine.cel.backends.get_backend`.
Must not import: anything in `engine` but `engine.cel` (evaluator, limits, k8slib).

Results: uint becomes int, bytes stay bytes, a timestamp becomes its RFC 3339 string, a
duration its CEL string form (`"3600s"`), a type its lowercase name. Activations wrap the
caller's data lazily (no copy); make one per request, never reuse one across requests: cel-cpp
keeps every evaluation's allocations in the activation's arena.
"""

from __future__ import annotations

import datetime
import functools
import re
from collections.abc import Mapping, Sequence
from typing import Any

from cel_expr_python import cel
from cel_expr_python.ext import ext_optional, ext_strings

from engine.cel import evaluator, k8slib, limits

NAME = "celexpr"

_POSITION = re.compile(r"<input>:(\d+):(\d+):")
_STATUS_PREFIX = re.compile(r"^[A-Z_]+: ")
_STATUS_SUFFIX = re.compile(r" \[[A-Z_]+\]$")
_SCALARS = (bool, int, float, str, type(None))
_JSON_LEAVES = frozenset(_SCALARS)
_TYPES = {
    "bool": cel.Type.BOOL,
    "int": cel.Type.INT,
    "string": cel.Type.STRING,
    "dyn": cel.Type.DYN,
    "list": cel.Type.List(cel.Type.DYN),
    "list<string>": cel.Type.List(cel.Type.STRING),
    "list<int>": cel.Type.List(cel.Type.INT),
}


class Program:
    """A checked cel-cpp expression; thread-safe and reusable across requests."""

    def __init__(self, source: str, expression: cel.Expression) -> None:
        self._source = source
        self._expression = expression
        self._return_type = _type_name(expression.return_type())

    @property
    def source(self) -> str:
        return self._source

    @property
    def return_type(self) -> str:
        """Checked result type: 'bool', 'string', 'int', 'list', 'map', 'dyn', ..."""
        return self._return_type

    def evaluate(self, activation: evaluator.Activation) -> Any:
        """Evaluate against one request's activation; plain Python out, or CelEvaluationError."""
        try:
            value = self._expression.eval(activation)
        except RuntimeError as error:  # e.g. a Python function returned an unsupported type
            raise evaluator.CelEvaluationError(_strip_code(str(error))) from None
        if value.type() == cel.Type.ERROR:
            raise evaluator.CelEvaluationError(str(value.value()))
        return _plain(value.plain_value())


class Environment:
    """Declared `dyn` variables, the Kubernetes extensions, `k8slib`, and static limits.

    As in Kubernetes: strings version 2, optional types, two-variable comprehensions.
    """

    def __init__(self, variables: tuple[str, ...], limits_: evaluator.Limits) -> None:
        self._limits = limits_
        self._variables = variables
        self._env = _cel_env(variables, False)

    @property
    def local_bindings(self) -> bool:
        """True: lets become nested `cel.bind`s."""
        return True

    def compile(self, source: str, *, lets: Sequence[tuple[str, str]] = ()) -> Program:
        """Check limits, parse and type-check; raise CelCompileError with line and column.

        With `lets`, `source` is compiled inside nested `cel.bind(name, definition, ...)`
        (cel-cpp evaluates a binding lazily, once), in an environment that has the bindings
        extension: pack authors' expressions never get `cel.bind`, which celpy lacks.
        """
        for _, definition in lets:
            limits.check(definition, self._limits)
        limits.check(source, self._limits)
        text = source
        for name, definition in reversed(lets):
            text = f"cel.bind({name}, {definition}, {text})"
        try:
            expression = _cel_env(self._variables, bool(lets)).compile(text)
        except (RuntimeError, ValueError) as error:
            raise _compile_error(str(error)) from None
        return Program(text, expression)

    def activation(self, bindings: Mapping[str, Any]) -> evaluator.Activation:
        """Wrap one request's JSON-like data; the data is read lazily, not copied."""
        return self._env.Activation(dict(bindings))


class Backend:
    """cel-expr-python; environments are cached per (variables, limits)."""

    @property
    def name(self) -> str:
        return NAME

    def environment(
        self, variables: tuple[str, ...], *, limits: evaluator.Limits = evaluator.DEFAULT_LIMITS
    ) -> Environment:
        """Build (or reuse) the environment declaring `variables` as `dyn`."""
        return _environment(tuple(variables), limits)


@functools.lru_cache(maxsize=64)
def _environment(variables: tuple[str, ...], limits_: evaluator.Limits) -> Environment:
    return Environment(variables, limits_)


@functools.lru_cache(maxsize=128)
def _cel_env(variables: tuple[str, ...], bindings: bool) -> cel.Env:
    """A cel-cpp environment declaring `variables` as `dyn`; `bindings`: with `cel.bind`."""
    return cel.NewEnv(
        config=_config(bindings),
        variables={name: cel.Type.DYN for name in variables},
        extensions=[ext_strings.ExtStrings(2), ext_optional.ExtOptional(), _library()],
    )


@functools.cache
def _config(bindings: bool) -> cel.EnvConfig:
    """Extensions only reachable through cel-cpp's environment config."""
    extensions = "  - name: two-var-comprehensions\n" + ("  - name: bindings\n" if bindings else "")
    return cel.NewEnvConfigFromYaml("extensions:\n" + extensions)


@functools.cache
def _library() -> cel.CelExtension:
    """`k8slib.FUNCTIONS` as one extension, so list `indexOf` merges with the string one."""
    return cel.CelExtension("jobset_k8slib", [
        cel.FunctionDecl(function.name, [
            cel.Overload(
                overload.id, _TYPES[overload.result], [_TYPES[p] for p in overload.params],
                is_member=overload.member, impl=overload.impl,
            )
            for overload in function.overloads
        ])
        for function in k8slib.FUNCTIONS
    ])


def _compile_error(text: str) -> evaluator.CelCompileError:
    """cel-cpp reports `INVALID_ARGUMENT: ERROR: <input>:L:C: msg\\n | src\\n | ..^ [CODE]`."""
    message = _strip_code(text)
    match = _POSITION.search(message)
    if match is None:
        return evaluator.CelCompileError(message)
    return evaluator.CelCompileError(message, line=int(match[1]), column=int(match[2]))


def _strip_code(text: str) -> str:
    """`INVALID_ARGUMENT: msg [INVALID_ARGUMENT]` -> `msg`."""
    return _STATUS_SUFFIX.sub("", _STATUS_PREFIX.sub("", text.strip(), count=1))


def _type_name(cel_type: cel.Type) -> str:
    """'LIST<STRING>' -> 'list', 'MAP<STRING, DYN>' -> 'map', 'BOOL' -> 'bool'."""
    return cel_type.name().split("<", 1)[0].lower()


def _plain(value: Any) -> Any:
    """Normalise `plain_value()` output to the contract's JSON-like types.

    That output is a fresh tree owned by the caller, so containers are fixed in place and
    only leaves that are not JSON already (bytes, timestamps, durations, types) are replaced.
    Map keys need nothing: CEL keys are strings, ints (uint included) or bools.
    """
    kind = type(value)
    if kind in _JSON_LEAVES:
        return value
    if kind is dict:
        for key, item in value.items():
            if type(item) not in _JSON_LEAVES:
                value[key] = _plain(item)
        return value
    if kind is list:
        for position, item in enumerate(value):
            if type(item) not in _JSON_LEAVES:
                value[position] = _plain(item)
        return value
    return _leaf(value)


def _leaf(value: Any) -> Any:
    """A scalar that JSON has no type for, in the contract's form."""
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.timezone.utc).isoformat().replace("+00:00", "Z")
    if isinstance(value, datetime.timedelta):
        return format(value.total_seconds(), "f").rstrip("0").rstrip(".") + "s"
    if isinstance(value, cel.Type):
        return _type_name(value)
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    raise evaluator.CelEvaluationError(f"result of unsupported type {type(value).__name__}")
