"""The pure-Python CEL backend: cel-python (celpy 0.5) behind the evaluator contract.

Owns: `Backend`, its environments and programs; celpy parse errors turned into
`CelCompileError` with 1-based positions, `CELEvalError` into `CelEvaluationError`, celtypes
results into plain Python, and the registration of `k8slib` and `stringsext` functions.
Called by: `engine.cel.backends.get_backend("celpy")`.
Must not import: anything in `engine` but `engine.cel` (evaluator, limits, declarations,
k8slib, stringsext).

celpy has no type checker: `Program.return_type` is always 'dyn', and undeclared names are
only found at evaluation. It is about 50x slower than celexpr; use it for tooling and tests.
Activations convert the request data to celtypes eagerly (one copy per request).
"""

from __future__ import annotations

import datetime
import functools
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import celpy
from celpy import celtypes, evaluation

from engine.cel import declarations, evaluator, k8slib, limits, stringsext

NAME = "celpy"

_PLAIN_SCALARS: tuple[tuple[type, type], ...] = (
    (celtypes.BoolType, bool), (celtypes.IntType, int), (celtypes.UintType, int),
    (celtypes.DoubleType, float), (celtypes.StringType, str), (celtypes.BytesType, bytes),
)
_TYPE_NAMES = {
    celtypes.BoolType: "bool", celtypes.IntType: "int", celtypes.UintType: "uint",
    celtypes.DoubleType: "double", celtypes.StringType: "string", celtypes.BytesType: "bytes",
    celtypes.ListType: "list", celtypes.MapType: "map", celtypes.NullType: "null_type",
    celtypes.TimestampType: "google.protobuf.Timestamp",
    celtypes.DurationType: "google.protobuf.Duration", celtypes.TypeType: "type",
}
_PARSE_LOCK = threading.Lock()


class Program:
    """A parsed celpy expression with its runner."""

    def __init__(self, source: str, runner: celpy.Runner) -> None:
        self._source = source
        self._runner = runner

    @property
    def source(self) -> str:
        return self._source

    @property
    def return_type(self) -> str:
        """Always 'dyn': celpy does not type-check."""
        return "dyn"

    def evaluate(self, activation: evaluator.Activation) -> Any:
        """Evaluate against one request's activation; plain Python out, or CelEvaluationError."""
        try:
            result = self._runner.evaluate(activation)
        except evaluation.CELEvalError as error:
            raise evaluator.CelEvaluationError(_eval_message(error)) from None
        except Exception as error:  # celpy lets internal errors escape (e.g. 3-argument `all`)
            raise evaluator.CelEvaluationError(f"evaluation failed: {error}") from None
        if isinstance(result, evaluation.CELEvalError):
            raise evaluator.CelEvaluationError(_eval_message(result))
        return to_plain(result)


class Environment:
    """Declared variables (dyn), `k8slib` plus `stringsext` functions, and static limits."""

    def __init__(self, variables: tuple[str, ...], limits_: evaluator.Limits) -> None:
        self._variables = variables
        self._limits = limits_

    @property
    def local_bindings(self) -> bool:
        """False: celpy has no `cel.bind`."""
        return False

    def compile(self, source: str, *, lets: Sequence[tuple[str, str]] = ()) -> Program:
        """Check limits and parse; raise CelCompileError with line and column."""
        if lets:
            raise evaluator.CelCompileError("celpy has no local bindings")
        limits.check(source, self._limits)
        env = _celpy_environment()
        try:
            with _PARSE_LOCK:  # the Lark parser is shared and not re-entrant
                tree = env.compile(source)
        except celpy.CELParseError as error:
            raise _compile_error(source, error) from None
        return Program(source, env.program(tree, functions=_functions()))

    def activation(self, bindings: Mapping[str, Any]) -> evaluator.Activation:
        """Convert the declared variables' data to celtypes (celpy needs them eagerly).

        Undeclared bindings are skipped: no program of this environment may read them.
        """
        try:
            return {name: to_cel(bindings[name]) for name in self._variables if name in bindings}
        except (TypeError, ValueError) as error:
            raise evaluator.CelEvaluationError(f"cannot bind variables: {error}") from None


class Backend:
    """cel-python; environments are cached per (variables, limits)."""

    @property
    def name(self) -> str:
        return NAME

    def environment(
        self, variables: tuple[str, ...], *, limits: evaluator.Limits = evaluator.DEFAULT_LIMITS
    ) -> Environment:
        """Build (or reuse) the environment declaring `variables`."""
        return _environment(tuple(variables), limits)


