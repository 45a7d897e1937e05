"""The `k8slib` function library, called from CEL on every backend.

Kubernetes list and regex functions use the examples of the Kubernetes CEL documentation
(the lists and regex library reference); our own functions use cases of their own.
"""

from typing import Any

import pytest

from engine.cel import backends, evaluator

VARIABLES = ("object", "item")


@pytest.fixture(params=backends.available_backends())
def name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def env(name: str) -> evaluator.Environment:
    return backends.get_backend(name).environment(VARIABLES)


def run(env: evaluator.Environment, source: str, obj: Any = None) -> Any:
    return env.compile(source).evaluate(env.activation({"object": obj or {}, "item": None}))


def fails(env: evaluator.Environment, source: str) -> str:
    with pytest.raises(evaluator.CelEvaluationError) as caught:
        run(env, source)
    return caught.value.message


# --- Kubernetes lists (documentation examples) -----------------------------------------------

@pytest.mark.parametrize(("source", "expected"), [
    ("[1, 2, 3].isSorted()", True),
    ("['a', 'b', 'b', 'c'].isSorted()", True),
    ("[2.0, 1.0].isSorted()", False),
    ("[1].isSorted()", True),
    ("[].isSorted()", True),
])
def test_is_sorted(env: evaluator.Environment, source: str, expected: bool) -> None:
    assert run(env, source) is expected


@pytest.mark.parametrize(("source", "expected"), [
    ("[1, 3].sum()", 4),
    ("[1.0, 3.0].sum()", 4.0),
    ("[].sum()", 0),
    ("object.weights.sum()", 6),
])
def test_sum(env: evaluator.Environment, source: str, expected: Any) -> None:
    assert run(env, source, {"weights": [1, 2, 3]}) == expected


@pytest.mark.parametrize(("source", "expected"), [
    ("[1, 3].min()", 1),
    ("[1].min()", 1),
    ("([0] + object.empty).min()", 0),
    ("[1, 3].max()", 3),
    ("['b', 'a'].min()", "a"),
])
def test_min_max(env: evaluator.Environment, source: str, expected: Any) -> None:
    assert run(env, source, {"empty": []}) == expected


@pytest.mark.parametrize("source", ["[].min()", "[].max()"])
def test_min_max_of_empty_list_is_an_error(
    name: str, env: evaluator.Environment, source: str
) -> None:
    # cel-python evaluates `l.min()` with a built-in macro of its own, never calling ours
    expected = "empty" if name == "celpy" and "min" in source else "empty list"
    assert expected in fails(env, source)


def test_library_errors_are_values_absorbed_by_logic(env: evaluator.Environment) -> None:
    assert run(env, "[].max() == 1 || true") is True
    assert run(env, "false && 'x'.find('[') == ''") is False


def test_sum_of_mixed_types_is_an_error(env: evaluator.Environment) -> None:
    with pytest.raises(evaluator.CelEvaluationError) as caught:
        run(env, "object.mixed.sum()", {"mixed": [1, "a"]})
    assert "cannot be compared" in caught.value.message


@pytest.mark.parametrize(("source", "expected"), [
    ("[1, 2, 2, 3].indexOf(2)", 1),
    ("['a', 'b', 'b', 'c'].lastIndexOf('b')", 2),
    ("[1.0].indexOf(1.1)", -1),
    ("[].indexOf('string')", -1),
    ("object.names.indexOf('should-be-first')", 1),
    ("[true, 1].indexOf(1)", 1),
    ("'abcb'.indexOf('b')", 1),
    ("'abcb'.lastIndexOf('b')", 3),
    ("object.s.indexOf('c')", 2),
])
def test_index_of(env: evaluator.Environment, source: str, expected: int) -> None:
    obj = {"names": ["x", "should-be-first"], "s": "abcb"}
    assert run(env, source, obj) == expected


# --- Kubernetes regex (documentation examples) -----------------------------------------------

@pytest.mark.parametrize(("source", "expected"), [
    ("'abc 123'.find('[0-9]+')", "123"),
    ("'abc 123'.find('xyz')", ""),
    ("'123 abc 456'.findAll('[0-9]+')", ["123", "456"]),
    ("'123 abc 456'.findAll('[0-9]+', 1)", ["123"]),
    ("'123 abc 456'.findAll('xyz')", []),
    ("'123 abc 456'.findAll('[0-9]+', 0)", []),
    ("'baaac'.findAll('a*')", ["", "aaa", ""]),
])
def test_find(env: evaluator.Environment, source: str, expected: Any) -> None:
    assert run(env, source) == expected


