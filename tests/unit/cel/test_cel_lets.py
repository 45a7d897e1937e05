"""Local bindings in the evaluator contract: `Environment.compile(source, lets=...)` (engine.cel.evaluator)."""

from __future__ import annotations

import pytest

from engine.cel import backends, evaluator


def test_lets_bind_names_in_order_each_seeing_the_ones_before() -> None:
    environment = backends.get_backend("celexpr").environment(("x",))
    assert environment.local_bindings
    program = environment.compile("[a, b]", lets=[("a", "x + 1"), ("b", "a * 10")])
    assert program.evaluate(environment.activation({"x": 2})) == [3, 30]


def test_a_let_never_read_is_never_evaluated() -> None:
    environment = backends.get_backend("celexpr").environment(("x",))
    program = environment.compile("x", lets=[("broken", "1 / x")])
    assert program.evaluate(environment.activation({"x": 0})) == 0
    failing = environment.compile("broken", lets=[("broken", "1 / x")])
    with pytest.raises(evaluator.CelEvaluationError, match="divide by zero"):
        failing.evaluate(environment.activation({"x": 0}))


def test_packs_never_get_cel_bind_themselves() -> None:
    environment = backends.get_backend("celexpr").environment(("x",))
    with pytest.raises(evaluator.CelCompileError):
        environment.compile("cel.bind(y, x, y)")


def test_a_backend_without_local_bindings_refuses_lets() -> None:
    environment = backends.get_backend("celpy").environment(("x",))
    assert not environment.local_bindings
    assert environment.compile("x + 1").evaluate(environment.activation({"x": 1})) == 2
    with pytest.raises(evaluator.CelCompileError):
        environment.compile("a", lets=[("a", "x")])


def test_lets_respect_the_static_limits() -> None:
    environment = backends.get_backend("celexpr").environment(("x",), limits=evaluator.Limits(max_source_length=20))
    with pytest.raises(evaluator.CelCompileError, match="characters long"):
        environment.compile("a", lets=[("a", "x + " * 10 + "1")])
