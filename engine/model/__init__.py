"""JobSet's own vocabulary for the controller side: reserved keys, naming, object skeletons.

Owns: `keys` (spec §3, §2.11, §10.5 strings), `names` (spec §6.0, §9.4 naming) and
`builders` (skeletons of child objects that the construct pack completes).
Called by: the webhook, the planner, the CLI (`render`) and tests.
Must not import: `planner`, `kube`, `webhook`, `localcluster`, `cli`.
"""
