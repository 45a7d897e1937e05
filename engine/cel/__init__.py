"""CEL: one evaluator interface, two backends, and the extension functions packs may use.

Modules: `evaluator` (the contract and error tree), `backends` (`get_backend`, celexpr and
celpy adapters), `limits` (static limits checked before compiling), `declarations` (how a
Python-implemented function is declared), `k8slib` (the function library packs may call),
`k8svalidation` (Kubernetes name-format rules), `stringsext` (strings extension for celpy).
Nothing here imports from the rest of `engine`.
"""
