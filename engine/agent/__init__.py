"""The in-place restart agent (spec §11.2): a small program in every worker Pod of a JobSet
with restart strategy `InPlaceRestart`, holding the Pod at a barrier until all Pods agree on
the restart attempt, and asking for an in-place restart when its attempt is outdated.

Modules: `settings` (environment), `decision` (the pure §11.2 table), `runner` (watching
the JobSet, annotating the Pod, lifting the barrier), `workloads` (what lifting starts in a
real Pod), `process` (the OS process: connection, signals, exit codes), `simulated` (the
agent run in-process for the simulated kubelet of `jobset up`).
Must not import: `engine.assembly`, `engine.lint`, `engine.up`, `engine.cli`.
"""
