"""The pure reconcile planner: `plan(observed, packs) -> Plan`, no I/O, no clock.

Re-exports the public surface; inside `engine`, import the modules themselves.
"""

from engine.planner.observed import Observed
from engine.planner.plan import Plan
from engine.planner.reconcile import plan_pass as plan

__all__ = ["Observed", "Plan", "plan"]
