"""The generic rules engine: versioned YAML + CEL rule packs, loaded, compiled, evaluated.

It knows nothing of JobSet. The public surface (docs/rule-packs.md is the format):

* `registry.Registry(backend=None)`: `load([builtin, *extra_dirs]) -> [Problem]` compiles
  every pack and swaps the active set atomically (a pack that fails keeps its previous
  version); `evaluate_phase(phase, inputs) -> decisions.Result` runs one phase.
* `loading.load(dirs) -> Loaded`, `loading.builtin_directory()`;
  `compiling.compile_pack(pack, backend) -> (CompiledPack | None, [Problem])`;
  `evaluating.evaluate(compiled_pack, inputs) -> decisions.Result`.
* `decisions.Result`: `subject`, `operations` (absolute RFC 6902, `patch()`), `errors`
  (`FieldError{field, message, reason, origin}`), `actions` (`Action{type, params, origin}`),
  `trace` (`TraceEntry{origin, outcome, path, detail, ref}`), `fired`, `allowed`.
* `problems.Problem`: a finding at file:line:col, printed `FILE:LINE:COL: field: message [pack/rule]`.
* `testing.lint(paths)` and `testing.run_tests(paths)`: what `jobset rules lint|test` print.

Modules: documents (pack/test documents), loading, compiling, selecting (forEach paths),
evaluating, patching, decisions, registry, problems, testing.
Must not import: `kube`, `webhook`, `planner`, `model`, `localcluster`.
"""
