"""Checks kube-apiserver applies to `x-kubernetes-embedded-resource` objects inside a resource.

Owns: `check(value, path)`: `apiVersion` and `kind` present and well formed, and the
embedded `metadata` shaped as ObjectMeta: name, generateName and namespace formats, label
keys and values, annotation keys.
Called by: `engine.crd.validation`.
Must not import: anything in `engine` outside `engine.crd`.
"""

from __future__ import annotations

import re

from engine.crd import fielderrors

_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_GROUP_VERSION = re.compile(r"^([^/]+/)?[^/]+$")

Errors = list[fielderrors.FieldError]


def check(value: dict[str, object], path: str) -> Errors:
    """Every problem with the type and object metadata of one embedded resource."""
    errors: Errors = []
    api_version, kind = value.get("apiVersion"), value.get("kind")
    if api_version is None:
        errors.append(fielderrors.required(fielderrors.child(path, "apiVersion"), "must not be empty"))
    elif not isinstance(api_version, str) or _GROUP_VERSION.match(api_version) is None:
        errors.append(fielderrors.invalid(fielderrors.child(path, "apiVersion"), api_version,
                                          "must be a group/version or a version"))
    if kind is None:
        errors.append(fielderrors.required(fielderrors.child(path, "kind"), "must not be empty"))
    elif not isinstance(kind, str) or _DNS1035_LABEL.match(kind.lower()) is None:
        errors.append(fielderrors.invalid(fielderrors.child(path, "kind"), kind,
                                          "may have mixed case, but should otherwise be a DNS-1035 label"))
    meta = value.get("metadata")
    if meta is not None:
        errors.extend(_metadata(meta, fielderrors.child(path, "metadata")))
    return errors


def _metadata(meta: object, path: str) -> Errors:
    if not isinstance(meta, dict):
        return [fielderrors.type_invalid(path, meta, f'{path} in body must be of type object')]
    errors: Errors = []
    name = meta.get("name")
    if isinstance(name, str) and name and (name in (".", "..") or "/" in name or "%" in name):
        errors.append(fielderrors.invalid(fielderrors.child(path, "name"), name,
                                          "may not be '.' or '..' and may not contain '/' or '%'"))
    namespace = meta.get("namespace")
    if isinstance(namespace, str) and namespace and (len(namespace) > 63 or _DNS1123_LABEL.match(namespace) is None):
        errors.append(fielderrors.invalid(fielderrors.child(path, "namespace"), namespace,
                                          "a namespace must be a DNS-1123 label"))
    errors.extend(_string_map(meta.get("labels"), fielderrors.child(path, "labels"), values=True))
    errors.extend(_string_map(meta.get("annotations"), fielderrors.child(path, "annotations"), values=False))
    return errors


def _string_map(entries: object, path: str, *, values: bool) -> Errors:
    if entries is None:
        return []
    if not isinstance(entries, dict):
        return [fielderrors.type_invalid(path, entries, f"{path} in body must be of type object")]
    errors: Errors = []
    for key, item in entries.items():
        if not _qualified_name(key):
            errors.append(fielderrors.invalid(path, key, "keys must be qualified names: an optional "
                                              "DNS subdomain prefix and '/', then at most 63 characters"))
        if not isinstance(item, str):
            errors.append(fielderrors.type_invalid(fielderrors.key(path, key), item,
                                                   f"{fielderrors.key(path, key)} in body must be of type string"))
        elif values and (len(item) > 63 or _LABEL_VALUE.match(item) is None):
            errors.append(fielderrors.invalid(fielderrors.key(path, key), item, "a label value must be at most "
                                              "63 characters, alphanumeric, '-', '_' or '.', and start and end "
                                              "with an alphanumeric character"))
    return errors


def _qualified_name(key: str) -> bool:
    prefix, _, name = key.rpartition("/")
    if "/" in key and (not prefix or len(prefix) > 253 or _DNS1123_SUBDOMAIN.match(prefix) is None):
        return False
    return 0 < len(name) <= 63 and _QUALIFIED_NAME.match(name) is not None
