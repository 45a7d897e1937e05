"""`evaluate(compiled_pack, inputs) -> decisions.Result`: one pack, one request, no I/O;
`Evaluation` (its state, with the variable values `engine.rules.batches` reuses).

Owns: the evaluation semantics of docs/rule-packs.md §2: inputs bound (absent ones to null),
bound variables once per evaluation (by dependency level; the others were inlined at
compile time), rules in order, forEach matches in document order (batched in read-only
phases, see `batching`), `when`, then the phase's effect (patch here, assert/assertions and
action in `effects`), allMatch/firstMatch, failurePolicy for runtime errors, and a
wall-clock budget checked between rules and between forEach elements. A read-only pack
with a whole program (`wholepack`) is evaluated by it first; only firing elements are then
evaluated on their own, and if the program fails, the pack is evaluated rule by rule. The
subject is copied once per evaluation, only when patched; activations are reused while
nothing they read changed.
An evaluation may be given the values of some variables (`known`) instead of evaluating them.
Called by: `engine.rules.registry` (`evaluate_phase`), `engine.rules.testing`, the webhook,
lint and the planner (through the registry).
Must not import: any I/O; `model`, `kube`, `webhook`, `planner`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from engine.cel import evaluator
from engine.rules import batching, compiling, decisions, effects, patching, references, selecting

Outcome = decisions.Outcome
_BATCH_KINDS = frozenset(int(kind) for kind in batching.Batch)
_HELD = {True: "assertion held", False: "no assertion failed"}
_FIRES = int(batching.Batch.FIRES)
_WHEN_FALSE = "when was false"


class MissingInputError(ValueError):
    """The caller did not supply an input the pack declares as required."""


class _Stop(Exception):
    """The budget ran out: stop the whole evaluation."""


def evaluate(compiled: compiling.CompiledPack, inputs: Mapping[str, Any], *,
             enforce_budget: bool = True, owned: bool = False, skipped_trace: bool = True) -> decisions.Result:
    """Run every rule of `compiled` against `inputs`; see the module docstring.

    `enforce_budget=False` (used by `jobset rules test`) ignores the wall-clock budget, so a
    result never depends on how busy the machine is. `owned=True`: the caller hands the subject
    over (it keeps no other reference), so a patch phase patches it in place instead of a copy.
    `skipped_trace=False`: the trace keeps only what decided something (applied, failed, error
    entries), not the rules and elements that did nothing: for callers that never read those.
    """
    return Evaluation(compiled, inputs, enforce_budget, owned=owned, skipped_trace=skipped_trace).run()


class Known(dict[str, tuple[Any, str | None]]):
    """Variable name -> (value, runtime error message or None), from an earlier evaluation."""


class Evaluation:
    """The mutable state of one evaluation; discarded at the end. `known`: values of variables
    to reuse instead of evaluating them; `evaluated`: every variable bound (for `batches`)."""

    def __init__(self, compiled: compiling.CompiledPack, inputs: Mapping[str, Any], enforce_budget: bool,
                 known: Known | None = None, *, owned: bool = False, skipped_trace: bool = True) -> None:
        pack = compiled.pack
        missing = [i.name for i in pack.inputs if i.required and inputs.get(i.name) is None]
        if missing:
            raise MissingInputError(f"pack {pack.id} needs input(s): {', '.join(missing)}")
        self.compiled = compiled
        self.pack = pack
        self.patches = pack.phase.effect == "patch"
        self.working = patching.Working(inputs.get(pack.subject), owned=owned) if self.patches else None
        self.bindings: dict[str, Any] = {i.name: inputs.get(i.name) for i in pack.inputs}
        if self.working is not None:
            self.bindings[pack.subject] = self.working.root
        self.deadline = time.perf_counter() + pack.budget_ms / 1000 if enforce_budget else float("inf")
        self.activations: dict[tuple[int, str | None], tuple[evaluator.Activation, int]] = {}
        self.changed: dict[str, int] = {}  # name -> clock of its last new binding
        self.clock = 0
        self.selections: dict[str, tuple[list[selecting.Match], int]] = {}
        self.unevaluated = {name for name, _, _ in compiled.variables}
        self.known = known or Known()  # values of variables to reuse instead of evaluating them
        self.evaluated = Known()  # every variable bound so far, for `batches.Batch`
        self.patch_log: list[tuple[int, tuple[str | int, ...]]] = []  # (clock, path) of each operation
        self.operations: list[decisions.Operation] = []
        self.errors: list[decisions.FieldError] = []
        self.actions: list[decisions.Action] = []
        self.trace: list[decisions.TraceEntry] = []
        self.skipped_trace = skipped_trace  # False: SKIPPED entries are not recorded

    @property
    def subject(self) -> Any:
        return self.working.root if self.working is not None else self.bindings[self.pack.subject]

    def run(self) -> decisions.Result:
        if self._wrong_target():
            return self._result()
        said = self._whole() if self.compiled.whole is not None else None
        if said is None:
            self._ensure(self.compiled.eager)  # the rest only if a batched rule falls back
            if not self.patches:  # before the first rule, so that every rule shares one activation
                for selector, name, layout in self.compiled.each:
                    self._bind(name, [layout.element(m) for m in self._select(selector)])
        first_match = self.pack.evaluation == "firstMatch"
        try:
            for position, rule in enumerate(self.compiled.rules):
                fired = self._rule(rule) if said is None else self._said(rule, said[position])
                if fired and first_match:
                    break
        except _Stop:
            pass
        return self._result()

    def _whole(self) -> list[Any] | None:
        """What the pack's whole program says of every rule (`wholepack`), checked against
        the matches; None when it fails: the rules are then evaluated one by one."""
        assert self.compiled.whole is not None and self.compiled.batch_environment is not None
        elements = {name: [layout.element(m) for m in self._select(selector)]
                    for selector, name, layout in self.compiled.each}
        try:
            said = self.compiled.whole.evaluate(self.compiled.batch_environment.activation(
                {**self.bindings, **elements}))
        except evaluator.CelEvaluationError:
            return None
        if not (isinstance(said, list) and len(said) == len(self.compiled.rules)):
            return None
        for rule, kinds in zip(self.compiled.rules, said):
            if isinstance(kinds, list):  # one per element
                valid = rule.selector is not None and len(kinds) == len(self._select(rule.selector))
                valid = valid and set(kinds) <= _BATCH_KINDS
            else:  # a rule without forEach, or every element skipped
                valid = type(kinds) is int and kinds in _BATCH_KINDS
                valid = valid and (rule.selector is None or kinds == batching.Batch.SKIPPED)
            if not valid:
                return None
        return said

    def _said(self, rule: compiling.CompiledRule, kinds: int | list[int]) -> bool:
        """Record what the whole program said of `rule`; firing elements are evaluated."""
        self._check_budget(rule, "")
        if rule.selector is None:
            if kinds == batching.Batch.FIRES:
                return self._element(rule, None)
            self._skipped(rule, "", _WHEN_FALSE if kinds == batching.Batch.SKIPPED else _HELD[rule.assertions is None])
            return False
        matches = self._select(rule.selector)
        if not matches:
            self._skipped(rule, "", "forEach matched nothing")
            return False
        return self._kinds(rule, matches, kinds if isinstance(kinds, list) else [kinds] * len(matches))

    def _result(self) -> decisions.Result:
        return decisions.Result(self.subject, tuple(self.operations), tuple(self.errors),
                                tuple(self.actions), tuple(self.trace))

    def _wrong_target(self) -> bool:
        """A subject that is not one of the pack's targets is refused with one error."""
        targets = self.pack.targets
        subject = self.subject
        if not targets:
            return False
        kind = (subject.get("apiVersion"), subject.get("kind")) if isinstance(subject, dict) else (None, None)
        if any((t.api_version, t.kind) == kind for t in targets):
            return False
        wanted = ", ".join(f"{t.api_version} {t.kind}" for t in targets)
        self.errors.append(decisions.FieldError(
            "kind", f"pack {self.pack.id} applies to {wanted}, not {kind[0]} {kind[1]}", "NotSupported", self.pack.id))
        return True

    def _ensure(self, names: frozenset[str]) -> None:
        """Evaluate the bound variables among `names` not evaluated yet (and what they read),
        in dependency order."""
        if not names & self.unevaluated:
            return
        for name, program, reads in self.compiled.variables:
            if name not in names or name not in self.unevaluated:
                continue
            self.unevaluated.discard(name)
            value, problem = self.known.get(name) or self._variable(program, reads)
            if problem is not None:
                self._runtime_error(f"{self.pack.id}/variables/{name}", "", f"variable {name}: {problem}")
            self.evaluated[name] = (value, problem)
            self._bind(name, value)

    def _variable(self, program: evaluator.Program, reads: frozenset[str]) -> tuple[Any, str | None]:
        """The value of one variable, or None and the message of its runtime error."""
        try:
            return program.evaluate(self._activation(self.compiled.environment, None, reads)), None
        except evaluator.CelEvaluationError as error:
            return None, error.message

    def _bind(self, name: str, value: Any) -> None:
        self.bindings[name] = value
        self.clock += 1
        self.changed[name] = self.clock

    def _check_budget(self, rule: compiling.CompiledRule, path: str) -> None:
        if time.perf_counter() > self.deadline:
            message = f"evaluation budget of {self.pack.budget_ms} ms ran out at rule {rule.rule.name}"
            self.trace.append(decisions.TraceEntry(rule.origin, Outcome.ERROR, path, message, rule.rule.ref))
            self.errors.append(decisions.FieldError(path, message, "Internal", rule.origin))
            raise _Stop

    def _rule(self, rule: compiling.CompiledRule) -> bool:
        """Run one rule on each of its elements; True when it fired (for firstMatch)."""
        self._check_budget(rule, "")
        if rule.selector is None:
            return self._element(rule, None)
        matches = self._select(rule.selector)
        if not matches:
            self._skipped(rule, "", "forEach matched nothing")
            return False
        if rule.batch is not None:
            batched = self._batched(rule, matches)
            if batched is not None:
                return batched
        fired = False
        for position, match in enumerate(matches):
            if position:
                self._check_budget(rule, match.text)
            fired = self._element(rule, match) or fired
            if fired and self.pack.evaluation == "firstMatch":
                break
        return fired

    def _batched(self, rule: compiling.CompiledRule, matches: list[selecting.Match]) -> bool | None:
        """All elements of a forEach rule in one program; None: fall back per element.

        In patch phases the program gives only `when` (the elements, `item` included, are
        bound afresh for each rule); firing elements then skip it."""
        assert rule.batch is not None and self.compiled.batch_environment is not None
        if self.patches:
            assert rule.layout is not None
            elements = [rule.layout.element(m, rule.item_view) for m in matches]
            activation = self.compiled.batch_environment.activation({**self.bindings, batching.each_name(0): elements})
        else:
            activation = self._activation(self.compiled.batch_environment, None, rule.batch_reads)
        try:
            kinds = rule.batch.evaluate(activation)
        except evaluator.CelEvaluationError:
            return None
        if not (isinstance(kinds, list) and len(kinds) == len(matches) and set(kinds) <= _BATCH_KINDS):
            return None
        return self._kinds(rule, matches, kinds)

    def _kinds(self, rule: compiling.CompiledRule, matches: list[selecting.Match], kinds: list[int]) -> bool:
        """Trace the elements a batch skipped or found held; evaluate those that fire."""
        if _FIRES not in kinds:  # the common case, in one pass
            if self.skipped_trace:
                origin, ref, held = rule.origin, rule.rule.ref, _HELD[rule.assertions is None]
                self.trace += [decisions.TraceEntry(origin, Outcome.SKIPPED, match.text, held if kind else _WHEN_FALSE,
                                                    ref) for match, kind in zip(matches, kinds)]
            return False
        fired = False
        for position, (match, kind) in enumerate(zip(matches, kinds)):
            if kind == batching.Batch.FIRES:
                if position:
                    self._check_budget(rule, match.text)
                fired = self._element(rule, match, when_held=self.patches) or fired
            else:
                self._skipped(rule, match.text,
                              _WHEN_FALSE if kind == batching.Batch.SKIPPED else _HELD[rule.assertions is None])
            if fired and self.pack.evaluation == "firstMatch":
                break
        return fired

    def _select(self, selector: selecting.Selector) -> list[selecting.Match]:
        """Matches of `selector`, shared by rules with the same forEach until the next patch."""
        cached = self.selections.get(selector.source)
        version = self.changed.get(self.pack.subject, 0)
        if cached is None or cached[1] != version:
            cached = self.selections[selector.source] = (selector.select(self.subject), version)
        return cached[0]

    def _activation(self, environment: evaluator.Environment, match: selecting.Match | None,
                    reads: frozenset[str], subject_paths: tuple[tuple[str, ...], ...] | None = None
                    ) -> evaluator.Activation:
        """One activation per (environment, element), reused while nothing it reads changed.

        An activation converts each input on first read, so a fresh one is costly: it is
        rebuilt only when a name the expression may read got a new value since (a variable,
        or the subject after a patch; forEach elements always count as reading the subject),
        unless every patch since touched none of the `subject_paths` the expression reads.
        """
        self._ensure(reads)
        key = (id(environment), match.text if match is not None else None)
        cached = self.activations.get(key)
        if cached is not None and self._same(reads, subject_paths, cached[1]):
            return cached[0]
        bindings = self.bindings
        if match is not None:
            bindings = dict(bindings, item=match.value, index=match.index,
                            indexes=list(match.indexes), path=match.text)
        elif self.patches and self.compiled.subject_view is not None:
            bindings = dict(bindings)
            bindings[self.pack.subject] = references.project(self.subject, self.compiled.subject_view)
        activation = environment.activation(bindings)
        self.clock += 1
        self.activations[key] = (activation, self.clock)
        return activation

    def _same(self, reads: frozenset[str], subject_paths: tuple[tuple[str, ...], ...] | None, since: int) -> bool:
        """Whether what an expression reading `reads` (and of the subject `subject_paths`) sees
        is as it was at clock `since`."""
        changed = [name for name in reads if self.changed.get(name, 0) >= since]
        return not changed or (changed == [self.pack.subject] and self._untouched(subject_paths, since))

    def _untouched(self, paths: tuple[tuple[str, ...], ...] | None, since: int) -> bool:
        """No patch after `since` touched (or contains) any of `paths`."""
        if paths is None:
            return False
        for stamp, patched in reversed(self.patch_log):
            if stamp <= since:
                break
            if any(path[:len(patched)] == patched[:len(path)] for path in paths):
                return False
        return True

    def _element(self, rule: compiling.CompiledRule, match: selecting.Match | None, *, when_held: bool = False) -> bool:
        """One rule on one element; `when_held`: a batch found its `when` true already."""
        path = match.text if match is not None else ""
        try:
            activation = None
            if not when_held or rule.computed:
                activation = self._activation(rule.environment, match, rule.reads, rule.subject_paths)
            if not when_held and rule.when is not None and not effects.boolean(rule.when, activation, "when"):
                self._skipped(rule, path, _WHEN_FALSE)
                return False
            outcome, detail = self._effect(rule, match, activation)
        except effects.RuleError as error:
            self._runtime_error(rule.origin, path, str(error), rule.rule.ref)
            return False
        if outcome is Outcome.SKIPPED:
            self._skipped(rule, path, detail)
            return False
        self.trace.append(decisions.TraceEntry(rule.origin, outcome, path, detail, rule.rule.ref))
        return outcome is Outcome.APPLIED or outcome is Outcome.FAILED

    def _skipped(self, rule: compiling.CompiledRule, path: str, detail: str) -> None:
        """Trace a rule (on an element) that did nothing, unless the caller asked for decisions only."""
        if self.skipped_trace:
            self.trace.append(decisions.TraceEntry(rule.origin, Outcome.SKIPPED, path, detail, rule.rule.ref))

    def _runtime_error(self, origin: str, path: str, message: str, ref: str = "") -> None:
        self.trace.append(decisions.TraceEntry(origin, Outcome.ERROR, path, message, ref))
        if self.pack.failure_policy == "Fail":
            self.errors.append(decisions.FieldError(path, f"{origin}: {message}", "Internal", origin))

    def _effect(self, rule: compiling.CompiledRule, match: selecting.Match | None,
                activation: evaluator.Activation | None) -> tuple[Outcome, str]:
        if self.patches:
            return self._patch(rule, match, activation)
        assert activation is not None
        if rule.rule.action is not None:
            action = effects.action(rule, activation)
            self.actions.append(action)
            return Outcome.APPLIED, action.type
        outcome, detail, errors = effects.asserted(self.pack.name, rule, match.text if match is not None else "",
                                                   activation)
        self.errors += errors
        return outcome, detail

    def _patch(self, rule: compiling.CompiledRule, match: selecting.Match | None,
               activation: evaluator.Activation | None) -> tuple[Outcome, str]:
        """Plan every operation (their expressions need `activation`), then apply them."""
        assert self.working is not None
        base = match.path if match is not None else ()
        planned = []
        for operation in rule.patch:  # every expression sees the state before this rule's operations
            tokens = operation.tokens
            if operation.path_program is not None:
                assert activation is not None
                tokens = effects.pointer(effects.value(operation.path_program, activation, "pathExpression"))
            value = operation.value
            if operation.value_program is not None:  # a fresh value: handed over as it is
                assert activation is not None
                value = effects.value(operation.value_program, activation, "valueExpression")
            elif isinstance(value, (dict, list)):  # the pack's literal: the subject gets a copy
                value = patching.copy_json(value)
            planned.append((operation.op, base + tuple(tokens or ()), value))
        done: list[decisions.Operation] = []
        start = len(self.working.touched)
        try:
            for op, tokens, value in planned:
                if op == "remove":
                    done += self.working.remove(tokens, rule.origin)
                else:
                    done += getattr(self.working, op)(tokens, value, rule.origin)
        except patching.PatchError as error:
            raise effects.RuleError(f"patch: {error}") from None
        finally:
            self._patched(done, start)
        return Outcome.APPLIED, f"{len(done)} operation(s)" if done else "nothing to change"

    def _patched(self, done: list[decisions.Operation], start: int) -> None:
        """Record `done`; whatever changed since the `start`-th touched path is stale for activations."""
        assert self.working is not None
        if len(self.working.touched) == start:
            return
        self.operations += done
        self._bind(self.pack.subject, self.working.root)
        self.patch_log += [(self.clock, tokens) for tokens in self.working.touched[start:]]
