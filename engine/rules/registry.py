"""The active rule packs, by phase, behind one atomic swap.

Owns: `Registry`: `load(directories)` reads, checks and compiles every pack and swaps the
whole active set at once; a pack that fails keeps its previous version in force (a pack
never loaded before is simply absent). `evaluate_phase(phase, inputs)` runs that phase's
packs and merges their results (`evaluate_phase_many`: for many requests sharing inputs, see
`batches.evaluate_many`): patch phases in load order, each pack seeing the subject as
patched by the packs before it; decision phases operator packs first (later directories
before earlier ones, built-ins last), stopping at the first pack that yields an action.
Called by: the CLI (`lint`, `render`, `up`), the webhook and the planner (fed by the manager).
Must not import: `kube`.
"""

from __future__ import annotations

import dataclasses
import pathlib
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from engine.cel import evaluator
from engine.cel import backends as cel_backends
from engine.rules import batches, compiling, decisions, documents, evaluating, loading, problems


@dataclasses.dataclass(frozen=True)
class Snapshot:
    """An immutable set of compiled packs, in load order."""

    packs: tuple[compiling.CompiledPack, ...] = ()

    def by_phase(self, phase: str) -> tuple[compiling.CompiledPack, ...]:
        """The packs of `phase` in the order they run: load order, except that decision
        phases consult later directories first (operator packs before built-ins)."""
        packs = tuple(p for p in self.packs if p.pack.phase == phase)
        if packs and packs[0].pack.phase.effect == "action":
            packs = tuple(sorted(packs, key=lambda p: -p.pack.layer))
        return packs

    def get(self, name: str) -> compiling.CompiledPack | None:
        """The active pack called `name`, if any."""
        return next((p for p in self.packs if p.pack.name == name), None)


class Registry:
    """Thread-safe holder of the active packs; readers never see a half-loaded set."""

    def __init__(self, backend: evaluator.Backend | None = None) -> None:
        self.backend = backend or cel_backends.get_backend()
        self._snapshot = Snapshot()
        self._lock = threading.Lock()

    @property
    def snapshot(self) -> Snapshot:
        """The current active set (an immutable value)."""
        return self._snapshot

    def load(self, directories: Sequence[pathlib.Path]) -> list[problems.Problem]:
        """Read and compile `directories` (in precedence order) and swap; returns every problem."""
        with self._lock:
            previous = self._snapshot
            loaded = loading.load(directories)
            found = list(loaded.problems)
            fresh = {pack.name: self._compile(pack, previous, found) for pack in loaded.packs}
            active = []
            for name in loaded.order:
                # a pack that fails keeps its last version; else the one it was to replace, if that compiles
                compiled = fresh.get(name) or previous.get(name) or self._fallback(name, loaded, previous)
                if compiled is not None:
                    active.append(compiled)
            self._snapshot = Snapshot(tuple(active))
            return found

    def _fallback(self, name: str, loaded: loading.Loaded, previous: Snapshot) -> compiling.CompiledPack | None:
        """The latest replaced pack called `name` that compiles (its problems were reported)."""
        for pack in loaded.replaced:
            if pack.name == name:
                compiled = self._compile(pack, previous, [])
                if compiled is not None:
                    return compiled
        return None

    def _compile(self, pack: documents.Pack, previous: Snapshot,
                 found: list[problems.Problem]) -> compiling.CompiledPack | None:
        """Reuse the compiled pack when the file did not change, else compile it."""
        same = previous.get(pack.name)
        if same is not None and (same.pack.digest, same.pack.layer, same.pack.source.filename) == (
                pack.digest, pack.layer, pack.source.filename):
            return same
        compiled, compile_problems = compiling.compile_pack(pack, self.backend)
        found += compile_problems
        return compiled

    def evaluate_phase(self, phase: str, inputs: Mapping[str, Any], *, subject: str = "object",
                       owned: bool = False, skipped_trace: bool = True) -> decisions.Result:
        """Run the packs of `phase` in order and merge their results.

        Patch phases chain the subject through the packs; decision phases stop at the first
        pack that yields an action. `subject` names the input returned when no pack runs.
        `owned=True`: the caller hands the subject over, so the first patch pack patches it in
        place (the packs after it still copy what they are given: its operations may share it).
        `skipped_trace=False`: the trace keeps only what decided something (`evaluating.evaluate`).
        """
        packs = self._snapshot.by_phase(phase)
        current = dict(inputs)
        results = []
        final = current.get(subject)
        for compiled in packs:
            patches = compiled.pack.phase.effect == "patch"
            result = evaluating.evaluate(compiled, current, owned=owned and patches, skipped_trace=skipped_trace)
            owned = owned and not patches
            results.append(result)
            final = result.subject
            if patches:
                current[compiled.pack.subject] = result.subject
            elif result.actions:
                break
        return decisions.combine(results, final)

    def evaluate_phase_many(self, phase: str, shared: Mapping[str, Any], each: Iterable[Mapping[str, Any]], *,
                            subject: str = "object") -> Iterator[decisions.Result]:
        """`evaluate_phase(phase, {**shared, **inputs})` for every `inputs` of `each`, in order,
        yielded one by one; each pack keeps one `batches.Batch`, so the variables that read
        only shared inputs are evaluated once for all the requests."""
        packs = self._snapshot.by_phase(phase)
        chained = {p.pack.subject for p in packs if p.pack.phase.effect == "patch"}  # become per request
        per_pack = [batches.Batch(p, {k: v for k, v in shared.items() if k not in chained}) for p in packs]
        for inputs in each:
            current = {**{k: v for k, v in shared.items() if k in chained}, **inputs}
            results = []
            final = {**shared, **inputs}.get(subject)
            for batch in per_pack:
                result = batch.evaluate(current)
                results.append(result)
                final = result.subject
                if batch.compiled.pack.phase.effect == "patch":
                    current[batch.compiled.pack.subject] = result.subject
                elif result.actions:
                    break
            yield decisions.combine(results, final)
