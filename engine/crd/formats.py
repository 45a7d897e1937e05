"""String formats that kube-apiserver checks in custom resources.

Owns: `check(format, text) -> bool` for the formats Kubernetes validates (date-time, date,
byte, uuid*, ipv4, ipv6, cidr, mac, hostname, email, uri, duration, ...), and `checked(format)`
telling whether a format is one of them. Unknown formats and numeric formats (int32, int64,
float, double) always pass, as in Kubernetes.
Called by: `engine.crd.keywords` (check) and `engine.crd.nodes` (checked).
Must not import: anything in `engine`.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import ipaddress
import re
import urllib.parse
from collections.abc import Callable

_UUID = r"[0-9a-f]{8}-?[0-9a-f]{4}-?{v}[0-9a-f]{3}-?{r}[0-9a-f]{3}-?[0-9a-f]{12}"
_PATTERNS = {
    "uuid": re.compile(r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$"),
    "uuid3": re.compile("(?i)^" + _UUID.replace("{v}", "3").replace("{r}", "[0-9a-f]") + "$"),
    "uuid4": re.compile("(?i)^" + _UUID.replace("{v}", "4").replace("{r}", "[89ab]") + "$"),
    "uuid5": re.compile("(?i)^" + _UUID.replace("{v}", "5").replace("{r}", "[89ab]") + "$"),
    "hostname": re.compile(
        r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
        r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$"),
    "email": re.compile(r"^[^@\s]+@[^@\s]+$"),
    "mac": re.compile(r"^(?:[0-9A-Fa-f]{2}[:-]){5,19}[0-9A-Fa-f]{2}$"),
    "bsonobjectid": re.compile(r"^[0-9a-fA-F]{24}$"),
    "hexcolor": re.compile(r"^#?(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$"),
    "duration": re.compile(
        r"^[-+]?(?:\d+(?:\.\d*)?|\.\d+)\s*(?:ns|us|µs|ms|s|m|h|d|w)"
        r"(?:[-+]?(?:\d+(?:\.\d*)?|\.\d+)\s*(?:ns|us|µs|ms|s|m|h|d|w))*$"),
}
_DATE_TIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$")


def check(name: str | None, text: str) -> bool:
    """True when `text` is valid for format `name` (or the format is not checked)."""
    if name is None:
        return True
    checker = _CHECKERS.get(name)
    if checker is not None:
        return checker(text)
    pattern = _PATTERNS.get(name)
    return pattern is None or pattern.match(text) is not None


def checked(name: str | None) -> bool:
    """False when `check(name, ...)` passes every string: no format, or one not checked."""
    return name is not None and (name in _CHECKERS or name in _PATTERNS)


def _date_time(text: str) -> bool:
    if _DATE_TIME.match(text) is None:
        return False
    try:
        datetime.datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _date(text: str) -> bool:
    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


def _byte(text: str) -> bool:
    try:
        base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def _ip(version: int) -> Callable[[str], bool]:
    def checker(text: str) -> bool:
        try:
            return ipaddress.ip_address(text).version == version
        except ValueError:
            return False
    return checker


def _cidr(text: str) -> bool:
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        return False
    return "/" in text


def _uri(text: str) -> bool:
    parsed = urllib.parse.urlparse(text)
    return bool(parsed.scheme) or text.startswith("/")


_CHECKERS = {
    "date-time": _date_time, "datetime": _date_time, "date": _date, "byte": _byte,
    "ipv4": _ip(4), "ipv6": _ip(6), "cidr": _cidr, "uri": _uri,
}
