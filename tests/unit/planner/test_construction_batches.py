"""Jobs of a replicated job built in one batch from one skeleton, collection paused (spec §9.2)."""

from __future__ import annotations

import copy
import gc
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import pytest

from engine.planner import construction, packs

JOBSET: dict[str, Any] = {
    "apiVersion": "jobset.x-k8s.io/v1alpha2", "kind": "JobSet",
    "metadata": {"name": "js", "namespace": "ns", "uid": "uid-1"},
    "spec": {"replicatedJobs": [{"name": "w", "replicas": 3, "template": {
        "metadata": {"labels": {"team": "a"}},
        "spec": {"completionMode": "Indexed", "template": {"spec": {
            "containers": [{"name": "c", "image": "busybox", "env": [{"name": "A", "value": "1"}]}]}}}}}]},
}


@pytest.fixture(scope="module")
def builtin() -> packs.RegistryPacks:
    loaded, problems = packs.load()
    assert problems == []
    return loaded


def test_jobs_of_one_skeleton_share_nothing_with_each_other_or_the_jobset(builtin: packs.RegistryPacks) -> None:
    """§9.2 steps 1-2: each Job is its own copy of the template; changing one changes no other."""
    jobset = copy.deepcopy(JOBSET)
    jobs = construction.jobs(builtin, jobset, replicated_job_index=0, job_indexes=[0, 1, 2], gates={})
    assert [job["metadata"]["name"] for job in jobs] == ["js-w-0", "js-w-1", "js-w-2"]
    jobs[0]["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"] = "changed"
    jobs[0]["metadata"]["labels"]["team"] = "b"
    assert jobs[1]["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"] == "1"
    assert jobs[2]["metadata"]["labels"]["team"] == "a"
    assert jobset == JOBSET


class _Recording:
    """`Packs.apply_phase_many` that records whether collection was on, then returns or fails."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.collecting: list[bool] = []
        self.requests: list[Mapping[str, Any]] = []

    def apply_phase_many(self, phase: str, *, subject: str, shared: Mapping[str, Any],
                         each: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        self.collecting.append(gc.isenabled())
        if self.error is not None:
            raise self.error
        self.requests = list(each)
        return [dict(shared[subject], index=request["jobIndex"]) for request in self.requests]


@pytest.fixture()
def collection_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


@pytest.mark.usefixtures("collection_on")
def test_collection_is_paused_during_the_batch_and_back_on_after() -> None:
    """§9.2: one batch per replicated job, one request per Job index, collection off meanwhile."""
    recording = _Recording()
    built = construction.jobs(recording, JOBSET, replicated_job_index=0, job_indexes=[2, 0], gates={})  # type: ignore[arg-type]
    assert recording.collecting == [False] and gc.isenabled()
    assert recording.requests == [{"jobIndex": 2}, {"jobIndex": 0}]
    assert [job["index"] for job in built] == [2, 0] and built[0]["kind"] == "Job"


@pytest.mark.usefixtures("collection_on")
def test_collection_is_back_on_when_the_batch_fails() -> None:
    recording = _Recording(packs.DecisionError("phase construct: broken"))
    with pytest.raises(packs.DecisionError):
        construction.jobs(recording, JOBSET, replicated_job_index=0, job_indexes=[0], gates={})  # type: ignore[arg-type]
    assert recording.collecting == [False] and gc.isenabled()


def test_collection_left_off_when_the_caller_had_turned_it_off() -> None:
    was = gc.isenabled()
    gc.disable()
    try:
        construction.jobs(_Recording(), JOBSET, replicated_job_index=0, job_indexes=[0], gates={})  # type: ignore[arg-type]
        assert not gc.isenabled()
    finally:
        if was:
            gc.enable()
