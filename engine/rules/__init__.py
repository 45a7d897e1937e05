"""The generic rules engine: versioned YAML + CEL rule packs, loaded, compiled, evaluated.

It knows nothing of JobSet. The public surface (docs/rule-packs.md is the format):

* `registry.Registry(backend=None)`: `load([builtin, *extra_dirs]) -> [Problem]` compiles
  every pack and swaps the active set atomically (a pack that fails keeps its previous
  version); `snapshot.get(name)`, `snapshot.by_phase(phase)`;
  `evaluate_phase(phase, inputs, subject="object") -> decisions.Result` runs one phase;
  `evaluate_phase_many(phase, shared, each)` yields one result per request (`batches`).
* `loading.load(dirs) -> Loaded`, `loading.builtin_directory()`;
  `compiling.compile_pack(pack, backend) -> (CompiledPack | None, [Problem])`;
  `evaluating.evaluate(compiled_pack, inputs, enforce_budget=True) -> decisions.Result`
  (raises `evaluating.MissingInputError` for a missing required input).
* `decisions.Result`: `subject`, `operations` (absolute RFC 6902, `patch()`), `errors`
  (`FieldError{field, message, reason, origin}`), `actions` (`Action{type, params, origin}`),
  `trace` (`TraceEntry{origin, outcome, path, detail, ref}`), `fired`, `allowed`.
* `problems.Problem`: a finding at file:line:col, printed `FILE:LINE:COL: field: message [pack/rule]`.
* `linting.lint(paths, backend)` and `testing.run_tests(paths, backend)`: what
  `jobset rules lint|test` print.

Modules: documents (pack/test documents), loading, compiling (with inlining), references
(names an expression reads), selecting (forEach paths), batching (read-only forEach as one
comprehension), wholepack (a read-only pack as one program), evaluating, effects (what a
firing validate or decision rule yields), batches (many requests sharing inputs), patching,
decisions, registry, problems, linting, testing.
Must not import: `kube`, `webhook`, `planner`, `model`, `localcluster`.
"""
