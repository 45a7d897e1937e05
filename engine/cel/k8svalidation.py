"""Kubernetes name-format checks (spec §6.0) returning lists of error messages, [] when valid.

Owns: the DNS-1123 label and subdomain, DNS-1035 label, label value, qualified name and
domain-prefixed path rules, with their regexes and length limits. Called by:
`engine.cel.k8slib`, which exposes each as a CEL function (`dns1123LabelErrors(s)`, ...).
Must not import: anything in `engine`.

A too-long value always yields a message containing "must be no more than N characters",
which packs may match to substitute their own text.
"""

from __future__ import annotations

import functools
import re

DNS1123_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1123_SUBDOMAIN = DNS1123_LABEL + r"(\." + DNS1123_LABEL + r")*"
DNS1035_LABEL = r"[a-z]([-a-z0-9]*[a-z0-9])?"
LABEL_VALUE = r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?"
QUALIFIED_NAME_PART = r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
HTTP_PATH = r"[A-Za-z0-9/\-._~%!$&'()*+,;=:]+"

LABEL_MAX = 63
SUBDOMAIN_MAX = 253

_DNS1123_LABEL_TEXT = (
    "must contain only lower case alphanumeric characters or '-', and begin and end with an "
    "alphanumeric character (for example 'my-name' or '123-abc'; regex used for validation "
    f"is '{DNS1123_LABEL}')"
)
_DNS1123_SUBDOMAIN_TEXT = (
    "must contain only lower case alphanumeric characters, '-' or '.', and begin and end with "
    "an alphanumeric character (for example 'example.com'; regex used for validation is "
    f"'{DNS1123_SUBDOMAIN}')"
)
_DNS1035_LABEL_TEXT = (
    "must contain only lower case alphanumeric characters or '-', begin with a letter and end "
    "with an alphanumeric character (for example 'my-name' or 'abc-123'; regex used for "
    f"validation is '{DNS1035_LABEL}')"
)
_LABEL_VALUE_TEXT = (
    "must be empty or contain only alphanumeric characters, '-', '_' or '.', and begin and end "
    "with an alphanumeric character (for example 'MyValue' or 'my_value'; regex used for "
    f"validation is '{LABEL_VALUE}')"
)
_NAME_PART_TEXT = (
    "must contain only alphanumeric characters, '-', '_' or '.', and begin and end with an "
    "alphanumeric character (for example 'MyName' or 'my.name'; regex used for validation is "
    f"'{QUALIFIED_NAME_PART}')"
)
_PATH_TEXT = (
    "path part must contain only characters valid in a URL path (regex used for validation "
    f"is '{HTTP_PATH}')"
)


def _too_long(limit: int) -> str:
    return f"must be no more than {limit} characters"


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _check(value: str, limit: int, pattern: str, text: str) -> list[str]:
    """Length first, then the anchored regex; both errors may be reported."""
    errors = [_too_long(limit)] if len(value) > limit else []
    if _compiled(pattern).fullmatch(value) is None:
        errors.append(text)
    return errors


def dns1123_label_errors(value: str) -> list[str]:
    """RFC 1123 label: 1-63 lower case alphanumerics or '-', alphanumeric at both ends."""
    return _check(value, LABEL_MAX, DNS1123_LABEL, _DNS1123_LABEL_TEXT)


def dns1123_subdomain_errors(value: str) -> list[str]:
    """RFC 1123 subdomain: dot-separated DNS-1123 labels, at most 253 characters."""
    return _check(value, SUBDOMAIN_MAX, DNS1123_SUBDOMAIN, _DNS1123_SUBDOMAIN_TEXT)


def dns1035_label_errors(value: str) -> list[str]:
    """RFC 1035 label: like a DNS-1123 label but starting with a letter."""
    return _check(value, LABEL_MAX, DNS1035_LABEL, _DNS1035_LABEL_TEXT)


def label_value_errors(value: str) -> list[str]:
    """Label value: empty, or at most 63 alphanumerics, '-', '_', '.', alphanumeric ends."""
    return _check(value, LABEL_MAX, LABEL_VALUE, _LABEL_VALUE_TEXT)


def qualified_name_errors(value: str) -> list[str]:
    """Qualified name: `name` or `prefix/name`, prefix a DNS-1123 subdomain, name <= 63."""
    parts = value.split("/")
    if len(parts) > 2:
        return [
            "a qualified name must be a name part with an optional DNS subdomain prefix and '/' "
            f"(for example 'example.com/MyName'); the name part {_NAME_PART_TEXT}"
        ]
    errors: list[str] = []
    if len(parts) == 2:
        prefix = parts[0]
        if not prefix:
            errors.append("prefix part must not be empty")
        else:
            errors += ["prefix part " + error for error in dns1123_subdomain_errors(prefix)]
    name = parts[-1]
    if not name:
        errors.append("name part must not be empty")
    elif len(name) > LABEL_MAX:
        errors.append("name part " + _too_long(LABEL_MAX))
    if re.fullmatch(QUALIFIED_NAME_PART, name) is None:
        errors.append("name part " + _NAME_PART_TEXT)
    return errors


def domain_prefixed_path_errors(value: str) -> list[str]:
    """Domain-prefixed path: `host/path`, host a DNS-1123 subdomain, path URL-safe characters."""
    if not value:
        return ["must not be empty"]
    host, slash, path = value.partition("/")
    if not host or not slash or not path:
        return ["must be a domain-prefixed path, a host and a path joined by '/' "
                "(for example 'acme.io/foo')"]
    errors = ["host part " + error for error in dns1123_subdomain_errors(host)]
    if re.fullmatch(HTTP_PATH, path) is None:
        errors.append(_PATH_TEXT)
    return errors
