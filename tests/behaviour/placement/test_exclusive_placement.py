"""Exclusive placement (spec §12) on the simulated scheduler through the whole installation."""

from __future__ import annotations

import placementharness as harness
from placementharness import EXCLUSIVE, RACK, ZONE


def test_each_job_gets_its_own_rack_and_followers_land_with_their_leader(space: harness.Space) -> None:
    """§12.3: 4 Jobs on 4 racks of 4 nodes: one rack per Job, none shared, followers select the leader's rack."""
    space.jobset("racks", jobs=4, pods=4, annotations={EXCLUSIVE: RACK})
    placed = harness.eventually(lambda: (p := space.placement("racks", RACK))
                                and sum(1 for pod in space.pods("racks") if pod["spec"].get("nodeName")) == 16 and p,
                                what="16 pods bound")
    assert sorted(placed) == [f"racks-w-{i}" for i in range(4)]
    assert all(len(domains) == 1 for domains in placed.values()), placed
    assert len(set().union(*placed.values())) == 4, placed
    for pod in space.pods("racks"):
        rack = next(iter(placed[harness.job_of(pod)]))
        if harness.is_leader(pod):
            assert pod["spec"]["affinity"]["podAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][0][
                "topologyKey"] == RACK
            assert pod["metadata"]["labels"]["jobset.sigs.k8s.io/priority"] == str(space.priority)
        else:
            assert pod["spec"]["nodeSelector"] == {RACK: rack}


def test_jobs_beyond_the_domains_wait_without_blocking_the_placed_ones(space: harness.Space) -> None:
    """§12.3: 3 Jobs on 2 zones: two run, one per zone; the third waits with its leader unschedulable
    and no followers (refused until the leader is scheduled), then runs in a freed zone."""
    space.jobset("zones", jobs=3, pods=3, duration="2m", annotations={EXCLUSIVE: ZONE})

    def two_running_one_waiting() -> dict[str, set[str]] | None:
        placed = space.placement("zones", ZONE)
        running = [job for job in placed if sum(1 for p in space.pods("zones") if harness.job_of(p) == job
                                                and p["status"].get("phase") == "Running") == 3]
        return placed if len(running) == 2 else None

    placed = harness.eventually(two_running_one_waiting, what="two Jobs running")
    assert all(len(domains) == 1 for domains in placed.values()), placed
    assert len(set().union(*placed.values())) == 2, placed
    waiting = ({"zones-w-0", "zones-w-1", "zones-w-2"} - set(placed)).pop()
    pods = [p for p in space.pods("zones") if harness.job_of(p) == waiting]
    assert [harness.is_leader(p) for p in pods] == [True], pods
    assert not pods[0]["spec"].get("nodeName")
    scheduled = next(c for c in pods[0]["status"]["conditions"] if c["type"] == "PodScheduled")
    assert scheduled["reason"] == "Unschedulable" and "anti-affinity" in scheduled["message"]

    def all_three_placed() -> dict[str, set[str]] | None:
        done = space.placement("zones", ZONE)
        return done if waiting in done and len([p for p in space.pods("zones") if harness.job_of(p) == waiting
                                                and p["spec"].get("nodeName")]) == 3 else None

    later = harness.eventually(all_three_placed, timeout=60, what="the third Job placed after a zone freed")
    assert len(later[waiting]) == 1


def test_non_exclusive_pods_of_the_same_priority_stay_out_of_exclusive_racks(space: harness.Space) -> None:
    """§12.3: the leaders' anti-affinity (job-key exists, another job-key, same priority) keeps other
    JobSet pods of that priority out of the exclusive racks."""
    space.jobset("exclusive", jobs=2, pods=2, annotations={EXCLUSIVE: RACK})
    exclusive = harness.eventually(lambda: (p := space.placement("exclusive", RACK)) and len(p) == 2 and p,
                                   what="both exclusive leaders placed")
    taken = set().union(*exclusive.values())
    space.jobset("plain", jobs=1, pods=8)
    plain = harness.eventually(lambda: len([p for p in space.pods("plain") if p["spec"].get("nodeName")]) == 8
                               and space.placement("plain", RACK), what="8 plain pods bound")
    assert not taken & set().union(*plain.values()), (taken, plain)
    assert set().union(*space.placement("exclusive", RACK).values()) == taken
