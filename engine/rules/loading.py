"""Reading pack directories: sorted, checked, with precedence between directories.

Owns: `Loaded` (the packs that loaded, in load order, plus every problem and the names of
rejected packs), `load(directories)`, `read_pack_dir`, `pack_dirs`, `builtin_directory`.
Precedence (docs/rule-packs.md §3): directories in the order given (built-in `rules/` first),
packs in name order within a directory; a pack whose name equals an earlier one replaces
it in place. Problems carry file:line:col and the field path.
Called by: `engine.rules.registry`, `engine.rules.testing`, `jobset rules`.
Must not import: `kube`, `planner`, `model`, `cel`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import pathlib
from collections.abc import Sequence

from engine.rules import documents, problems
from engine.sources import yaml as sources_yaml

PACK_FILE = "pack.yaml"


@dataclasses.dataclass(frozen=True)
class Loaded:
    """The outcome of reading some directories."""

    packs: tuple[documents.Pack, ...]
    problems: tuple[problems.Problem, ...]
    rejected: tuple[str, ...]  # names (or directories) of packs that did not load
    order: tuple[str, ...] = ()  # every pack name seen, loaded or rejected, in load order
    replaced: tuple[documents.Pack, ...] = ()  # packs a later one of the same name replaced, latest first


def builtin_directory() -> pathlib.Path:
    """The built-in `rules/` directory: the repository root is the parent of `engine/`."""
    return pathlib.Path(__file__).resolve().parent.parent.parent / "rules"


def pack_dirs(directory: pathlib.Path) -> list[pathlib.Path]:
    """`directory` itself if it holds a pack.yaml, else its sub-directories that do, sorted."""
    if (directory / PACK_FILE).is_file():
        return [directory]
    return sorted(child for child in directory.iterdir() if (child / PACK_FILE).is_file())


def read_pack_dir(directory: pathlib.Path) -> tuple[documents.Pack | None, list[problems.Problem]]:
    """Read and check `directory/pack.yaml` (exactly one document)."""
    path = directory / PACK_FILE
    try:
        text = path.read_text(encoding="utf-8")
        loaded = sources_yaml.load_text(text, filename=str(path))
    except (OSError, UnicodeDecodeError) as error:
        return None, [problems.Problem(str(path), 1, 1, f"cannot read: {error}")]
    except sources_yaml.SourceError as error:
        return None, [problems.Problem(error.filename, error.line, error.column, error.message)]
    if len(loaded) != 1:
        return None, [problems.Problem(str(path), 1, 1, f"a pack file holds exactly one document, found {len(loaded)}")]
    pack, found = documents.read_pack(loaded[0])
    if pack is None:
        return None, found
    return dataclasses.replace(pack, digest=hashlib.sha256(text.encode()).hexdigest()), []


def load(directories: Sequence[pathlib.Path]) -> Loaded:
    """Read every pack of `directories`, in order, applying precedence by name."""
    packs: dict[str, documents.Pack] = {}
    found: list[problems.Problem] = []
    rejected: list[str] = []
    order: dict[str, None] = {}
    replaced: list[documents.Pack] = []
    for layer, directory in enumerate(directories):
        if not directory.is_dir():
            found.append(problems.Problem(str(directory), 1, 1, "rules directory does not exist"))
            continue
        for pack_dir in pack_dirs(directory):
            pack, pack_problems = read_pack_dir(pack_dir)
            found += pack_problems
            name = pack.name if pack is not None else _name_of(pack_dir)
            order.setdefault(name)
            if pack is None:
                rejected.append(name)  # an earlier pack of that name stays
            else:
                if pack.name in packs:
                    replaced.insert(0, packs[pack.name])
                packs[pack.name] = dataclasses.replace(pack, layer=layer)  # same name: replaced in its slot
    ordered = tuple(packs[name] for name in order if name in packs)
    return Loaded(ordered, tuple(found), tuple(rejected), tuple(order), tuple(replaced))


def _name_of(pack_dir: pathlib.Path) -> str:
    """metadata.name of a rejected pack when it can still be read, else the directory name."""
    try:
        document = sources_yaml.load_file(pack_dir / PACK_FILE)[0]
        name = document.data["metadata"]["name"]
        return name if isinstance(name, str) else pack_dir.name
    except (sources_yaml.SourceError, IndexError, KeyError, TypeError):
        return pack_dir.name
