"""Label and field selectors, parsed once and matched against stored objects.

Owns: `LabelSelector` (the string form `a=b,c!=d,e in (f,g),h,!i` and the structured form
`{matchLabels, matchExpressions}`), `FieldSelector` (`metadata.name=x,status.phase!=Failed`
over the fields each kind supports).
Called by: `api` (list, watch), `admission` (webhook namespace and object selectors).
Must not import: anything in `engine` outside `localcluster`.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from engine.localcluster import errors

_FIELDS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
            "spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName"),
    "Event": ("involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
              "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion",
              "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type"),
    "Job": ("status.successful",),
    "Node": ("spec.unschedulable",),
    "Namespace": ("status.phase",),
    "Secret": ("type",),
}

_REQUIREMENT = re.compile(r"""^\s*(?P<neg>!)?\s*(?P<key>[A-Za-z0-9._/-]+)\s*
    (?:(?P<op>==|=|!=|\s+in\s+|\s+notin\s+)\s*(?P<value>\([^)]*\)|[A-Za-z0-9._-]*))?\s*$""", re.X)


@dataclasses.dataclass(frozen=True)
class _Requirement:
    key: str
    op: str  # "=", "!=", "in", "notin", "exists", "!"
    values: frozenset[str]

    def matches(self, labels: dict[str, str]) -> bool:
        if self.op == "exists":
            return self.key in labels
        if self.op == "!":
            return self.key not in labels
        if self.op in ("=", "in"):
            return labels.get(self.key) in self.values
        return labels.get(self.key) not in self.values  # "!=", "notin"


class LabelSelector:
    """A parsed label selector; the empty selector matches everything."""

    def __init__(self, requirements: list[_Requirement], *, nothing: bool = False) -> None:
        self._requirements = requirements
        self._nothing = nothing

    @classmethod
    def parse(cls, text: str) -> "LabelSelector":
        """Parse the query-string form; BadRequest on a syntax error."""
        return cls([_parse_requirement(part) for part in _split_top_level(text) if part.strip()])

    @classmethod
    def from_dict(cls, selector: dict[str, Any] | None) -> "LabelSelector":
        """The structured `metav1.LabelSelector`; None selects nothing, {} everything."""
        if selector is None:
            return cls([], nothing=True)
        requirements = [_Requirement(k, "=", frozenset([v]))
                        for k, v in (selector.get("matchLabels") or {}).items()]
        operators = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}
        for expression in selector.get("matchExpressions") or []:
            op = operators.get(expression.get("operator", ""))
            if op is None:
                raise errors.bad_request(f"invalid label selector operator {expression.get('operator')!r}")
            requirements.append(_Requirement(expression["key"], op,
                                             frozenset(expression.get("values") or [])))
        return cls(requirements)

    @property
    def empty(self) -> bool:
        """True when it matches every object."""
        return not self._requirements and not self._nothing

    def matches(self, labels: dict[str, str] | None) -> bool:
        """Whether an object with these labels is selected."""
        if self._nothing:
            return False
        labels = labels or {}
        return all(r.matches(labels) for r in self._requirements)


def _split_top_level(text: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in text:
        depth += char == "("
        depth -= char == ")"
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


def _parse_requirement(text: str) -> _Requirement:
    match = _REQUIREMENT.match(text)
    if match is None:
        raise errors.bad_request(f"unable to parse requirement: {text.strip()!r}")
    key, op, value = match["key"], (match["op"] or "").strip(), match["value"]
    if match["neg"]:
        if op:
            raise errors.bad_request(f"unable to parse requirement: {text.strip()!r}")
        return _Requirement(key, "!", frozenset())
    if not op:
        return _Requirement(key, "exists", frozenset())
    if op in ("in", "notin"):
        if not value or not value.startswith("("):
            raise errors.bad_request(f"unable to parse requirement: {text.strip()!r}")
        values = frozenset(v.strip() for v in value[1:-1].split(",") if v.strip())
        return _Requirement(key, op, values)
    return _Requirement(key, "!=" if op == "!=" else "=", frozenset([value or ""]))


class FieldSelector:
    """A parsed field selector (`=`, `==`, `!=` terms joined by commas)."""

    def __init__(self, terms: list[tuple[str, bool, str]]) -> None:
        self.terms = terms

    @classmethod
    def parse(cls, text: str, kind: str) -> "FieldSelector":
        """Parse; BadRequest for syntax errors and field labels `kind` does not support."""
        terms: list[tuple[str, bool, str]] = []
        allowed = ("metadata.name", "metadata.namespace") + _FIELDS.get(kind, ())
        for part in (p.strip() for p in text.split(",")):
            if not part:
                continue
            match = re.match(r"^([A-Za-z0-9._-]+)\s*(==|=|!=)\s*(.*)$", part)
            if match is None:
                raise errors.bad_request(f"invalid selector: {part!r}; can't understand {part!r}")
            field, op, value = match.groups()
            if field not in allowed:
                raise errors.bad_request(f'field label not supported: {field}')
            terms.append((field, op != "!=", value))
        return cls(terms)

    @property
    def empty(self) -> bool:
        """True when it matches every object."""
        return not self.terms

    def name(self) -> str | None:
        """The name an equality on `metadata.name` pins, if any."""
        for field, equal, value in self.terms:
            if field == "metadata.name" and equal:
                return value
        return None

    def matches(self, obj: dict[str, Any]) -> bool:
        """Whether `obj` has every selected field value."""
        return all((_field_value(obj, field) == value) == equal for field, equal, value in self.terms)


def _field_value(obj: dict[str, Any], path: str) -> str:
    current: Any = obj
    for part in path.split("."):
        if not isinstance(current, dict):
            return ""
        current = current.get(part)
    if current is None:
        return ""
    if isinstance(current, bool):
        return "true" if current else "false"
    if isinstance(current, dict) and path == "source":
        return str(current.get("component", ""))
    return str(current)
