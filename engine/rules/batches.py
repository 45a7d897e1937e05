"""Evaluating one pack for many requests that share some inputs (docs/rule-packs.md §4.1).

Owns: `Batch` (one pack, shared inputs; `evaluate(inputs)` per request) and `evaluate_many`.
A bound variable that reads none of a request's own inputs is evaluated once per request
shape and its value (or runtime error) handed to later evaluations as `known`.
Called by: `engine.rules.registry` (`evaluate_phase_many`), the planner, `jobset render`.
Must not import: any I/O; `model`, `kube`, `webhook`, `planner`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from engine.rules import compiling, decisions, evaluating


def evaluate_many(compiled: compiling.CompiledPack, shared: Mapping[str, Any],
                  each: Iterable[Mapping[str, Any]], *, enforce_budget: bool = True) -> list[decisions.Result]:
    """`evaluating.evaluate(compiled, {**shared, **inputs})` for every `inputs` of `each`, in order (see `Batch`)."""
    batch = Batch(compiled, shared, enforce_budget=enforce_budget)
    return [batch.evaluate(inputs) for inputs in each]


class Batch:
    """Evaluations of one pack for many requests that share some inputs.

    `evaluate(inputs)` gives what `evaluating.evaluate(compiled, {**shared, **inputs})` gives; only the
    work differs: a bound variable that reads no input of the request's own (directly or
    through other variables) is evaluated once, in the first request of that shape (the same
    input names) that needs it, and its value (or runtime error) serves the later ones. So a
    construct pack run once per child computes its parent-level values once. An input given
    both in `shared` and per request is a caller error (ValueError).
    """

    def __init__(self, compiled: compiling.CompiledPack, shared: Mapping[str, Any], *,
                 enforce_budget: bool = True) -> None:
        self.compiled = compiled
        self.shared = dict(shared)
        self.enforce_budget = enforce_budget
        self._shapes: dict[frozenset[str], tuple[set[str], evaluating.Known]] = {}

    def evaluate(self, inputs: Mapping[str, Any]) -> decisions.Result:
        """The result of one request (`inputs` are its own inputs, besides the shared ones)."""
        both = self.shared.keys() & inputs.keys()
        if both:
            raise ValueError(f"pack {self.compiled.pack.id}: input(s) {', '.join(sorted(both))} "
                             "given both as shared and per request")
        constant, known = self._shapes.get(frozenset(inputs)) or self._shape(frozenset(inputs))
        evaluation = evaluating.Evaluation(self.compiled, {**self.shared, **inputs}, self.enforce_budget, known)
        result = evaluation.run()
        if len(known) < len(constant):
            known.update((name, found) for name, found in evaluation.evaluated.items() if name in constant)
        return result

    def _shape(self, own: frozenset[str]) -> tuple[set[str], evaluating.Known]:
        """The variables that requests giving the inputs `own` share, and their values so far."""
        constant = {i.name for i in self.compiled.pack.inputs} - own
        for name, _, reads in self.compiled.variables:
            if all(read in constant for read in reads if read in self.compiled.names):
                constant.add(name)
        found = self._shapes[own] = (constant - {i.name for i in self.compiled.pack.inputs}, evaluating.Known())
        return found
