"""The steps of one reconcile pass (spec §8), one module each; `engine.planner.reconcile` orders them.

Every step module exposes `run(ctx: context.Context) -> context.StepOutcome`, does no I/O,
reads time only from `ctx.observed.now`, and must not import another step module.
"""
