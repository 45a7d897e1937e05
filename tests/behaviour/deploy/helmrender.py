"""A strict renderer for the subset of Helm templates the jobset chart uses (no `helm` binary here).

Supported, with Go template semantics: text, `{{ pipeline }}`, `{{-`/`-}}` whitespace trimming,
`{{/* comments */}}`, pipelines of commands (`a | f x`, the piped value as the last argument),
parenthesised pipelines, string and integer literals, fields of `.Values`, `.Release`, `.Chart`,
`.Files.Get`, and the functions `toYaml`, `nindent`, `indent`, `quote`, `replace`, `printf`.
Anything else (`if`, `range`, `include`, other functions) raises `Unsupported`, and a field that
values.yaml does not define raises `Missing` (Helm would print "<no value>"), so a template
that renders here uses only what this file implements, as Helm implements it.
"""

from __future__ import annotations

import pathlib
import re
from collections.abc import Callable
from typing import Any

import yaml

_ACTION = re.compile(r"\{\{(-[ \t\r\n])?(.*?)([ \t\r\n]-)?\}\}", re.DOTALL)
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[()|]|[^\s()|]+')


class Unsupported(Exception):
    """A template construct outside the implemented subset."""


class Missing(Exception):
    """A field the context does not define."""


def _to_yaml(value: Any) -> str:
    # Helm marshals through sigs.k8s.io/yaml (keys sorted) and trims the final newline.
    return yaml.safe_dump(value, sort_keys=True, default_flow_style=False).rstrip("\n")


def _indent(width: int, text: str) -> str:
    pad = " " * width
    return pad + text.replace("\n", "\n" + pad)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "toYaml": _to_yaml,
    "indent": _indent,
    "nindent": lambda width, text: "\n" + _indent(width, text),
    "quote": lambda text: '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"',
    "replace": lambda old, new, text: str(text).replace(old, new),
    "printf": lambda fmt, *args: re.sub(r"%[sdv]", "{}", fmt).format(*args),
}


class Files:
    """`.Files`: files of the chart directory (symbolic links followed, as Helm's loader does)."""

    def __init__(self, chart: pathlib.Path) -> None:
        self.chart = chart

    def Get(self, name: str) -> str:  # noqa: N802 - Helm's spelling
        """The text of `name`, relative to the chart root."""
        return (self.chart / name).read_text()


def render(template: str, context: dict[str, Any]) -> str:
    """Expand `template` with `context` (keys `Values`, `Release`, `Chart`, `Files`)."""
    out: list[str] = []
    position, trim_next = 0, False
    for match in _ACTION.finditer(template):
        text = template[position:match.start()]
        if trim_next:
            text = text.lstrip(" \t\r\n")
        if match.group(1):
            text = text.rstrip(" \t\r\n")
        out.append(text)
        body = match.group(2).strip()
        if not (body.startswith("/*") and body.endswith("*/")):
            out.append(_print(_pipeline(_TOKEN.findall(body), context)))
        position, trim_next = match.end(), bool(match.group(3))
    tail = template[position:]
    out.append(tail.lstrip(" \t\r\n") if trim_next else tail)
    return "".join(out)


def _print(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (str, int, float)):
        return str(value)
    raise Unsupported(f"printing a {type(value).__name__} (Go would print its internal form)")


def _pipeline(tokens: list[str], context: dict[str, Any]) -> Any:
    commands: list[list[Any]] = [[]]
    depth, group = 0, []
    for token in tokens:
        if token == "(":
            depth += 1
            if depth == 1:
                group = []
                continue
        elif token == ")":
            depth -= 1
            if depth == 0:
                commands[-1].append(("pipeline", group))
                continue
        if depth:
            group.append(token)
        elif token == "|":
            commands.append([])
        else:
            commands[-1].append(token)
    value: Any = _NOTHING
    for command in commands:
        value = _command(command, context, value)
    return value


_NOTHING = object()


def _command(command: list[Any], context: dict[str, Any], piped: Any) -> Any:
    if not command:
        raise Unsupported("an empty command")
    head, *rest = command
    function = FUNCTIONS.get(head) if isinstance(head, str) else None
    value = function or _operand(head, context)
    args = [_operand(arg, context) for arg in rest] + ([] if piped is _NOTHING else [piped])
    if callable(value):
        return value(*args)
    if args:
        raise Unsupported(f"arguments given to a non-function {head!r}")
    return value


def _operand(token: Any, context: dict[str, Any]) -> Any:
    if isinstance(token, tuple):
        return _pipeline(token[1], context)
    if token.startswith('"'):
        return bytes(token[1:-1], "utf-8").decode("unicode_escape")
    if re.fullmatch(r"-?\d+", token):
        return int(token)
    if token.startswith("."):
        return _field(token, context)
    raise Unsupported(f"{token!r} (only {', '.join(sorted(FUNCTIONS))}, fields and literals are implemented)")


def _field(path: str, context: dict[str, Any]) -> Any:
    value: Any = context
    for part in path.strip(".").split("."):
        if isinstance(value, dict):
            if part not in value:
                raise Missing(f"{path}: no {part!r} here")
            value = value[part]
        elif hasattr(value, part):
            value = getattr(value, part)
        else:
            raise Missing(f"{path}: no {part!r} here")
    return value


def render_chart(chart: pathlib.Path, *, namespace: str, values: dict[str, Any] | None = None) -> dict[str, str]:
    """Every template of `chart` rendered with its values.yaml (or `values`): file name -> text."""
    metadata = yaml.safe_load((chart / "Chart.yaml").read_text())
    context = {
        "Values": values if values is not None else yaml.safe_load((chart / "values.yaml").read_text()),
        "Release": {"Namespace": namespace, "Name": "jobset", "Service": "Helm"},
        "Chart": {"Name": metadata["name"], "Version": metadata["version"], "AppVersion": metadata["appVersion"]},
        "Files": Files(chart),
    }
    return {path.name: render(path.read_text(), context) for path in sorted((chart / "templates").glob("*.yaml"))}
