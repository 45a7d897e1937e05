"""The Kubernetes protobuf encoding, decoded for the few kinds kubectl's imperative `create`
commands send that way (`kubectl create namespace|configmap|secret|serviceaccount|job`, and
`role|clusterrole|rolebinding|clusterrolebinding`).

Owns: the protobuf wire format (varints, length-delimited fields, maps), the `k8s\\x00` envelope
(`runtime.Unknown` carrying `TypeMeta` and the raw message), and a field-number table for
Namespace, ConfigMap, Secret, ServiceAccount, ObjectMeta and the RBAC kinds (numbers from the
published `generated.proto` files; no `aggregationRule`) plus the Job fields `kubectl create job` sets. Other kinds, and any
field number the table does not know carrying a non-zero value (decoding it would silently
lose data), answer 415; a malformed body answers 400.
Called by: `handlers` (request bodies with Content-Type `application/vnd.kubernetes.protobuf`).
Must not import: anything in `engine` outside `localcluster`.
"""

from __future__ import annotations

import base64
import datetime
from typing import Any

from engine.localcluster import errors

MEDIA_TYPE = "application/vnd.kubernetes.protobuf"
_MAGIC = b"k8s\x00"

# message -> field number -> (JSON name, type); "[]" prefix repeated, "{}" map of string to the type
_MESSAGES: dict[str, dict[int, tuple[str, str]]] = {
    "Unknown": {1: ("typeMeta", "TypeMeta"), 2: ("raw", "bytes"), 3: ("contentEncoding", "string"),
                4: ("contentType", "string")},
    "TypeMeta": {1: ("apiVersion", "string"), 2: ("kind", "string")},
    "Time": {1: ("seconds", "int"), 2: ("nanos", "int")},
    "ObjectMeta": {1: ("name", "string"), 2: ("generateName", "string"), 3: ("namespace", "string"),
                   5: ("uid", "string"), 6: ("resourceVersion", "string"), 7: ("generation", "int"),
                   8: ("creationTimestamp", "Time"), 9: ("deletionTimestamp", "Time"),
                   10: ("deletionGracePeriodSeconds", "int"), 11: ("labels", "{}string"),
                   12: ("annotations", "{}string"), 13: ("ownerReferences", "[]OwnerReference"),
                   14: ("finalizers", "[]string")},
    "OwnerReference": {1: ("kind", "string"), 3: ("name", "string"), 4: ("uid", "string"),
                       5: ("apiVersion", "string"), 6: ("controller", "bool"), 7: ("blockOwnerDeletion", "bool")},
    "Namespace": {1: ("metadata", "ObjectMeta"), 2: ("spec", "NamespaceSpec"), 3: ("status", "NamespaceStatus")},
    "NamespaceSpec": {1: ("finalizers", "[]string")},
    "NamespaceStatus": {1: ("phase", "string")},
    "ConfigMap": {1: ("metadata", "ObjectMeta"), 2: ("data", "{}string"), 3: ("binaryData", "{}bytes"),
                  4: ("immutable", "bool")},
    "Secret": {1: ("metadata", "ObjectMeta"), 2: ("data", "{}bytes"), 3: ("type", "string"),
               4: ("stringData", "{}string"), 5: ("immutable", "bool")},
    "ServiceAccount": {1: ("metadata", "ObjectMeta"), 2: ("secrets", "[]ObjectReference"),
                       3: ("imagePullSecrets", "[]LocalObjectReference"), 4: ("automountServiceAccountToken", "bool")},
    "ObjectReference": {1: ("kind", "string"), 2: ("namespace", "string"), 3: ("name", "string"), 4: ("uid", "string"),
                        5: ("apiVersion", "string"), 6: ("resourceVersion", "string"), 7: ("fieldPath", "string")},
    "LocalObjectReference": {1: ("name", "string")},
    "Job": {1: ("metadata", "ObjectMeta"), 2: ("spec", "JobSpec")},
    "JobSpec": {1: ("parallelism", "int"), 2: ("completions", "int"), 3: ("activeDeadlineSeconds", "int"),
                4: ("selector", "LabelSelector"), 5: ("manualSelector", "bool"), 6: ("template", "PodTemplateSpec"),
                7: ("backoffLimit", "int"), 8: ("ttlSecondsAfterFinished", "int"), 9: ("completionMode", "string"),
                10: ("suspend", "bool"), 14: ("podReplacementPolicy", "string"), 15: ("managedBy", "string")},
    "LabelSelector": {1: ("matchLabels", "{}string")},
    "PodTemplateSpec": {1: ("metadata", "ObjectMeta"), 2: ("spec", "PodSpec")},
    "PodSpec": {2: ("containers", "[]Container"), 3: ("restartPolicy", "string"),
                4: ("terminationGracePeriodSeconds", "int"), 6: ("dnsPolicy", "string"),
                7: ("nodeSelector", "{}string"), 8: ("serviceAccountName", "string"), 16: ("hostname", "string"),
                17: ("subdomain", "string"), 19: ("schedulerName", "string")},
    "Container": {1: ("name", "string"), 2: ("image", "string"), 3: ("command", "[]string"), 4: ("args", "[]string"),
                  5: ("workingDir", "string"), 7: ("env", "[]EnvVar"), 8: ("resources", "ResourceRequirements"),
                  13: ("terminationMessagePath", "string"), 14: ("imagePullPolicy", "string"),
                  16: ("stdin", "bool"), 17: ("stdinOnce", "bool"), 18: ("tty", "bool"),
                  20: ("terminationMessagePolicy", "string")},
    "EnvVar": {1: ("name", "string"), 2: ("value", "string")},
    "ResourceRequirements": {1: ("limits", "{}Quantity"), 2: ("requests", "{}Quantity")},
    "Quantity": {1: ("string", "string")},
    "Role": {1: ("metadata", "ObjectMeta"), 2: ("rules", "[]PolicyRule")},
    "ClusterRole": {1: ("metadata", "ObjectMeta"), 2: ("rules", "[]PolicyRule")},
    "PolicyRule": {1: ("verbs", "[]string"), 2: ("apiGroups", "[]string"), 3: ("resources", "[]string"),
                   4: ("resourceNames", "[]string"), 5: ("nonResourceURLs", "[]string")},
    "RoleBinding": {1: ("metadata", "ObjectMeta"), 2: ("subjects", "[]Subject"), 3: ("roleRef", "RoleRef")},
    "ClusterRoleBinding": {1: ("metadata", "ObjectMeta"), 2: ("subjects", "[]Subject"), 3: ("roleRef", "RoleRef")},
    "Subject": {1: ("kind", "string"), 2: ("apiGroup", "string"), 3: ("name", "string"), 4: ("namespace", "string")},
    "RoleRef": {1: ("apiGroup", "string"), 2: ("kind", "string"), 3: ("name", "string")},
}
_RBAC = "rbac.authorization.k8s.io/v1"
_KINDS = {("v1", "Namespace"), ("v1", "ConfigMap"), ("v1", "Secret"), ("v1", "ServiceAccount"), ("batch/v1", "Job"),
          (_RBAC, "Role"), (_RBAC, "ClusterRole"), (_RBAC, "RoleBinding"), (_RBAC, "ClusterRoleBinding")}


