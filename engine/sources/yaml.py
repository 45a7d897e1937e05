"""YAML documents that remember where every field came from.

Owns: `load_text`/`load_file` (multi-document YAML to plain JSON-like data), `Document`
(the data plus a field path -> (line, column) lookup, 1-based), `SourceError` (a YAML
problem located at file:line:col), `FieldPath` and `format_path` (Kubernetes notation).
Called by: `engine.rules.loading` (packs and pack tests), `jobset lint`/`render` (to print
`FILE:LINE: field.path: message`).
Must not import: anything else in `engine`.

Rules: duplicate mapping keys are errors; merge keys (`<<`) are refused; timestamps stay
strings (as Kubernetes reads them); aliases share the anchored data; each document is at
most `max_bytes` long (5 MiB unless told otherwise).
"""

from __future__ import annotations

import dataclasses
import pathlib
from collections.abc import Iterator
from typing import Any

import yaml

MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
MAX_NODES_PER_DOCUMENT = 1_000_000

FieldPath = tuple[str | int, ...]

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_JSON_SCALARS = (str, int, float, bool, type(None))


class SourceError(Exception):
    """A document that cannot be read, located at `filename:line:column` (1-based)."""

    def __init__(self, message: str, *, filename: str, line: int = 1, column: int = 1) -> None:
        super().__init__(f"{filename}:{line}:{column}: {message}")
        self.message = message
        self.filename = filename
        self.line = line
        self.column = column


@dataclasses.dataclass(frozen=True)
class Scalar:
    """Where a scalar's text starts in the file and how it was written."""

    line: int
    column: int
    style: str  # "" plain, "'" or '"' quoted, "|" or ">" block


@dataclasses.dataclass(frozen=True)
class Document:
    """One YAML document: its data and the position of every field in the file."""

    filename: str
    index: int
    data: Any
    positions: dict[FieldPath, tuple[int, int]]
    scalars: dict[FieldPath, Scalar]

    def locate(self, path: FieldPath) -> tuple[int, int]:
        """(line, column) of `path`, or of its nearest parent that exists."""
        path = tuple(path)
        while path not in self.positions:
            path = path[:-1]
        return self.positions[path]

    def locate_in_scalar(self, path: FieldPath, line: int, column: int) -> tuple[int, int]:
        """Map a 1-based (line, column) inside the string at `path` to the file position."""
        scalar = self.scalars.get(tuple(path))
        if scalar is None:
            return self.locate(path)
        if scalar.style in ("|", ">"):
            return scalar.line + line - 1, scalar.column + column - 1
        quote = 1 if scalar.style in ("'", '"') else 0
        if line == 1:
            return scalar.line, scalar.column + quote + column - 1
        return scalar.line + line - 1, column

    def describe(self, path: FieldPath) -> str:
        """`filename:line:column` of `path` (or its nearest existing parent)."""
        line, column = self.locate(path)
        return f"{self.filename}:{line}:{column}"


