"""Every Prometheus metric the controller exposes: name, labels, help text, and the one registry.

Owns: `REGISTRY` (served by the manager on the metrics address) and the metric families:
JobSet outcomes (spec §13, §10.15), controller-runtime's reconcile and work-queue metrics,
restarts by rule, admission latency. Small `record_*` functions keep label names in one place.
Called by: `kube.workqueue`, `kube.controller`, the plan executor, the webhooks, the manager.
Must not import: anything else in `engine`.
"""

from __future__ import annotations

import prometheus_client

REGISTRY = prometheus_client.CollectorRegistry(auto_describe=True)

# Reconcile durations span sub-millisecond cache hits to minute-long API stalls.
_DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

JOBSET_FAILED = prometheus_client.Counter(
    "jobset_failed_total", "Number of JobSets marked Failed",
    ["jobset_name", "namespace"], registry=REGISTRY,
)
JOBSET_COMPLETED = prometheus_client.Counter(
    "jobset_completed_total", "Number of JobSets marked Completed",
    ["jobset_name", "namespace"], registry=REGISTRY,
)
JOBSET_RESTARTS = prometheus_client.Counter(
    "jobset_restarts_total", "Number of JobSet restarts, by the rule that caused them",
    ["rule"], registry=REGISTRY,
)
JOBSET_RECONCILE_DURATION = prometheus_client.Histogram(
    "jobset_reconcile_duration_seconds", "Duration of one reconcile, by controller and result",
    ["controller", "result"], buckets=_DURATION_BUCKETS, registry=REGISTRY,
)
JOBSET_WORKQUEUE_DEPTH = prometheus_client.Gauge(
    "jobset_workqueue_depth", "Keys waiting in a controller's work queue",
    ["name"], registry=REGISTRY,
)
ADMISSION_DURATION = prometheus_client.Histogram(
    "jobset_admission_duration_seconds", "Latency of one admission review, by webhook and verdict",
    ["webhook", "operation", "allowed"], buckets=_DURATION_BUCKETS, registry=REGISTRY,
)
RECONCILE_TOTAL = prometheus_client.Counter(
    "controller_runtime_reconcile_total", "Total number of reconciliations per controller",
    ["controller", "result"], registry=REGISTRY,
)
RECONCILE_ERRORS = prometheus_client.Counter(
    "controller_runtime_reconcile_errors_total", "Total number of reconciliation errors per controller",
    ["controller"], registry=REGISTRY,
)
TERMINAL_RECONCILE_ERRORS = prometheus_client.Counter(
    "controller_runtime_terminal_reconcile_errors_total",
    "Total number of terminal reconciliation errors per controller",
    ["controller"], registry=REGISTRY,
)
RECONCILE_TIME = prometheus_client.Histogram(
    "controller_runtime_reconcile_time_seconds", "Length of time per reconciliation per controller",
    ["controller"], buckets=_DURATION_BUCKETS, registry=REGISTRY,
)
ACTIVE_WORKERS = prometheus_client.Gauge(
    "controller_runtime_active_workers", "Number of currently used workers per controller",
    ["controller"], registry=REGISTRY,
)
WORKQUEUE_DEPTH = prometheus_client.Gauge(
    "workqueue_depth", "Current depth of workqueue", ["name"], registry=REGISTRY,
)
WORKQUEUE_ADDS = prometheus_client.Counter(
    "workqueue_adds_total", "Total number of adds handled by workqueue", ["name"], registry=REGISTRY,
)
WORKQUEUE_RETRIES = prometheus_client.Counter(
    "workqueue_retries_total", "Total number of retries handled by workqueue", ["name"], registry=REGISTRY,
)
WORKQUEUE_QUEUE_DURATION = prometheus_client.Histogram(
    "workqueue_queue_duration_seconds", "How long in seconds an item stays in workqueue before being requested",
    ["name"], buckets=_DURATION_BUCKETS, registry=REGISTRY,
)
WORKQUEUE_WORK_DURATION = prometheus_client.Histogram(
    "workqueue_work_duration_seconds", "How long in seconds processing an item from workqueue takes",
    ["name"], buckets=_DURATION_BUCKETS, registry=REGISTRY,
)
LEADER = prometheus_client.Gauge(
    "leader_election_master_status", "1 while this process holds the named lease, else 0",
    ["name"], registry=REGISTRY,
)


def record_failed(*, namespace: str, name: str) -> None:
    """Count one JobSet marked Failed (spec §10.15)."""
    JOBSET_FAILED.labels(jobset_name=name, namespace=namespace).inc()


def record_completed(*, namespace: str, name: str) -> None:
    """Count one JobSet marked Completed (spec §10.15)."""
    JOBSET_COMPLETED.labels(jobset_name=name, namespace=namespace).inc()


def record_restart(*, rule: str) -> None:
    """Count one JobSet restart caused by the failure-policy rule `rule` (its ID or name)."""
    JOBSET_RESTARTS.labels(rule=rule).inc()


def observe_admission(*, webhook: str, operation: str, allowed: bool, seconds: float) -> None:
    """Record the latency of one admission review."""
    ADMISSION_DURATION.labels(webhook=webhook, operation=operation, allowed=str(allowed).lower()).observe(seconds)


def set_queue_depth(*, name: str, depth: int) -> None:
    """Publish the depth of the work queue `name` under both its names."""
    WORKQUEUE_DEPTH.labels(name=name).set(depth)
    JOBSET_WORKQUEUE_DEPTH.labels(name=name).set(depth)


def exposition() -> bytes:
    """The registry in the Prometheus text format, as served on `/metrics`."""
    return prometheus_client.generate_latest(REGISTRY)


def value(name: str, labels: dict[str, str] | None = None) -> float:
    """The current value of one sample (0.0 when absent); for readiness checks, tests and `jobset explain`."""
    found = REGISTRY.get_sample_value(name, labels or {})
    return 0.0 if found is None else found
