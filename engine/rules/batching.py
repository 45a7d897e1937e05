"""forEach rules folded into one CEL comprehension over their elements.

Owns: `batch_source(rule, each, layout, subject)`, the CEL text that evaluates a whole forEach
rule at once, `Layout` (what an element list holds of each match, and the CEL that reads it),
`Batch` (what the program returns for one element) and `each_name`.
In validate and decision phases the subject never changes during an evaluation, so a rule's
result for every element can be computed by one program, `each.map(e, ...)`, over the list of
elements instead of one activation per element: an activation converts each value it reads,
so per-element activations reading a large variable would convert it once per element. An
element is a short list: on a simple path only the match's own list indexes and map keys
(`item` is read through the subject, `subject['spec']['replicatedJobs'][e[0]]`, which is
converted once), else `item` itself; then `index`, `indexes` and `path`, only those the
rules read. The program only says, per element, whether `when` was false, the assertion
held, or the element *fires* (fails an assertion, yields an action); firing elements, rare
in practice, are then evaluated on their own, which produces their errors, messages and
params. CEL's `?:` is lazy, so an element whose `when` is false never evaluates its `assert`.
`engine.rules.evaluating` falls back to per-element evaluation when the batch program fails
(a runtime error, cel-cpp's iteration budget), so errors are still reported per element.
Patch phases use the same text for `when` alone (see `engine.rules.compiling`).
Called by: `engine.rules.compiling` and `engine.rules.wholepack` (build),
`engine.rules.evaluating` (elements, results).
Must not import: anything in `engine` but `engine.rules` documents, references and selecting.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Any

from engine.rules import documents, references, selecting

ELEMENT = "jsrElement"
FACTS = ("index", "indexes", "path")  # the forEach names besides `item`, in element order


class Batch(enum.IntEnum):
    """What the batch program says of one element."""

    SKIPPED = 0   # `when` was false
    HELD = 1      # the assertion held, or the assertions list is empty
    FIRES = 2     # evaluate this element on its own: it fails an assertion or yields an action


def each_name(position: int) -> str:
    """The activation name of the element list of the `position`-th distinct forEach."""
    return f"jsrEach{position}"


@dataclasses.dataclass(frozen=True)
class Layout:
    """What the element list of one forEach holds of each match, position by position.

    `fields`: the selector's `fields` (a simple path: `item` is read through the subject and
    the element holds the match's own keys), or None (the element holds `item`); `facts`:
    those of FACTS the rules read, after the keys (or `item`).
    """

    fields: tuple[str | None, ...] | None
    facts: tuple[str, ...]

    def element(self, match: selecting.Match, view: references.View | None = None) -> list[Any]:
        """What a batch program knows of `match`; `item` reduced to `view` when given."""
        if self.fields is None:
            known = [match.value if view is None else references.project(match.value, view)]
        else:
            known = [key for key, field in zip(match.path, self.fields) if field is None]
        for name in self.facts:
            known.append(match.index if name == "index" else list(match.indexes) if name == "indexes" else match.text)
        return known

    def names(self, subject: str) -> dict[str, str]:
        """The CEL text of `item` and the facts, read from an element named ELEMENT."""
        if self.fields is None:
            item, width = f"{ELEMENT}[0]", 1
        else:
            parts, width = [], 0
            for field in self.fields:
                parts.append(f"[{quote(field)}]" if field is not None else f"[{ELEMENT}[{width}]]")
                width += field is None
            item = subject + "".join(parts)
        names = {"item": item}
        names.update((name, f"{ELEMENT}[{width + position}]") for position, name in enumerate(self.facts))
        return names


def layout(selector: selecting.Selector, sources: list[str], *, simple: bool = True) -> Layout:
    """The layout of `selector`'s elements for rules whose CEL `sources` these are;
    `simple=False` keeps `item` in the element even on a simple path."""
    read = set().union(*(references.names_read(source) for source in sources)) if sources else set()
    return Layout(selector.fields if simple else None, tuple(name for name in FACTS if name in read))


def batch_source(rule: documents.Rule, each: str, layout_: Layout, subject: str) -> str:
    """`each.map(e, ...)` computing `rule` for every element; raises references.ShadowedError."""
    return f"{each}.map({ELEMENT}, {element_source(rule, layout_.names(subject), rule.when)})"


def element_source(rule: documents.Rule, names: dict[str, str], when: str | None) -> str:
    """The `Batch` value of `rule` with `names` substituted, `when` standing for its `when`;
    raises references.ShadowedError."""
    if rule.assert_ is not None:
        body = f"{part(rule.assert_, names)} ? {Batch.HELD:d} : {Batch.FIRES:d}"
    elif rule.assertions is not None:
        body = f"size({part(rule.assertions, names)}) == 0 ? {Batch.HELD:d} : {Batch.FIRES:d}"
    else:
        body = f"{Batch.FIRES:d}"
    if when is not None:
        body = f"!{part(when, names)} ? {Batch.SKIPPED:d} : ({body})"
    return body


def part(source: str, names: dict[str, str]) -> str:
    """`source`, parenthesised, with those of `names` it reads substituted; raises
    references.ShadowedError."""
    read = references.names_read(source)
    if ELEMENT in read:
        raise references.ShadowedError(f"{ELEMENT} is reserved")
    return "(" + references.inline(source, {name: names[name] for name in read if name in names}) + ")"


def quote(text: str) -> str:
    """A CEL string literal of `text`."""
    escaped = "".join(f"\\x{ord(c):02x}" if ord(c) < 32 or ord(c) == 127 else "\\" + c if c in "\\'" else c
                      for c in text)
    return f"'{escaped}'"
