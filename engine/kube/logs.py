"""Structured logs: JSON or key=value lines, carrying the reconciled object on every line.

Owns: `configure` (root handler and format), `bind` (a context manager that adds fields such as
controller, namespace, name and reconcileID to every record logged inside it, including from
tasks it spawns) and the two formatters.
Called by: `kube.controller` (binds the object of each reconcile), the manager and the CLI
(configure once at start-up).
Must not import: anything in `engine`.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime
import json
import logging
from collections.abc import Iterator
from typing import Any

_FIELDS: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar("log_fields", default={})
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


@contextlib.contextmanager
def bind(**fields: Any) -> Iterator[None]:
    """Add `fields` to every log record emitted inside the block (and tasks created in it)."""
    token = _FIELDS.set({**_FIELDS.get(), **fields})
    try:
        yield
    finally:
        _FIELDS.reset(token)


def fields_of(record: logging.LogRecord) -> dict[str, Any]:
    """Bound context fields plus the record's `extra` fields."""
    found = dict(_FIELDS.get())
    found.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
    return found


class JSONFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, then every field."""

    def format(self, record: logging.LogRecord) -> str:
        """Render `record`."""
        line: dict[str, Any] = {"ts": _timestamp(record), "level": record.levelname.lower(),
                                "logger": record.name, "msg": record.getMessage()}
        line.update(fields_of(record))
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


class KeyValueFormatter(logging.Formatter):
    """`ts=... level=... logger=... msg="..." key=value ...`."""

    def format(self, record: logging.LogRecord) -> str:
        """Render `record`."""
        pairs = {"ts": _timestamp(record), "level": record.levelname.lower(), "logger": record.name,
                 "msg": record.getMessage(), **fields_of(record)}
        line = " ".join(f"{key}={_quote(value)}" for key, value in pairs.items())
        if record.exc_info:
            line += " error=" + _quote(self.formatException(record.exc_info))
        return line


def configure(*, fmt: str = "json", level: str = "info") -> None:
    """Send every log record to stderr in format `json` or `text` (key=value) at `level`."""
    formatters = {"json": JSONFormatter, "text": KeyValueFormatter}
    if fmt not in formatters:
        raise ValueError(f"log format must be one of {sorted(formatters)}, got {fmt!r}")
    handler = logging.StreamHandler()
    handler.setFormatter(formatters[fmt]())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


def _timestamp(record: logging.LogRecord) -> str:
    moment = datetime.datetime.fromtimestamp(record.created, datetime.timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _quote(value: Any) -> str:
    text = str(value)
    if text and not any(c in text for c in ' "=\n\t'):
        return text
    return json.dumps(text)