@functools.lru_cache(maxsize=64)
def _environment(variables: tuple[str, ...], limits_: evaluator.Limits) -> Environment:
    return Environment(variables, limits_)


@functools.cache
def _celpy_environment() -> celpy.Environment:
    """One celpy Environment per process: building its parser takes ~100 ms."""
    return celpy.Environment()


@functools.cache
def _functions() -> dict[str, Callable[..., Any]]:
    """One dispatcher per function name over the overloads of k8slib and stringsext."""
    by_name: dict[str, list[declarations.Overload]] = {}
    for function in (*k8slib.FUNCTIONS, *stringsext.FUNCTIONS):
        by_name.setdefault(function.name, []).extend(function.overloads)
    return {name: _dispatcher(name, tuple(overloads)) for name, overloads in by_name.items()}


def _accepts(type_name: str, value: Any) -> bool:
    if type_name == "dyn":
        return True
    if type_name == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    kind = {"bool": bool, "string": str}.get(type_name, list)
    return isinstance(value, kind)


def _dispatcher(name: str, overloads: tuple[declarations.Overload, ...]) -> Callable[..., Any]:
    """Pick the overload matching the plain arguments; failures become CEL error values."""

    def call(*args: Any) -> Any:
        plain = [to_plain(arg) for arg in args]
        for overload in overloads:
            if len(overload.params) == len(plain) and all(
                    _accepts(p, a) for p, a in zip(overload.params, plain)):
                try:
                    return to_cel(overload.impl(*plain))
                except (ValueError, TypeError, OverflowError) as error:
                    return evaluation.CELEvalError(str(error), type(error), None)
        kinds = ", ".join(type(a).__name__ for a in plain)
        return evaluation.CELEvalError(
            f"found no matching overload for '{name}' applied to ({kinds})", TypeError, None)

    return call


def to_cel(value: Any) -> Any:
    """Plain Python -> celtypes (bool before int: bool is an int subclass)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return celtypes.BoolType(value)
    if isinstance(value, int):
        return celtypes.IntType(value)
    if isinstance(value, float):
        return celtypes.DoubleType(value)
    if isinstance(value, str):
        return celtypes.StringType(value)
    if isinstance(value, dict):
        return celtypes.MapType({to_cel(k): to_cel(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return celtypes.ListType([to_cel(item) for item in value])
    if isinstance(value, (bytes, bytearray)):
        return celtypes.BytesType(bytes(value))
    raise TypeError(f"unsupported value of type {type(value).__name__}")


def to_plain(value: Any) -> Any:
    """celtypes -> plain Python; timestamps and durations become their CEL strings."""
    if value is None:
        return None
    for cel_type, plain_type in _PLAIN_SCALARS:
        if isinstance(value, cel_type):
            return plain_type(value)
    if isinstance(value, dict):
        return {to_plain(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_plain(item) for item in value]
    if isinstance(value, (celtypes.TimestampType, celtypes.DurationType)):
        return str(value)
    if isinstance(value, type):
        return _TYPE_NAMES.get(value, value.__name__)
    if isinstance(value, (bool, int, float, str, bytes, datetime.datetime)):
        return value
    raise evaluator.CelEvaluationError(f"result of unsupported type {type(value).__name__}")


def _compile_error(source: str, error: celpy.CELParseError) -> evaluator.CelCompileError:
    """Rebuild a cel-go style message: `ERROR: <input>:L:C: Syntax error: ...` plus a caret.

    Lark places an unexpected end of input on the last token; cel-go places it just after the
    end of the source, and so do we.
    """
    reason = str(error.__context__ or "").split("\n", 1)[0].split(" at line ", 1)[0]
    line, column = getattr(error, "line", None), getattr(error, "column", None)
    lines = source.split("\n")
    if "Token('$END'" in reason or line is None or column is None:
        line, column = len(lines), len(lines[-1]) + 1
    message = (f"ERROR: <input>:{line}:{column}: Syntax error: {reason or 'invalid syntax'}"
               f"\n | {lines[line - 1]}\n | " + "." * (column - 1) + "^")
    return evaluator.CelCompileError(message, line=line, column=column)


def _eval_message(error: evaluation.CELEvalError) -> str:
    """The first element of celpy's error tuple, without the activation dump."""
    message = str(error.args[0]) if error.args else "evaluation error"
    detail = error.args[2] if len(error.args) > 2 else None
    if message == "return error for overflow" and detail:  # celpy's label for any ValueError
        message = str(detail[0])
    return message.split(" (in activation ", 1)[0]
