"""Compiling packs: every CEL error placed at file:line:col of the expression, on every backend (§3, §4)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from engine.rules import compiling, patching
from rules_fixtures import backend, compiled, problems_of, write_pack  # noqa: F401  (pytest fixtures)

ProblemsOf = Callable[[str, str], list[str]]

VALIDATE = "phase: validate\ninputs: [{name: object}]\n"


def one(found: list[str]) -> str:
    assert len(found) == 1, found
    return found[0].split("/packs/", 1)[1]


def test_undeclared_name_in_a_block_scalar_points_into_the_block_3(problems_of: ProblemsOf) -> None:
    found = one(problems_of("p", VALIDATE + """\
rules:
  - name: r
    assert: |
      object.spec.x == 1 &&
        nope.size() > 0
"""))
    assert found == "p/pack.yaml:14:11: spec.rules[0].assert: undeclared reference to 'nope' [p/r]"


def test_undeclared_name_in_a_quoted_scalar_points_after_the_quote_3(problems_of: ProblemsOf) -> None:
    found = one(problems_of("p", VALIDATE + 'rules:\n  - {name: r, assert: "object.x == missing"}\n'))
    assert found.startswith("p/pack.yaml:11:38: spec.rules[0].assert: undeclared reference to 'missing'")


def test_forEach_names_exist_only_inside_forEach_2_2(problems_of: ProblemsOf) -> None:
    assert "undeclared reference to 'item'" in one(problems_of("p", VALIDATE + 'rules:\n  - {name: r, assert: "item == 1"}\n'))
    assert problems_of("q", VALIDATE + 'rules:\n  - {name: r, forEach: "$.a[*]", assert: "item == index"}\n') == []


def test_variables_see_only_earlier_variables(problems_of: ProblemsOf) -> None:
    found = one(problems_of("p", VALIDATE + """\
variables:
  - {name: a, expression: "b + 1"}
  - {name: b, expression: "1"}
rules:
  - {name: r, assert: "a == b"}
"""))
    assert found == "p/pack.yaml:11:30: spec.variables[0].expression: undeclared reference to 'b' [p]"


def test_syntax_errors_are_positioned(problems_of: ProblemsOf) -> None:
    found = one(problems_of("p", VALIDATE + 'rules:\n  - {name: r, assert: "object.x == (1"}\n'))
    assert found.startswith("p/pack.yaml:11:")
    assert "spec.rules[0].assert" in found


def test_result_types_are_checked_where_the_backend_knows_them_4(problems_of: ProblemsOf, backend: object) -> None:
    found = problems_of("p", VALIDATE + """\
rules:
  - name: r
    assert: "'not a bool'"
    messageExpression: "42"
""")
    if getattr(backend, "name") == "celpy":  # no checker: types are only known at evaluation
        assert found == []
    else:
        assert [f.split(": ", 2)[2] for f in found] == [
            "expression must be of type bool, not string [p/r]", "expression must be of type string, not int [p/r]"]


def test_static_limits_reject_the_pack_4(problems_of: ProblemsOf) -> None:
    deep = "[[[[1]]]].all(a, a.all(b, b.all(c, c.all(d, d > 0))))"
    found = one(problems_of("p", VALIDATE + f'rules:\n  - {{name: r, assert: "{deep}"}}\n'))
    assert "nests more than 3 comprehensions deep" in found
    long = "1 == 1 && " * 1000 + "true"
    assert "must be no more than 10000 characters" in one(problems_of("q", VALIDATE + f'rules:\n  - {{name: r, assert: "{long}"}}\n'))


def test_bad_forEach_is_positioned(problems_of: ProblemsOf) -> None:
    found = one(problems_of("p", VALIDATE + 'rules:\n  - {name: r, forEach: "$.a[[", assert: "true"}\n'))
    assert found.startswith("p/pack.yaml:11:27: spec.rules[0].forEach: invalid forEach JSONPath")


def test_every_error_of_a_pack_is_reported_at_once(problems_of: ProblemsOf) -> None:
    found = problems_of("p", """\
phase: default
inputs: [{name: object}]
rules:
  - name: r
    when: "x"
    patch:
      - {op: add, pathExpression: "y", value: 1}
      - {op: add, path: /a, valueExpression: "z"}
""")
    assert [f.split(": ")[1] for f in found] == [
        "spec.rules[0].when", "spec.rules[0].patch[0].pathExpression", "spec.rules[0].patch[1].valueExpression"]


def test_variables_are_inlined_into_rules_and_simple_ones_into_batches(
        compiled: Callable[..., compiling.CompiledPack]) -> None:
    pack = compiled("p", VALIDATE + """\
variables:
  - {name: names, expression: "object.spec.map(s, s.name)"}
  - {name: count, expression: "names.size()"}
  - {name: limit, expression: "object.metadata.limit + 1"}
rules:
  - {name: r, assert: "count > 0 && names.all(n, n != 'item')", message: m}
  - {name: each, forEach: "$.spec[*]", assert: "item.name in names && index < limit", message: m}
""")
    assert pack.names == ("object", "names", "count", "limit")
    first, each = pack.rules
    assert first.assert_ is not None
    assert first.assert_.source == ("((object.spec.map(s, s.name)).size()) > 0 && "
                                    "(object.spec.map(s, s.name)).all(n, n != 'item')")
    assert first.reads == {"object"}
    assert each.reads == {"names", "limit", "object"}, "forEach rules also read the subject (item)"
    assert each.batch is not None
    assert each.batch_reads == {"object", "names", "jsrEach0"}, "a comprehension would run once per element"
    assert [name for name, _, _ in pack.variables] == ["names", "limit"], "what forEach rules read stays bound"
    assert pack.eager == {"names"}, "limit is only needed if the batch falls back"
    assert first.origin == "p@1.0.0/r"


def test_a_shadowed_variable_keeps_the_pack_uninlined(compiled: Callable[..., compiling.CompiledPack]) -> None:
    pack = compiled("p", VALIDATE + """\
variables:
  - {name: n, expression: "object.spec.size()"}
  - {name: twice, expression: "n * 2"}
rules:
  - {name: r, assert: "[1, 2].all(n, n > 0) && twice >= 0", message: m}
""")
    assert pack.rules[0].assert_ is not None and pack.rules[0].assert_.source.startswith("[1, 2].all(n, n > 0)")
    assert [name for name, _, _ in pack.variables] == ["n", "twice"]


@pytest.mark.parametrize(("pointer", "tokens"), [
    ("", ()), ("/a/b", ("a", "b")), ("/a~1b/~0c", ("a/b", "~c")), ("/", ("",)),
])
def test_parse_pointer(pointer: str, tokens: tuple[str, ...]) -> None:
    assert patching.parse_pointer(pointer) == tokens