_IGNORED = {("Job", 3)}  # the status a create carries; the server resets it anyway


class _Unsupported(Exception):
    """A field this table does not know: decoding it would lose data, so the client must send JSON."""


class _Malformed(Exception):
    pass


def decode(body: bytes) -> dict[str, Any]:
    """The JSON form of a protobuf-encoded object; 415 for kinds not decoded here, 400 when malformed."""
    try:
        if not body.startswith(_MAGIC):
            raise _Malformed("missing the k8s protobuf envelope")
        envelope = _message(body[len(_MAGIC):], "Unknown")
        type_meta = envelope.get("typeMeta") or {}
        api_version, kind = type_meta.get("apiVersion", ""), type_meta.get("kind", "")
        if (api_version, kind) not in _KINDS:
            raise _Unsupported(f"{kind} ({api_version})")
        obj = _message(base64.b64decode(envelope.get("raw", "")), kind)
    except _Unsupported as unknown:
        raise errors.APIStatusError(415, "UnsupportedMediaType", f"the server cannot decode {unknown} from "
                                    "protobuf; send application/json") from None
    except (_Malformed, IndexError, UnicodeDecodeError, ValueError) as error:
        raise errors.bad_request(f"error decoding protobuf body: {error}") from None
    return {"apiVersion": api_version, "kind": kind, **obj}


def _varint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, at
        shift += 7
        if shift > 63:
            raise _Malformed("varint too long")


def _fields(data: bytes) -> list[tuple[int, int | bytes]]:
    found: list[tuple[int, int | bytes]] = []
    at = 0
    while at < len(data):
        key, at = _varint(data, at)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, at = _varint(data, at)
            found.append((number, value))
        elif wire == 2:
            size, at = _varint(data, at)
            if at + size > len(data):
                raise _Malformed("field runs past the end")
            found.append((number, data[at:at + size]))
            at += size
        elif wire in (1, 5):
            at += 8 if wire == 1 else 4
        else:
            raise _Malformed(f"unsupported wire type {wire}")
    return found


def _scalar(value: int | bytes, kind: str) -> Any:
    if kind == "string":
        return value.decode() if isinstance(value, bytes) else str(value)
    if kind == "bytes":
        return base64.b64encode(value).decode() if isinstance(value, bytes) else ""
    if kind == "bool":
        return bool(value)
    if kind == "int":
        return value - (1 << 64) if isinstance(value, int) and value >= 1 << 63 else value
    if not isinstance(value, bytes):
        raise _Malformed(f"expected a {kind} message")
    decoded = _message(value, kind)
    if kind == "Time":
        moment = datetime.datetime.fromtimestamp(decoded.get("seconds", 0), datetime.timezone.utc)
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    if kind == "Quantity":
        return decoded.get("string", "")
    return decoded


def _message(data: bytes, name: str) -> dict[str, Any]:
    schema = _MESSAGES[name]
    out: dict[str, Any] = {}
    for number, value in _fields(data):
        if number not in schema:
            if name in ("Unknown", "ObjectMeta", "Time") or value in (0, b"") or (name, number) in _IGNORED:
                continue  # ignored by the server, or a zero value (Go's encoder writes those too)
            raise _Unsupported(f"field {number} of {name}")
        field, kind = schema[number]
        if kind.startswith("[]"):
            out.setdefault(field, []).append(_scalar(value, kind[2:]))
        elif kind.startswith("{}"):
            if not isinstance(value, bytes):
                raise _Malformed(f"{field}: expected a map entry")
            entry = dict(_fields(value))
            out.setdefault(field, {})[_scalar(entry.get(1, b""), "string")] = _scalar(entry.get(2, b""), kind[2:])
        else:
            out[field] = _scalar(value, kind)
    return out
