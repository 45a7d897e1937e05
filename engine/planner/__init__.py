"""The pure reconcile planner: `plan_pass(observed, packs) -> plan.Plan`, no I/O, no clock.

Re-exports the entry point; inside `engine`, import the modules themselves
(`from engine.planner import plan, reconcile`). The module `plan` holds the values.
"""

from engine.planner.reconcile import plan_pass

__all__ = ["plan_pass"]
