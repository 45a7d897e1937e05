"""forEach rules of read-only phases folded into one CEL comprehension over their elements.

Owns: `batch_source(rule, each)`, the CEL text that evaluates a whole forEach rule at once,
`element` (what it knows of one element), `Batch` (what it returns for one element) and
`each_name`. In validate and decision
phases the subject never changes during an evaluation, so a rule's result for every element
can be computed by one program, `each.map(e, ...)`, over the list of elements
(`{index, indexes, path}` plus `keys`, the element's field path, when the forEach is a
simple path, else `item` itself), instead of one activation per element: an activation
converts each value it reads, so per-element activations reading a large variable would
convert it once per element, and `item` is read through the subject (`subject[k0][k1]...`),
which is converted once. The program only says, per element, whether `when` was false, the assertion held, or the
element *fires* (fails an assertion, yields an action); firing elements, rare in practice,
are then evaluated on their own, which produces their errors, messages and params.
CEL's `?:` is lazy, so an element whose `when` is false never evaluates its `assert`.
`engine.rules.evaluating` falls back to per-element evaluation when the batch program fails
(a runtime error, cel-cpp's iteration budget), so errors are still reported per element.
Called by: `engine.rules.compiling` (build), `engine.rules.evaluating` (read results).
Must not import: anything in `engine` but `engine.rules` documents, references and selecting.
"""

from __future__ import annotations

import enum
from typing import Any

from engine.rules import documents, references, selecting

ELEMENT = "jsrElement"


class Batch(enum.IntEnum):
    """What the batch program says of one element."""

    SKIPPED = 0   # `when` was false
    HELD = 1      # the assertion held, or the assertions list is empty
    FIRES = 2     # evaluate this element on its own: it fails an assertion or yields an action


def each_name(position: int) -> str:
    """The activation name of the element list of the `position`-th distinct forEach."""
    return f"jsrEach{position}"


def element(match: selecting.Match, depth: int | None) -> dict[str, Any]:
    """What the batch program knows of one element (see the module docstring)."""
    known: dict[str, Any] = {"index": match.index, "indexes": list(match.indexes), "path": match.text}
    if depth is None:
        known["item"] = match.value
    else:
        known["keys"] = list(match.path)
    return known


def batch_source(rule: documents.Rule, each: str, subject: str, depth: int | None) -> str:
    """`each.map(e, ...)` computing `rule` for every element; raises references.ShadowedError.

    `depth` is the forEach's fixed path length (`selecting.Selector.depth`), or None.
    """
    names = {name: f"{ELEMENT}.{name}" for name in documents.FOR_EACH_NAMES}
    if depth is not None:
        names["item"] = subject + "".join(f"[{ELEMENT}.keys[{k}]]" for k in range(depth))

    def part(source: str) -> str:
        if ELEMENT in references.names_read(source):
            raise references.ShadowedError(f"{ELEMENT} is reserved")
        return "(" + references.inline(source, names) + ")"

    if rule.assert_ is not None:
        body = f"{part(rule.assert_)} ? {Batch.HELD:d} : {Batch.FIRES:d}"
    elif rule.assertions is not None:
        body = f"size({part(rule.assertions)}) == 0 ? {Batch.HELD:d} : {Batch.FIRES:d}"
    else:
        body = f"{Batch.FIRES:d}"
    if rule.when is not None:
        body = f"!{part(rule.when)} ? {Batch.SKIPPED:d} : ({body})"
    return f"{each}.map({ELEMENT}, {body})"
