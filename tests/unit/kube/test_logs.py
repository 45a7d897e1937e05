"""Structured log lines: JSON or key=value, with bound context fields."""

import json
import logging
import sys

import pytest

from engine.kube import logs


def record(message: str, **extra: object) -> logging.LogRecord:
    return logging.makeLogRecord({"name": "jobset.controller", "levelname": "INFO", "levelno": 20,
                                  "msg": message, "args": (), **extra})


def test_json_lines_carry_bound_fields_and_extras() -> None:
    with logs.bind(namespace="ns", name="js"):
        line = json.loads(logs.JSONFormatter().format(record("created job", job="js-w-0")))
    assert line["msg"] == "created job" and line["level"] == "info" and line["logger"] == "jobset.controller"
    assert (line["namespace"], line["name"], line["job"]) == ("ns", "js", "js-w-0")
    assert line["ts"].endswith("Z")


def test_bindings_nest_and_unwind() -> None:
    with logs.bind(controller="jobset"):
        with logs.bind(name="a"):
            inner = logs.fields_of(record("x"))
        outer = logs.fields_of(record("y"))
    assert inner == {"controller": "jobset", "name": "a"}
    assert outer == {"controller": "jobset"}
    assert logs.fields_of(record("z")) == {}


def test_key_value_lines_quote_values_with_spaces_or_quotes() -> None:
    with logs.bind(namespace="ns"):
        line = logs.KeyValueFormatter().format(record('job "x" failed', reason="Backoff Limit"))
    assert 'msg="job \\"x\\" failed"' in line
    assert "namespace=ns" in line and 'reason="Backoff Limit"' in line
    assert line.startswith("ts=")


def test_exceptions_are_rendered_on_the_same_line() -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        failing = record("failed", exc_info=sys.exc_info())
    assert "RuntimeError: boom" in json.loads(logs.JSONFormatter().format(failing))["error"]
    assert "\n" not in logs.KeyValueFormatter().format(failing)


def test_unknown_format_is_rejected() -> None:
    with pytest.raises(ValueError, match="log format must be one of"):
        logs.configure(fmt="xml")
