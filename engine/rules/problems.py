"""Diagnostics about rule packs and pack tests, each placed at file:line:col.

Owns: `Problem` (one finding: where, which field, what, which pack/rule) and its text and
JSON forms. Called by: `loading`, `documents`, `compiling`, `testing` and `jobset rules`.
Must not import: anything in `engine` (it is a plain value).
"""

from __future__ import annotations

import dataclasses
from typing import Any


@dataclasses.dataclass(frozen=True)
class Problem:
    """One finding, printed as `FILE:LINE:COL: field: message [pack/rule]`."""

    filename: str
    line: int
    column: int
    message: str
    field: str = ""
    pack: str = ""
    rule: str = ""

    def __str__(self) -> str:
        where = f"{self.filename}:{self.line}:{self.column}: "
        field = f"{self.field}: " if self.field else ""
        owner = f" [{self.pack}/{self.rule}]" if self.rule else (f" [{self.pack}]" if self.pack else "")
        return f"{where}{field}{self.message}{owner}"

    def to_json(self) -> dict[str, Any]:
        """The fields as a JSON object (for `-o json`)."""
        return dataclasses.asdict(self)
