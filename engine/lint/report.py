"""Reading manifests for `jobset lint` and printing its verdicts.

Owns: splitting input files into JobSet documents (others skipped and counted), locating a
finding's field path in the source file, and the text and JSON renderings of the contract
(`FILE:LINE: field.path: message [pack/rule]`; JSON `{file, index, name, valid, errors}`).
Called by: `engine.cli.commands.lint`.
"""

from __future__ import annotations

import dataclasses
import re
import sys
from typing import Any

from engine.lint import pipeline
from engine.sources import yaml as yamlsource

_PATH_PART = re.compile(r"\.?([^.\[\]]+)|\[([^\]]*)\]")


@dataclasses.dataclass(frozen=True)
class Checked:
    """One JobSet document and its verdict."""

    document: yamlsource.Document
    verdict: pipeline.Verdict


@dataclasses.dataclass
class Tally:
    """What one run saw."""

    checked: list[Checked] = dataclasses.field(default_factory=list)
    skipped: int = 0
    unreadable: int = 0

    @property
    def invalid(self) -> int:
        return sum(not item.verdict.valid for item in self.checked)


def parse_field_path(field: str) -> yamlsource.FieldPath:
    """'spec.replicatedJobs[2].name' -> ('spec', 'replicatedJobs', 2, 'name')."""
    parts: list[str | int] = []
    for match in _PATH_PART.finditer(field):
        key, index = match.group(1), match.group(2)
        if key is not None:
            parts.append(key)
        elif index is not None:
            parts.append(int(index) if index.isdigit() else index)
    return tuple(parts)


def read(filename: str) -> list[yamlsource.Document]:
    """Documents of `filename` (`-` is standard input); raises `SourceError` when unreadable."""
    if filename == "-":
        return yamlsource.load_text(sys.stdin.read(), filename="<stdin>")
    return yamlsource.load_file(filename)


def describe_kind(document: yamlsource.Document) -> str | None:
    """None for a JobSet of any version; otherwise why the document is skipped or refused."""
    data = document.data
    if data is None:
        return "empty"
    if not isinstance(data, dict) or not data.get("kind") or not data.get("apiVersion"):
        return "not a Kubernetes object (apiVersion and kind are required)"
    if data["kind"] == pipeline.KIND and str(data["apiVersion"]).startswith("jobset.x-k8s.io/"):
        return None
    return "other kind"


def version_finding(data: dict[str, Any]) -> pipeline.Finding | None:
    """A JobSet of a version this project does not serve is invalid, as the API server says."""
    if data.get("apiVersion") == pipeline.API_VERSION:
        return None
    return pipeline.Finding("apiVersion", f'no kind "JobSet" is registered for version "{data["apiVersion"]}"; '
                            f"served: {pipeline.API_VERSION}", "apiserver/version")


def text_lines(item: Checked) -> list[str]:
    """One `FILE:LINE: field: message [rule]` line per finding."""
    lines = []
    for finding in item.verdict.findings:
        line, _ = item.document.locate(parse_field_path(finding.field)) if item.document.positions else (1, 1)
        field = f"{finding.field}: " if finding.field else ""
        lines.append(f"{item.document.filename}:{line}: {field}{finding.message} [{finding.rule}]")
    return lines


def json_entry(item: Checked) -> dict[str, Any]:
    """The JSON contract entry for one JobSet document."""
    return {
        "file": item.document.filename,
        "index": item.document.index,
        "name": item.verdict.name,
        "valid": item.verdict.valid,
        "errors": [finding.to_json() for finding in item.verdict.findings],
    }
