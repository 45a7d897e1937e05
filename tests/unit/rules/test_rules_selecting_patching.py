"""forEach selectors (§2.3) and patch operations (§2.5) on their own."""

from __future__ import annotations

from typing import Any

import pytest

from engine.rules import batching, patching, selecting

DATA = {"spec": {"items": [{"name": "a", "deps": [{"name": "x"}, {"name": "y"}]}, {"name": "b"}], "map": {"k": 1}}}


@pytest.mark.parametrize(("source", "texts", "depth"), [
    ("$", [""], 0),
    ("$.spec.items[*]", ["spec.items[0]", "spec.items[1]"], 3),
    ("$.spec.items[-1]", ["spec.items[1]"], 3),
    ("$.spec.items[*].deps[*]", ["spec.items[0].deps[0]", "spec.items[0].deps[1]"], 5),
    ("$.spec.map.*", ["spec.map.k"], 3),
    ("$.spec['items'][0]", ["spec.items[0]"], 3),
    ("$.spec.items[?(@.name == 'b')]", ["spec.items[1]"], None),
    ("$..name", ["spec.items[0].name", "spec.items[0].deps[0].name", "spec.items[0].deps[1].name",
                 "spec.items[1].name"], None),
    ("$.nothing[*]", [], 2),
])
def test_selectors_match_in_document_order(source: str, texts: list[str], depth: int | None) -> None:
    selector = selecting.Selector(source)
    assert [m.text for m in selector.select(DATA)] == texts
    assert selector.depth == depth


def test_matches_carry_index_and_indexes() -> None:
    match = selecting.Selector("$.spec.items[*].deps[*]").select(DATA)[1]
    assert (match.value, match.path, match.index, match.indexes) == (
        {"name": "y"}, ("spec", "items", 0, "deps", 1), 1, (0, 1))
    assert selecting.Selector("$.spec").select(DATA)[0].index == -1


def test_a_bad_selector_is_a_clear_error() -> None:
    with pytest.raises(selecting.SelectorError, match="invalid forEach JSONPath"):
        selecting.Selector("$.a[[")


def working() -> patching.Working:
    return patching.Working({"a": {"b": [1, 2]}, "s": "x"})


def ops(done: list[Any]) -> list[dict[str, Any]]:
    return [o.to_json() for o in done]


def test_add_creates_parents_and_inserts_into_lists() -> None:
    subject = working()
    assert ops(subject.add(("n", "m"), 1, "o")) == [
        {"op": "add", "path": "/n", "value": {}}, {"op": "add", "path": "/n/m", "value": 1}]
    subject.add(("a", "b", "0"), 0, "o")
    subject.add(("a", "b", "-"), 3, "o")
    assert subject.root["a"]["b"] == [0, 1, 2, 3]


def test_values_are_handed_over_and_operations_record_them_as_they_were_2_5() -> None:
    subject = working()
    value = {"k": [1]}
    done = subject.add(("v",), value, "o")
    assert subject.root["v"] is value and done[0].value is value, "no copy while nothing changes it"
    subject.add(("v", "k", "-"), 2, "o")
    subject.add(("v", "k", "-"), 3, "o")
    assert subject.root["v"] == {"k": [1, 2, 3]}
    assert done[0].value == {"k": [1]} and value == {"k": [1]}, "copied on the first write through it"


def test_a_value_replacing_the_root_is_copied_before_a_write_through_it_2_5() -> None:
    subject = working()
    done = subject.add((), {"a": [1]}, "o") + subject.merge(("a",), {"b": 2}, "o")
    assert subject.root == {"a": {"b": 2}}
    assert [(o.op, o.path, o.value) for o in done] == [
        ("add", "", {"a": [1]}), ("add", "/a", {}), ("add", "/a/b", 2)]


