"""Object metadata rules shared by every resource type.

Owns: JSON cloning, name formats (DNS subdomain, DNS label, DNS-1035 label), generateName,
the system-owned metadata fields (uid, creationTimestamp, generation, resourceVersion,
deletionTimestamp) and the label and annotation checks (formats, 256 KiB annotation total).
Called by: `api`, `validation`.
Must not import: anything in `engine` outside `localcluster`.
"""

from __future__ import annotations

import json
import random
import re
import sys
from typing import Any

DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS_1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
ANNOTATIONS_LIMIT = 256 * 1024

SYSTEM_FIELDS = ("uid", "creationTimestamp", "generation", "resourceVersion",
                 "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink")


def clone(value: Any) -> Any:
    """A deep copy of JSON-like data (dicts, lists, scalars); faster than copy.deepcopy. Keys are
    interned, so the many stored copies of "metadata", "name"... share one string each."""
    if isinstance(value, dict):
        return {sys.intern(k): clone(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clone(v) for v in value]
    return value


def generated_name(prefix: str) -> str:
    """`prefix` plus five random characters, as the API server does for generateName."""
    return prefix + "".join(random.choice(_SUFFIX_ALPHABET) for _ in range(5))


def name_problems(name: str, style: str) -> list[str]:
    """Why `name` is not a valid `style` ("subdomain", "label", "1035") name; [] when it is."""
    pattern, limit, what = {
        "subdomain": (DNS_SUBDOMAIN, 253, "a lowercase RFC 1123 subdomain must consist of lower case "
                      "alphanumeric characters, '-' or '.', and must start and end with an "
                      "alphanumeric character"),
        "label": (DNS_LABEL, 63, "a lowercase RFC 1123 label must consist of lower case alphanumeric "
                  "characters or '-', and must start and end with an alphanumeric character"),
        "1035": (DNS_1035, 63, "a DNS-1035 label must consist of lower case alphanumeric characters "
                 "or '-', start with an alphabetic character, and end with an alphanumeric character"),
    }[style]
    problems = []
    if len(name) > limit:
        problems.append(f"must be no more than {limit} characters")
    if not pattern.match(name):
        problems.append(what)
    return problems


def _qualified_name_problems(key: str) -> list[str]:
    prefix, _, name = key.rpartition("/")
    problems = []
    if prefix and (len(prefix) > 253 or not DNS_SUBDOMAIN.match(prefix)):
        problems.append("prefix part must be a lowercase RFC 1123 subdomain")
    if not name or len(name) > 63 or not _QUALIFIED_NAME.match(name):
        problems.append("name part must consist of alphanumeric characters, '-', '_' or '.', and "
                        "must start and end with an alphanumeric character (max 63 characters)")
    return problems


def metadata_problems(meta: dict[str, Any]) -> list[tuple[str, str]]:
    """(field, message) pairs for bad label keys or values and oversized annotations."""
    problems: list[tuple[str, str]] = []
    for key, value in (meta.get("labels") or {}).items():
        for problem in _qualified_name_problems(key):
            problems.append((f"metadata.labels", f'Invalid value: "{key}": {problem}'))
        if not isinstance(value, str) or len(value) > 63 or not _LABEL_VALUE.match(value):
            problems.append((f"metadata.labels", f'Invalid value: "{value}": a valid label must be '
                             "an empty string or consist of alphanumeric characters, '-', '_' or "
                             "'.', and must start and end with an alphanumeric character "
                             "(max 63 characters)"))
    annotations = meta.get("annotations") or {}
    for key in annotations:
        for problem in _qualified_name_problems(key):
            problems.append(("metadata.annotations", f'Invalid value: "{key}": {problem}'))
    total = sum(len(k) + len(v if isinstance(v, str) else json.dumps(v))
                for k, v in annotations.items())
    if total > ANNOTATIONS_LIMIT:
        problems.append(("metadata.annotations",
                         f"Too long: may not be more than {ANNOTATIONS_LIMIT} bytes"))
    return problems


def keep_system_fields(new_meta: dict[str, Any], old_meta: dict[str, Any]) -> None:
    """Copy the fields clients cannot change on update from the stored metadata."""
    for field in SYSTEM_FIELDS + ("name", "namespace"):
        if field in old_meta:
            new_meta[field] = old_meta[field]
        else:
            new_meta.pop(field, None)


def without_volatile(obj: dict[str, Any]) -> dict[str, Any]:
    """A shallow view of `obj` with resourceVersion and managedFields removed (for no-op checks)."""
    meta = {k: v for k, v in obj.get("metadata", {}).items()
            if k not in ("resourceVersion", "managedFields")}
    return {**obj, "metadata": meta}
