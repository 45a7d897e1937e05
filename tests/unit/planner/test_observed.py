"""Classification of child Jobs (spec §10.1)."""

from __future__ import annotations

import datetime

import pytest

from engine.planner import observed

NOW = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)


def jobset(restarts: int = 0, **status: object) -> dict:
    return {"metadata": {"name": "js", "namespace": "ns", "uid": "u1"},
            "spec": {"replicatedJobs": [{"name": "w", "replicas": 2}]},
            "status": {"restarts": restarts, **status}}


def job(name: str, attempt: str | None = "0", conditions: list | None = None, uid: str = "u1",
        **labels: str) -> dict:
    all_labels = {"jobset.sigs.k8s.io/replicatedjob-name": "w", **labels}
    if attempt is not None:
        all_labels["jobset.sigs.k8s.io/restart-attempt"] = attempt
    return {"metadata": {"name": name, "labels": all_labels,
                         "ownerReferences": [{"kind": "JobSet", "uid": uid, "controller": True}]},
            "status": {"conditions": conditions or []}}


def test_buckets_by_attempt_and_first_finished_condition_section_10_1() -> None:
    failed_then_complete = [{"type": "Failed", "status": "True"}, {"type": "Complete", "status": "True"}]
    jobs = [job("old", "0"), job("run", "1"), job("ok", "1", [{"type": "Complete", "status": "True"}]),
            job("bad", "1", failed_then_complete),
            job("target", "1", [{"type": "FailureTarget", "status": "True"}])]
    children = observed.classify(observed.Observed(jobset=jobset(restarts=1), now=NOW, jobs=jobs))
    assert [observed.name_of(j) for j in children.previous] == ["old"]
    assert [observed.name_of(j) for j in children.active] == ["run", "target"]
    assert [observed.name_of(j) for j in children.successful] == ["ok"]
    assert [observed.name_of(j) for j in children.failed] == ["bad"]


def test_jobs_of_another_uid_are_ignored_section_10_1() -> None:
    children = observed.classify(observed.Observed(jobset=jobset(), now=NOW, jobs=[job("x", uid="other")]))
    assert children.all() == ()


@pytest.mark.parametrize("attempt", [None, "one"])
def test_malformed_restart_attempt_names_job_and_label_section_10_1(attempt: str | None) -> None:
    with pytest.raises(observed.ClassificationError, match='job "x".*restart-attempt'):
        observed.classify(observed.Observed(jobset=jobset(), now=NOW, jobs=[job("x", attempt)]))


def test_per_job_attempt_marks_previous_only_with_gate_section_10_1() -> None:
    js = jobset(replicatedJobsStatus=[{"name": "w", "jobRestarts": [0, 2]}])
    jobs = [job("js-w-0", **{"jobset.sigs.k8s.io/job-index": "0", "jobset.sigs.k8s.io/job-restart-attempt": "0"}),
            job("js-w-1", **{"jobset.sigs.k8s.io/job-index": "1", "jobset.sigs.k8s.io/job-restart-attempt": "1"}),
            job("legacy", **{"jobset.sigs.k8s.io/job-index": "1"})]
    gated = observed.classify(observed.Observed(jobset=js, now=NOW, jobs=jobs, feature_gates={"RestartJob": True}))
    assert [observed.name_of(j) for j in gated.previous] == ["js-w-1"]
    plain = observed.classify(observed.Observed(jobset=js, now=NOW, jobs=jobs))
    assert plain.previous == ()


def test_per_job_index_out_of_range_is_an_error_section_10_1() -> None:
    labels = {"jobset.sigs.k8s.io/job-index": "5", "jobset.sigs.k8s.io/job-restart-attempt": "0"}
    with pytest.raises(observed.ClassificationError, match="out of range"):
        observed.classify(observed.Observed(jobset=jobset(), now=NOW, jobs=[job("x", **labels)],
                                            feature_gates={"RestartJob": True}))
