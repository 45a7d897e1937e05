"""One conformance suite for every CEL backend: the evaluator contract and core CEL semantics.

Each test runs once per backend in `backends.available_backends()`. Where a backend deviates
from the CEL spec the test asserts the deviation for that backend, with the reason.
"""

from typing import Any

import pytest

from engine.cel import backends, evaluator

BACKENDS = backends.available_backends()
VARIABLES = ("object", "oldObject", "item")


@pytest.fixture(params=BACKENDS)
def env(request: pytest.FixtureRequest) -> evaluator.Environment:
    return backends.get_backend(request.param).environment(VARIABLES)


def run(env: evaluator.Environment, source: str, **bindings: Any) -> Any:
    data = {"object": {}, "oldObject": {}, "item": None} | bindings
    return env.compile(source).evaluate(env.activation(data))


def evaluation_error(env: evaluator.Environment, source: str, **bindings: Any) -> str:
    with pytest.raises(evaluator.CelEvaluationError) as caught:
        run(env, source, **bindings)
    return caught.value.message


# --- results come back as plain Python -------------------------------------------------------

@pytest.mark.parametrize(("source", "expected"), [
    ("true", True),
    ("1 + 2", 3),
    ("3u", 3),
    ("1.5 * 2.0", 3.0),
    ("'a' + 'b'", "ab"),
    ("null", None),
    ("b'ab'", b"ab"),
    ("[1, 'a', [true]]", [1, "a", [True]]),
    ("{'a': {'b': [1, 2u]}}", {"a": {"b": [1, 2]}}),
])
def test_results_are_plain_python(env: evaluator.Environment, source: str, expected: Any) -> None:
    result = run(env, source)
    assert result == expected
    assert type(result) is type(expected)


def test_variables_are_read_from_the_activation(env: evaluator.Environment) -> None:
    obj = {"spec": {"replicas": 3, "names": ["a", "b"]}}
    assert run(env, "object.spec.replicas * 2", object=obj) == 6
    assert run(env, "object.spec.names", object=obj) == ["a", "b"]
    assert run(env, "item == null") is True


def test_one_activation_serves_many_programs(env: evaluator.Environment) -> None:
    activation = env.activation({"object": {"a": 1}, "oldObject": {"a": 2}, "item": None})
    assert env.compile("object.a").evaluate(activation) == 1
    assert env.compile("oldObject.a").evaluate(activation) == 2
    assert env.compile("object == oldObject").evaluate(activation) is False


@pytest.mark.parametrize(("source", "expected"), [
    ("true", "bool"),
    ("'x'", "string"),
    ("1 + 2", "int"),
])
def test_return_type_of_literals(env: evaluator.Environment, source: str, expected: str) -> None:
    assert env.compile(source).return_type == expected


def test_program_keeps_its_source(env: evaluator.Environment) -> None:
    assert env.compile("object.a == 1").source == "object.a == 1"


# --- compile errors ---------------------------------------------------------------------------

@pytest.mark.parametrize(("source", "line", "column"), [
    ("object.a +", 1, 11),
    ("object.a == 1 &&\n  object.b ==", 2, 14),
    ("object.a == )", 1, 13),
])
def test_syntax_errors_carry_one_based_positions(
    env: evaluator.Environment, source: str, line: int, column: int
) -> None:
    with pytest.raises(evaluator.CelCompileError) as caught:
        env.compile(source)
    assert (caught.value.line, caught.value.column) == (line, column)
    assert f"{line}:{column}" in caught.value.message


# --- runtime errors ---------------------------------------------------------------------------

@pytest.mark.parametrize("source", [
    "1 / 0",
    "1 % 0",
    "9223372036854775807 + 1",
    "-9223372036854775807 - 2",
    "9223372036854775807 * 2",
    "object.missing == 1",
    "[1, 2][5]",
])
def test_runtime_errors_raise_evaluation_error(env: evaluator.Environment, source: str) -> None:
    assert evaluation_error(env, source)
