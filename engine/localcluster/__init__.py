"""The embedded control plane: an API server speaking the Kubernetes REST API on loopback,
plus a simulated Job controller, scheduler and kubelet (`sim`). Imports nothing from the
controller side (kube, webhook, planner, rules, model).

Entry points: `server.start_in_thread()` (tests, `jobset up`), `python -m engine.localcluster`
(a separate process), `api.ClusterAPI` (the in-process API the simulation uses; HTTP handlers go
through the same object). Modules, from the wire inwards:

* `server` (aiohttp app, threads, process), `handlers` (URLs, options, bodies, Status answers),
  `streaming` (watch), `discovery`, `openapi`, `tables`, `faults`;
* `api` (the write pipeline), `admission` (defaults, validation, webhooks, managedFields),
  `decoding`, `defaulting`, `validation`, `webhooks`, `crds`, `patching`, `applying` (SSA),
  `deletion` (finalizers, propagation, GC), `selectors`, `objectmeta`, `resources`, `errors`;
* `storage` (objects, resourceVersions, watch history, SQLite), `watching` (fan-out), `clock`.
"""
