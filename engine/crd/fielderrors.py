"""Field errors in the shape and wording kube-apiserver uses for custom resources.

Owns: `FieldError` (cause type, field path in Kubernetes notation, detail, bad value), the
constructors for each cause type, and `child`/`index`/`key` path helpers.
Called by: every other module of `engine.crd`; callers read `structural.FieldError`.
Must not import: anything in `engine`.
"""

from __future__ import annotations

import dataclasses
import json
import re

REQUIRED = "FieldValueRequired"
INVALID = "FieldValueInvalid"
NOT_SUPPORTED = "FieldValueNotSupported"
DUPLICATE = "FieldValueDuplicate"
TOO_MANY = "FieldValueTooMany"
TOO_LONG = "FieldValueTooLong"
TYPE_INVALID = "FieldValueTypeInvalid"
FORBIDDEN = "FieldValueForbidden"

# The words Kubernetes puts before the detail for each cause type.
_HEADINGS = {
    REQUIRED: "Required value",
    INVALID: "Invalid value",
    NOT_SUPPORTED: "Unsupported value",
    DUPLICATE: "Duplicate value",
    TOO_MANY: "Too many",
    TOO_LONG: "Too long",
    TYPE_INVALID: "Invalid value",
    FORBIDDEN: "Forbidden",
}
_WITHOUT_VALUE = frozenset({REQUIRED, FORBIDDEN, TOO_LONG})
_SIMPLE_KEY = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$-]*$")


@dataclasses.dataclass(frozen=True)
class FieldError:
    """One cause of an Invalid status: `field` like `spec.replicatedJobs[0].name`."""

    field: str
    type: str
    detail: str
    value: object = None

    @property
    def body(self) -> str:
        """The message without the field, e.g. `Unsupported value: "X": supported values: "A"`."""
        text = _HEADINGS[self.type]
        if self.type not in _WITHOUT_VALUE:
            text = f"{text}: {render(self.value)}"
        return f"{text}: {self.detail}" if self.detail else text

    @property
    def message(self) -> str:
        """The full Kubernetes text: `<field>: <body>`."""
        return f"{self.field}: {self.body}" if self.field else self.body

    def cause(self) -> dict[str, str]:
        """This error as a `StatusCause` of a 422 Invalid status."""
        return {"reason": self.type, "message": self.body, "field": self.field}


def render(value: object) -> str:
    """A bad value as Kubernetes prints it: strings quoted, numbers bare, JSON otherwise."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if value is None:
        return "null"
    return json.dumps(value, separators=(",", ":"), sort_keys=True, default=str)


def child(path: str, name: str) -> str:
    """The path of property `name` under `path`."""
    return f"{path}.{name}" if path else name


def index(path: str, position: int) -> str:
    """The path of list item `position` under `path`."""
    return f"{path}[{position}]"


def key(path: str, name: str) -> str:
    """The path of map entry `name` under `path` (`metadata.labels[app]`)."""
    return f"{path}[{name}]"


def required(path: str, detail: str = "") -> FieldError:
    """`Required value`."""
    return FieldError(path, REQUIRED, detail)


def invalid(path: str, value: object, detail: str) -> FieldError:
    """`Invalid value: <value>: <detail>`."""
    return FieldError(path, INVALID, detail, value)


def type_invalid(path: str, value: object, detail: str) -> FieldError:
    """A value of the wrong JSON type."""
    return FieldError(path, TYPE_INVALID, detail, value)


def not_supported(path: str, value: object, supported: list[object]) -> FieldError:
    """`Unsupported value: "X": supported values: "A", "B"`."""
    quoted = ", ".join(json.dumps(v) if isinstance(v, str) else render(v) for v in supported)
    return FieldError(path, NOT_SUPPORTED, f"supported values: {quoted}", value)


def duplicate(path: str, value: object) -> FieldError:
    """`Duplicate value: <value>`."""
    return FieldError(path, DUPLICATE, "", value)


def too_many(path: str, actual: int, maximum: int) -> FieldError:
    """`Too many: 6: must have at most 5 items`."""
    return FieldError(path, TOO_MANY, f"must have at most {maximum} items", actual)


def too_long(path: str, value: object, maximum: int) -> FieldError:
    """`Too long: may not be more than 63 bytes`."""
    return FieldError(path, TOO_LONG, f"may not be more than {maximum} bytes", value)


def forbidden(path: str, detail: str) -> FieldError:
    """`Forbidden: <detail>`."""
    return FieldError(path, FORBIDDEN, detail)