def test_find_with_a_bad_pattern_is_an_error(env: evaluator.Environment) -> None:
    assert "invalid regular expression" in fails(env, "'x'.find('[')")


# --- ours ------------------------------------------------------------------------------------

def test_sha1_is_lowercase_hex_of_utf8(env: evaluator.Environment) -> None:
    assert run(env, "sha1('abc')") == "a9993e364706816aba3e25717850c26c9cd0d89d"
    assert run(env, "sha1('é')") == "bf15be717ac1b080b4f1c456692825891ff5073d"  # UTF-8: c3 a9


@pytest.mark.parametrize(("source", "expected"), [
    ("range(3)", [0, 1, 2]),
    ("range(0)", []),
    ("range(-2)", []),
    ("range(2).map(i, i * 10)", [0, 10]),
])
def test_range(env: evaluator.Environment, source: str, expected: list[int]) -> None:
    assert run(env, source) == expected


@pytest.mark.parametrize(("source", "expected"), [
    ("reSearch('job-7-failed', '[0-9]+')", True),
    ("reSearch('abc', '^b')", False),
    ("reSearch('abc', '[')", False),
    ("reSearch('ABC', '(?i)b')", True),
])
def test_re_search(env: evaluator.Environment, source: str, expected: bool) -> None:
    assert run(env, source) is expected


@pytest.mark.parametrize(("function", "valid", "invalid"), [
    ("dns1123LabelErrors", "my-name", "My_Name"),
    ("dns1123SubdomainErrors", "example.com", "-example.com"),
    ("dns1035LabelErrors", "abc-123", "123-abc"),
    ("labelValueErrors", "", "-bad-"),
    ("qualifiedNameErrors", "example.com/MyName", "a/b/c"),
    ("domainPrefixedPathErrors", "acme.io/foo", "acme.io"),
])
def test_name_format_functions(
    env: evaluator.Environment, function: str, valid: str, invalid: str
) -> None:
    """§6.0: every check returns [] for a valid value and messages for an invalid one."""
    assert run(env, f"{function}(object.v)", {"v": valid}) == []
    errors = run(env, f"{function}(object.v)", {"v": invalid})
    assert errors and all(isinstance(error, str) for error in errors)


def test_too_long_label_message_names_the_limit(env: evaluator.Environment) -> None:
    """§6.0: the too-long text contains 'must be no more than 63 characters'."""
    errors = run(env, "dns1035LabelErrors(object.v)", {"v": "a" * 64})
    assert errors == ["must be no more than 63 characters"]


@pytest.mark.parametrize(("a", "b", "expected"), [
    ({"x": None}, {}, True),
    ({"x": []}, {"x": {}}, True),
    ({"x": [1, {"y": None}]}, {"x": [1, {}]}, True),
    ({"x": [1]}, {"x": [1, 2]}, False),
    ({"x": 1}, {"x": 1.0}, True),
    ({"x": "a"}, {"x": "b"}, False),
    ({"x": ""}, {}, False),
])
def test_semantic_equal(env: evaluator.Environment, a: Any, b: Any, expected: bool) -> None:
    assert run(env, "semanticEqual(object.a, object.b)", {"a": a, "b": b}) is expected


def test_semantic_equal_of_null_and_empty_literals(env: evaluator.Environment) -> None:
    assert run(env, "semanticEqual(null, []) && semanticEqual({}, null)") is True


def test_json_overlay_masks_fields_before_comparison(env: evaluator.Environment) -> None:
    """§6.2: masked fields are copied from the old object; everything else must match."""
    new = {"template": {"labels": {"a": "2"}, "image": "x"}, "replicas": 2}
    old = {"template": {"labels": {"a": "1"}, "image": "x"}, "replicas": 2}
    masked = "jsonOverlay(object.new, object.old, ['/template/labels'])"
    assert run(env, f"{masked} == object.old", {"new": new, "old": old}) is True
    new["template"]["image"] = "y"
    assert run(env, f"{masked} == object.old", {"new": new, "old": old}) is False


def test_json_overlay_removes_and_creates(env: evaluator.Environment) -> None:
    result = run(env, "jsonOverlay({'a': 1, 'b': 2}, {'c': {'d': 3}}, ['/a', '/c/d'])")
    assert result == {"b": 2, "c": {"d": 3}}
