"""Name-format checks of spec §6.0 and the pure-Python helpers behind `jsonOverlay`."""

import pytest

from engine.cel import k8slib, k8svalidation


@pytest.mark.parametrize("value", ["a", "0", "my-name", "123-abc", "a" * 63])
def test_dns1123_label_accepts(value: str) -> None:
    assert k8svalidation.dns1123_label_errors(value) == []


@pytest.mark.parametrize("value", ["", "-a", "a-", "A", "a.b", "a_b", "a b"])
def test_dns1123_label_rejects_with_the_regex_in_the_message(value: str) -> None:
    errors = k8svalidation.dns1123_label_errors(value)
    assert len(errors) == 1
    assert k8svalidation.DNS1123_LABEL in errors[0]


def test_too_long_and_malformed_are_both_reported() -> None:
    """§6.0: a 64-char value with an uppercase letter breaks both rules."""
    errors = k8svalidation.dns1123_label_errors("A" * 64)
    assert errors[0] == "must be no more than 63 characters"
    assert len(errors) == 2


@pytest.mark.parametrize(("value", "valid"), [
    ("example.com", True), ("a.b.c", True), ("1.2", True), ("a" * 253, True),
    ("a" * 254, False), ("a..b", False), (".a", False), ("a.", False), ("Example.com", False),
])
def test_dns1123_subdomain(value: str, valid: bool) -> None:
    """§6.0: dot-separated labels, at most 253 characters."""
    assert (k8svalidation.dns1123_subdomain_errors(value) == []) is valid


@pytest.mark.parametrize(("value", "valid"), [
    ("a", True), ("abc-123", True), ("a" * 63, True), ("a" * 64, False),
    ("1abc", False), ("", False), ("a.b", False), ("a-", False),
])
def test_dns1035_label(value: str, valid: bool) -> None:
    """§6.0: starts with a letter, no dots."""
    assert (k8svalidation.dns1035_label_errors(value) == []) is valid


@pytest.mark.parametrize(("value", "valid"), [
    ("", True), ("MyValue", True), ("my_value.1-x", True), ("a" * 63, True),
    ("a" * 64, False), ("-a", False), ("a_", False), ("a/b", False),
])
def test_label_value(value: str, valid: bool) -> None:
    """§6.0: empty is valid; otherwise alphanumeric ends."""
    assert (k8svalidation.label_value_errors(value) == []) is valid


@pytest.mark.parametrize(("value", "valid"), [
    ("MyName", True), ("my.name", True), ("example.com/MyName", True), ("a" * 63, True),
    ("a" * 64, False), ("/name", False), ("Example.com/name", False), ("a/", False),
    ("a/b/c", False), ("", False), ("-name", False),
])
def test_qualified_name(value: str, valid: bool) -> None:
    assert (k8svalidation.qualified_name_errors(value) == []) is valid


def test_qualified_name_prefixes_part_names() -> None:
    assert k8svalidation.qualified_name_errors("/x") == ["prefix part must not be empty"]
    name_errors = k8svalidation.qualified_name_errors("a/" + "b" * 64)
    assert name_errors == ["name part must be no more than 63 characters"]


@pytest.mark.parametrize(("value", "valid"), [
    ("acme.io/foo", True), ("kueue.x-k8s.io/multikueue", True), ("acme.io/a/b~c", True),
    ("", False), ("acme.io", False), ("acme.io/", False), ("/foo", False),
    ("Acme.io/foo", False), ("acme.io/foo bar", False),
])
def test_domain_prefixed_path(value: str, valid: bool) -> None:
    """§6.0: host/path, host a DNS-1123 subdomain, path URL characters."""
    assert (k8svalidation.domain_prefixed_path_errors(value) == []) is valid


def test_json_overlay_decodes_pointer_escapes() -> None:
    target = {"metadata": {"labels": {"a/b": "1", "c~d": "2"}}}
    source = {"metadata": {"labels": {"a/b": "9"}}}
    result = k8slib.json_overlay(target, source, ["/metadata/labels/a~1b", "/metadata/labels/c~0d"])
    assert result == {"metadata": {"labels": {"a/b": "9"}}}


def test_json_overlay_walks_list_indices_and_does_not_touch_its_inputs() -> None:
    target = {"jobs": [{"n": 1, "x": "new"}, {"n": 2}], "big": {"kept": [1, 2, 3]}}
    source = {"jobs": [{"n": 1, "x": "old"}]}
    result = k8slib.json_overlay(target, source, ["/jobs/0/x", "/jobs/1/n"])
    assert result == {"jobs": [{"n": 1, "x": "old"}, {}], "big": {"kept": [1, 2, 3]}}
    assert target["jobs"][0]["x"] == "new" and target["jobs"][1] == {"n": 2}
    assert result["big"] is target["big"]  # untouched subtrees are shared, not copied


def test_json_overlay_whole_document_and_bad_pointers() -> None:
    assert k8slib.json_overlay({"a": 1}, {"b": 2}, [""]) == {"b": 2}
    with pytest.raises(ValueError, match="must be empty or start with '/'"):
        k8slib.json_overlay({}, {}, ["a"])
    with pytest.raises(ValueError, match="no index"):
        k8slib.json_overlay({"l": []}, {"l": [1]}, ["/l/0"])
