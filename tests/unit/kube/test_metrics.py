"""Metric names, labels and kinds (spec §13, §10.15) as scraped from the exposition format."""

from prometheus_client.parser import text_string_to_metric_families

from engine.metrics import metrics


def families() -> dict[str, object]:
    return {family.name: family for family in text_string_to_metric_families(metrics.exposition().decode())}


def test_jobset_outcome_counters_have_upstream_names_and_labels_spec_13() -> None:
    metrics.record_failed(namespace="team-a", name="train")
    metrics.record_completed(namespace="team-a", name="train")
    metrics.record_completed(namespace="team-a", name="train")
    assert metrics.value("jobset_failed_total", {"jobset_name": "train", "namespace": "team-a"}) == 1
    assert metrics.value("jobset_completed_total", {"jobset_name": "train", "namespace": "team-a"}) == 2
    found = families()
    assert found["jobset_failed"].type == "counter"  # type: ignore[attr-defined]
    assert found["jobset_completed"].type == "counter"  # type: ignore[attr-defined]


def test_controller_runtime_families_are_registered_spec_13() -> None:
    metrics.RECONCILE_TIME.labels(controller="jobset").observe(0.01)
    metrics.RECONCILE_ERRORS.labels(controller="jobset")
    found = families()
    assert found["controller_runtime_reconcile_time_seconds"].type == "histogram"  # type: ignore[attr-defined]
    assert found["controller_runtime_reconcile_errors"].type == "counter"  # type: ignore[attr-defined]
    assert "controller_runtime_reconcile" in found


def test_restarts_are_counted_by_rule_and_admission_latency_by_verdict() -> None:
    metrics.record_restart(rule="restart-on-any-failure")
    metrics.observe_admission(webhook="jobset-validate", operation="CREATE", allowed=False, seconds=0.002)
    assert metrics.value("jobset_restarts_total", {"rule": "restart-on-any-failure"}) == 1
    labels = {"webhook": "jobset-validate", "operation": "CREATE", "allowed": "false"}
    assert metrics.value("jobset_admission_duration_seconds_count", labels) == 1
    assert metrics.value("no_such_metric") == 0.0
