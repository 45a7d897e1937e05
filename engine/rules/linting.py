"""`jobset rules lint`: everything wrong with some pack directories, without running them.

Owns: `LintReport`, `lint(paths, backend)` and `resolve(paths)` (a PATH is a pack directory,
a directory of packs, or a pack.yaml). Beyond what loading and compiling reject (schema,
unknown fields, YAML, CEL compile and type errors, undeclared names, static limits), it
reports: duplicate pack names across the paths, validation rules without a message, rules
that can never fire when that is decidable (a constant `when: false`, a constant-true
`assert`), and packs with no rules.
Called by: `engine.cli.commands.rules`, `engine.rules.testing`.
Must not import: `kube`, `localcluster`, `planner`, `model`, `webhook`.
"""

from __future__ import annotations

import dataclasses
import pathlib
from collections.abc import Sequence

from engine.cel import evaluator
from engine.rules import compiling, documents, loading, problems, references


class PathError(Exception):
    """A PATH that does not exist or holds no pack."""


@dataclasses.dataclass(frozen=True)
class Checked:
    """One pack directory after loading and compiling (either may have failed)."""

    directory: pathlib.Path
    pack: documents.Pack | None
    compiled: compiling.CompiledPack | None
    problems: tuple[problems.Problem, ...]


@dataclasses.dataclass(frozen=True)
class LintReport:
    packs: tuple[Checked, ...]
    problems: tuple[problems.Problem, ...]


def resolve(paths: Sequence[pathlib.Path]) -> list[pathlib.Path]:
    """Pack directories named by `paths`, in order; raises PathError for a bad path."""
    found: list[pathlib.Path] = []
    for path in paths:
        if path.is_file() and path.name == loading.PACK_FILE:
            path = path.parent
        if not path.is_dir():
            raise PathError(f"{path}: no such pack directory")
        directories = loading.pack_dirs(path)
        if not directories:
            raise PathError(f"{path}: no {loading.PACK_FILE} here or in its sub-directories")
        found += [d for d in directories if d not in found]
    return found


def check(directory: pathlib.Path, backend: evaluator.Backend) -> Checked:
    """Load and compile one pack directory, keeping every problem."""
    pack, found = loading.read_pack_dir(directory)
    compiled = None
    if pack is not None:
        compiled, found = compiling.compile_pack(pack, backend)
    return Checked(directory, pack, compiled, tuple(found))


def lint(paths: Sequence[pathlib.Path], backend: evaluator.Backend) -> LintReport:
    """Every problem of every pack under `paths`, sorted by file and position."""
    checked = tuple(check(directory, backend) for directory in resolve(paths))
    found = [p for c in checked for p in c.problems]
    found += _duplicate_packs(checked)
    for item in checked:
        if item.pack is not None:
            found += _rule_findings(item.pack, backend)
    return LintReport(checked, tuple(sorted(found, key=lambda p: (p.filename, p.line, p.column, p.message))))


def _duplicate_packs(checked: Sequence[Checked]) -> list[problems.Problem]:
    first: dict[str, documents.Pack] = {}
    found = []
    for item in checked:
        if item.pack is None:
            continue
        earlier = first.setdefault(item.pack.name, item.pack)
        if earlier is not item.pack:
            found.append(documents.problem(item.pack.source, ("metadata", "name"),
                                           f"pack name {item.pack.name!r} is also used by {earlier.source.filename}",
                                           pack=item.pack.name))
    return found


def _rule_findings(pack: documents.Pack, backend: evaluator.Backend) -> list[problems.Problem]:
    found = []
    if not pack.rules:
        found.append(documents.problem(pack.source, ("spec", "rules"), "pack has no rules", pack=pack.name))
    for rule in pack.rules:
        def at(key: str, message: str) -> problems.Problem:
            return documents.problem(pack.source, rule.where + (key,), message, pack=pack.name, rule=rule.name)
        if rule.assert_ is not None and rule.message is None and rule.message_expression is None:
            found.append(at("assert", "validation rule has no message or messageExpression"))
        if rule.when is not None and _constant(rule.when, backend) is False:
            found.append(at("when", "rule can never fire: 'when' is always false"))
        if rule.assert_ is not None and _constant(rule.assert_, backend) is True:
            found.append(at("assert", "rule can never fire: 'assert' is always true"))
    return found


def _constant(source: str, backend: evaluator.Backend) -> object:
    """The value of an expression that reads no name at all, else None (undecidable)."""
    if references.undeclared(source, ()):
        return None
    environment = backend.environment(())
    try:
        return environment.compile(source).evaluate(environment.activation({}))
    except evaluator.CelError:
        return None
