"""`replicatedJobsStatus` counting (spec §10.3), on the worked example of the spec."""

from __future__ import annotations

import datetime

from engine.planner import context, observed, packs
from engine.planner.steps import counters

NOW = datetime.datetime(2026, 3, 1, tzinfo=datetime.timezone.utc)
BUILTIN, _ = packs.load()


def active(rj: str, index: int, parallelism: int, completions: int | None, ready: int, succeeded: int) -> dict:
    spec = {"parallelism": parallelism} | ({} if completions is None else {"completions": completions})
    return {"metadata": {"name": f"js-{rj}-{index}", "labels": {"jobset.sigs.k8s.io/replicatedjob-name": rj}},
            "spec": spec, "status": {"ready": ready, "succeeded": succeeded, "active": 1}}


def ctx_for(*jobs: dict, status: dict | None = None, gates: dict | None = None) -> context.Context:
    jobset = {"metadata": {"name": "js", "uid": "u"},
              "spec": {"replicatedJobs": [{"name": "rj-1", "replicas": 1}, {"name": "rj-2", "replicas": 4},
                                          {"name": "idle", "replicas": 2}]},
              "status": status or {}}
    snapshot = observed.Observed(jobset=jobset, now=NOW, feature_gates=gates or {})
    return context.Context(snapshot, observed.Children(active=jobs), BUILTIN, jobset["status"])


def test_worked_example_counts_ready_with_min_of_parallelism_and_completions_section_10_3() -> None:
    entries = counters.compute(ctx_for(
        active("rj-1", 0, 1, 2, 1, 1), active("rj-2", 0, 5, None, 2, 3), active("rj-2", 1, 3, 2, 1, 1),
        active("rj-2", 2, 2, 3, 2, 1), active("rj-2", 3, 4, 5, 2, 1)))
    assert [(e["name"], e["ready"], e["active"]) for e in entries] == [("rj-1", 1, 1), ("rj-2", 3, 4), ("idle", 0, 0)]


def test_jobs_of_unknown_replicated_jobs_are_ignored_section_10_3() -> None:
    entries = counters.compute(ctx_for(active("gone", 0, 1, 1, 1, 0)))
    assert all(e["ready"] == 0 and e["active"] == 0 for e in entries)


def test_equal_counters_in_another_order_are_not_rewritten_section_10_3() -> None:
    fresh = counters.compute(ctx_for())
    assert counters.run(ctx_for(status={"replicatedJobsStatus": list(reversed(fresh))})).status is None


def test_per_job_restart_lists_are_carried_only_with_the_gate_section_10_3() -> None:
    stored = {"replicatedJobsStatus": [{"name": "rj-2", "jobRestarts": [0, 1, 0, 0]}]}
    with_gate = counters.compute(ctx_for(status=stored, gates={"RestartJob": True}))
    assert with_gate[1]["jobRestarts"] == [0, 1, 0, 0]
    assert "jobRestarts" not in counters.compute(ctx_for(status=stored))[1]