def format_path(path: FieldPath) -> str:
    """Kubernetes field notation: ('spec', 'rules', 3, 'when') -> 'spec.rules[3].when'."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def load_file(path: pathlib.Path | str, *, max_bytes: int = MAX_DOCUMENT_BYTES) -> list[Document]:
    """Read every document of a YAML file; raises `SourceError` naming the file."""
    filename = str(path)
    try:
        text = pathlib.Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise SourceError(f"cannot read: {err}", filename=filename) from None
    return load_text(text, filename=filename, max_bytes=max_bytes)


def load_text(text: str, *, filename: str = "<input>", max_bytes: int = MAX_DOCUMENT_BYTES) -> list[Document]:
    """Parse every document of `text`; empty (null) documents are dropped."""
    documents: list[Document] = []
    try:
        for index, node in enumerate(_compose_all(text)):
            _check_size(node, text, filename=filename, max_bytes=max_bytes)
            document = _Builder(filename, text).document(index, node)
            if document.data is not None:
                documents.append(document)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = " ".join(part for part in (err.context, err.problem) if part)
        raise SourceError(f"YAML syntax error: {problem}", filename=filename, line=line, column=column) from None
    except yaml.YAMLError as err:
        raise SourceError(f"YAML error: {err}", filename=filename) from None
    return documents


def _compose_all(text: str) -> Iterator[yaml.Node]:
    for node in yaml.compose_all(text, Loader=_Loader):
        if node is not None:
            yield node


def _check_size(node: yaml.Node, text: str, *, filename: str, max_bytes: int) -> None:
    span = text[node.start_mark.index:node.end_mark.index]
    if len(span) > max_bytes or len(span.encode("utf-8")) > max_bytes:
        raise SourceError(f"document is larger than {max_bytes} bytes",
                          filename=filename, line=node.start_mark.line + 1, column=1)


class _Builder:
    """Turns one composed node tree into data, positions and scalar styles."""

    def __init__(self, filename: str, text: str) -> None:
        self.filename = filename
        self.text = text
        self.constructor = yaml.constructor.SafeConstructor()
        self.built: dict[int, Any] = {}
        self.open: set[int] = set()
        self.nodes = 0
        self.positions: dict[FieldPath, tuple[int, int]] = {}
        self.scalars: dict[FieldPath, Scalar] = {}

    def document(self, index: int, node: yaml.Node) -> Document:
        self.positions[()] = _position(node)
        data = self.value(node, ())
        return Document(self.filename, index, data, self.positions, self.scalars)

    def error(self, message: str, node: yaml.Node) -> SourceError:
        line, column = _position(node)
        return SourceError(message, filename=self.filename, line=line, column=column)

    def value(self, node: yaml.Node, path: FieldPath) -> Any:
        if id(node) in self.open:
            raise self.error("recursive alias", node)
        if id(node) in self.built:
            return self.built[id(node)]
        self.nodes += 1
        if self.nodes > MAX_NODES_PER_DOCUMENT:
            raise self.error(f"document has more than {MAX_NODES_PER_DOCUMENT} nodes", node)
        if not isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
            return self.scalar(node, path)
        self.open.add(id(node))
        built = self.mapping(node, path) if isinstance(node, yaml.MappingNode) else self.sequence(node, path)
        self.open.discard(id(node))
        self.built[id(node)] = built
        return built

    def sequence(self, node: yaml.SequenceNode, path: FieldPath) -> list[Any]:
        items: list[Any] = []
        for position, child in enumerate(node.value):
            self.positions[path + (position,)] = _position(child)
            items.append(self.value(child, path + (position,)))
        return items

    def mapping(self, node: yaml.MappingNode, path: FieldPath) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                raise self.error("merge keys (<<) are not supported", key_node)
            if not isinstance(key_node, yaml.ScalarNode):
                raise self.error("mapping keys must be scalars", key_node)
            key = _key_text(self.scalar(key_node, None))
            if key in result:
                raise self.error(f"duplicate key {key!r}", key_node)
            self.positions[path + (key,)] = _position(key_node)
            result[key] = self.value(value_node, path + (key,))
        return result

    def scalar(self, node: yaml.Node, path: FieldPath | None) -> Any:
        if node.tag == _TIMESTAMP_TAG:
            value: Any = node.value
        else:
            try:
                value = self.constructor.construct_object(node, deep=True)
            except yaml.constructor.ConstructorError as err:
                raise self.error(f"cannot read value: {err.problem}", node) from None
        if not isinstance(value, _JSON_SCALARS):
            raise self.error(f"unsupported YAML type {node.tag}", node)
        if path is not None and isinstance(value, str):
            self.scalars[path] = self.scalar_start(node)
        return value

    def scalar_start(self, node: yaml.Node) -> Scalar:
        line, column = _position(node)
        style = node.style or ""
        if style in ("|", ">"):
            line, column = self.block_start(node.start_mark.index, node.end_mark.index, line)
        return Scalar(line, column, style)

    def block_start(self, start: int, end: int, header_line: int) -> tuple[int, int]:
        """First content line of a block scalar and its indentation (1-based)."""
        body = self.text[start:end].split("\n")[1:]
        for offset, text in enumerate(body, start=1):
            if text.strip():
                return header_line + offset, len(text) - len(text.lstrip(" ")) + 1
        return header_line + 1, 1


def _key_text(key: Any) -> str:
    """Mapping keys as Kubernetes reads them: always strings."""
    if isinstance(key, str):
        return key
    if isinstance(key, bool) or key is None:
        return {True: "true", False: "false", None: "null"}[key]
    return str(key)


def _position(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1
