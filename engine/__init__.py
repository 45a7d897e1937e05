"""JobSet rules engine and controller.

Layers, top to bottom (docs/architecture.md): cli -> localcluster.up -> {kube, webhook}
-> planner -> {rules, model, metrics} -> cel. The localcluster package stands apart and
imports nothing from the controller side.
"""
