"""Steps 2-3 of spec §8: a JobSet being deleted, or managed by another controller, is left alone.

Called by: `engine.planner.reconcile`, before classification (a foreign JobSet with
malformed child labels must still be a no-op). Consults no pack.
Must not import: `engine.kube`, other steps.
"""

from __future__ import annotations

from engine.model import keys
from engine.planner import context


def run(ctx: context.Context) -> context.StepOutcome:
    """Halt (no actions, no status write) on deletionTimestamp or a foreign `spec.managedBy`."""
    if ctx.jobset.get("metadata", {}).get("deletionTimestamp"):
        return context.StepOutcome(halt=True, trace=("guards: JobSet is being deleted (§8 step 2)",))
    managed_by = ctx.spec.get("managedBy")
    if managed_by and managed_by != keys.JOBSET_CONTROLLER_NAME:
        return context.StepOutcome(halt=True, trace=(f"guards: managed by {managed_by} (§8 step 3)",))
    return context.StepOutcome()
