"""Elastic scaling on the real HTTP API (gate `ElasticJobSet`, spec §10.14 and §6.2): changed
parallelism/completions reach the live Jobs; what the update webhook lets change, and what not.

Elastic scaling is about the pods of each Job; `replicas` (the number of Jobs) stays immutable.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import controllerharness as harness
from controllerharness import jobset_manifest, wait_for_jobs


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[harness.Cluster]:
    """This module's installation runs with gate ElasticJobSet on."""
    with harness.installation(tmp_path_factory.mktemp("elastic"), {"ElasticJobSet": True}) as installed:
        yield installed


def elastic(name: str, replicas: int = 2, *, size: int = 2, **spec: Any) -> dict[str, Any]:
    """An Indexed replicated job `workers` of `replicas` Jobs with parallelism = completions = size."""
    manifest = jobset_manifest(name, ("workers", replicas), **spec)
    manifest["spec"]["replicatedJobs"][0]["template"]["spec"].update(
        completionMode="Indexed", parallelism=size, completions=size)
    return manifest


def scale(parallelism: int | None, completions: int | None) -> Any:
    def change(jobset: dict[str, Any]) -> None:
        spec = jobset["spec"]["replicatedJobs"][0]["template"]["spec"]
        spec.update(parallelism=parallelism, completions=completions)
    return change


def sizes(cluster: harness.Cluster, namespace: str, name: str) -> set[tuple[int, int]]:
    return {(job["spec"]["parallelism"], job["spec"]["completions"])
            for job in harness.live_jobs(cluster, namespace, name).values()}


def test_scaling_up_and_down_patches_every_live_job_section_10_14(cluster: harness.Cluster, namespace: str) -> None:
    """§10.14: parallelism = completions raised to 4, then lowered to 1, reach both Jobs in place."""
    cluster.create_jobset(namespace, elastic("grow"))
    jobs = wait_for_jobs(cluster, namespace, "grow", ["grow-workers-0", "grow-workers-1"])
    uids = {name: job["metadata"]["uid"] for name, job in jobs.items()}
    assert sizes(cluster, namespace, "grow") == {(2, 2)}
    harness.update_jobset(cluster, namespace, "grow", scale(4, 4))
    harness.eventually(lambda: sizes(cluster, namespace, "grow") == {(4, 4)}, what="jobs at 4 pods")
    harness.update_jobset(cluster, namespace, "grow", scale(1, 1))
    harness.eventually(lambda: sizes(cluster, namespace, "grow") == {(1, 1)}, what="jobs at 1 pod")
    assert {name: job["metadata"]["uid"] for name, job in cluster.jobs(namespace, "grow").items()} == uids


def test_scaling_counts_readiness_against_the_new_size_section_10_3(cluster: harness.Cluster, namespace: str) -> None:
    """§10.14, §10.3: after scaling to 3 pods, a Job with 2 ready pods is no longer counted ready."""
    cluster.create_jobset(namespace, elastic("ready", replicas=1))
    wait_for_jobs(cluster, namespace, "ready", ["ready-workers-0"])
    cluster.make_ready(namespace, "ready-workers-0", pods=2)
    harness.counters_reach(cluster, namespace, "ready", workers={"ready": 1})
    harness.update_jobset(cluster, namespace, "ready", scale(3, 3))
    harness.eventually(lambda: sizes(cluster, namespace, "ready") == {(3, 3)}, what="job at 3 pods")
    harness.counters_reach(cluster, namespace, "ready", workers={"ready": 0, "active": 1})


@pytest.mark.parametrize(("parallelism", "completions", "field", "message"), [
    (0, 0, "parallelism", "parallelism must be >= 1"),
    (3, 4, "completions", "must be equal to parallelism"),
])
def test_invalid_sizes_are_refused_section_6_2(cluster: harness.Cluster, namespace: str, parallelism: int,
                                               completions: int, field: str, message: str) -> None:
    """§6.2: a changed parallelism below 1, or completions different from parallelism, is refused."""
    cluster.create_jobset(namespace, elastic("bad"))
    body = harness.refused_update(cluster, namespace, "bad", scale(parallelism, completions))
    assert f"spec.replicatedJobs[0].template.spec.{field}" in body and message in body


def test_finished_jobset_cannot_be_scaled_section_6_2(cluster: harness.Cluster, namespace: str) -> None:
    """§6.2: once Completed, changing parallelism/completions is Forbidden."""
    cluster.create_jobset(namespace, elastic("over", replicas=1))
    wait_for_jobs(cluster, namespace, "over", ["over-workers-0"])
    cluster.complete_job(namespace, "over-workers-0", pods=2)
    harness.condition_is(cluster, namespace, "over", "Completed", "True")
    body = harness.refused_update(cluster, namespace, "over", scale(3, 3))
    assert "spec.replicatedJobs[0].template.spec" in body and "terminal state" in body


def test_replicas_and_non_indexed_jobs_stay_immutable_section_6_2(cluster: harness.Cluster, namespace: str) -> None:
    """§6.2: the gate opens parallelism/completions of Indexed jobs only: replicas, and the sizes of a
    NonIndexed replicated job, are immutable."""
    cluster.create_jobset(namespace, elastic("rigid"))
    body = harness.refused_update(cluster, namespace, "rigid",
                                  lambda js: js["spec"]["replicatedJobs"][0].update(replicas=3))
    assert "spec.replicatedJobs" in body and "field is immutable" in body
    manifest = jobset_manifest("plain", ("workers", 1))
    manifest["spec"]["replicatedJobs"][0]["template"]["spec"].update(completionMode="NonIndexed", parallelism=1,
                                                                     completions=1)
    cluster.create_jobset(namespace, manifest)
    assert "field is immutable" in harness.refused_update(cluster, namespace, "plain", scale(2, 2))