@pytest.mark.parametrize(("call", "message"), [
    (lambda w: w.replace(("zz",), 1, "o"), "cannot replace /zz: it does not exist"),
    (lambda w: w.add(("a", "b", "7"), 1, "o"), "index '7' is out of range"),
    (lambda w: w.add(("s", "t"), 1, "o"), "cannot add at /s/t"),
    (lambda w: w.remove((), "o"), "cannot remove the subject itself"),
])
def test_operations_that_cannot_apply_raise(call: Any, message: str) -> None:
    with pytest.raises(patching.PatchError, match=message):
        call(working())


def test_remove_of_a_missing_target_records_nothing() -> None:
    subject = working()
    assert subject.remove(("nope", "x"), "o") == [] and subject.remove(("a", "b", "5"), "o") == []
    assert ops(subject.remove(("a", "b", "0"), "o")) == [{"op": "remove", "path": "/a/b/0"}]


def test_merge_follows_rfc_7386() -> None:
    subject = working()
    done = subject.merge(("a",), {"b": None, "c": {"d": 1, "e": None}}, "o")
    assert subject.root["a"] == {"c": {"d": 1}}
    assert ops(done) == [{"op": "remove", "path": "/a/b"}, {"op": "add", "path": "/a/c", "value": {"d": 1}}]
    subject.merge((), "scalar", "o")
    assert subject.root == "scalar"


def test_pointer_escapes_tokens() -> None:
    assert patching.pointer(("a/b", "~c", 0)) == "/a~1b/~0c/0"
    assert patching.pointer(()) == ""


def test_copy_json_copies_every_container_and_never_shares_one_between_two_places_2_5() -> None:
    shared = [1, {"deep": True}]
    original = {"a": shared, "b": shared, "c": (1, 2), "n": None, "f": 1.5, "big": 2 ** 70}
    copied = patching.copy_json(original)
    assert copied == original and copied["a"] is not shared and copied["a"] is not copied["b"]
    copied["a"][1]["deep"] = False
    assert shared[1]["deep"] is True and copied["b"][1]["deep"] is True


def test_copy_json_copies_what_marshal_refuses() -> None:
    class Tagged(dict):  # type: ignore[type-arg]
        pass

    original = {"x": Tagged(k=[1])}
    copied = patching.copy_json(original)
    assert copied == original and copied["x"]["k"] is not original["x"]["k"]


def test_working_logs_the_tokens_of_every_operation_parents_first_2_5() -> None:
    working = patching.Working({"spec": {}})
    operations = working.add(("spec", "network", "subdomain"), "s", "p/r")
    operations += working.remove(("spec", "missing"), "p/r")  # nothing to remove: nothing logged
    operations += working.replace(("spec", "network", "subdomain"), "t", "p/r")
    assert working.touched == [("spec", "network"), ("spec", "network", "subdomain"), ("spec", "network", "subdomain")]
    assert [o.path for o in operations] == ["/spec/network", "/spec/network/subdomain", "/spec/network/subdomain"]


@pytest.mark.parametrize(("tokens", "text"), [((), ""), (("a", 0, "b"), "/a/0/b"), (("a/b", "c~d"), "/a~1b/c~0d")])
def test_pointer_escapes_only_what_needs_it(tokens: tuple[Any, ...], text: str) -> None:
    assert patching.pointer(tokens) == text
    assert patching.parse_pointer(text) == tuple(str(t) for t in tokens)


def test_a_batch_element_holds_only_the_match_keys_and_the_facts_read_2_3() -> None:
    selector = selecting.Selector("$.spec.items[*].deps[*]")
    layout = batching.layout(selector, ["item.name == path", "index > 0"])
    match = selector.select(DATA)[1]
    assert layout.element(match) == [0, 1, 1, "spec.items[0].deps[1]"]
    assert layout.names("object") == {"item": "object['spec']['items'][jsrElement[0]]['deps'][jsrElement[1]]",
                                      "index": "jsrElement[2]", "path": "jsrElement[3]"}
    assert batching.layout(selector, ["item.name"], simple=False).element(match) == [{"name": "y"}]
