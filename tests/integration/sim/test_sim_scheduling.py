"""The simulated scheduler and kubelet on the embedded API server (embedded-apiserver.md
§5.5): bindings, affinity decisions, gates, Unschedulable reasons and retries, graceful
deletion, node failure and eviction."""

from __future__ import annotations

from typing import Any

from engine.localcluster.sim import disruption, scenario, topology
from simharness import Harness

P = scenario.PREFIX
JOB_KEY = "jobset.sigs.k8s.io/job-key"


def bare_pod(name: str, **spec: Any) -> dict[str, Any]:
    body = {"containers": [{"name": "main", "image": "busybox"}], "restartPolicy": "Never"}
    body.update(spec)
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "default",
                         "annotations": {P + "duration": "1h"}}, "spec": body}


async def scheduled(h: Harness, name: str) -> dict[str, Any] | None:
    pod = await h.api.get("v1/pods", "default", name)
    cond = next((c for c in pod.get("status", {}).get("conditions", [])
                 if c["type"] == "PodScheduled"), None)
    return pod if cond is not None else None


def exclusive(job: str, key: str) -> dict[str, Any]:
    """The affinity JobSet's exclusive placement (spec §12.3) puts on each pod of a Job."""
    return {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{
                "topologyKey": key, "labelSelector": {"matchExpressions": [
                    {"key": JOB_KEY, "operator": "In", "values": [job]}]}}]},
            "podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{
                "topologyKey": key, "labelSelector": {"matchExpressions": [
                    {"key": JOB_KEY, "operator": "Exists"},
                    {"key": JOB_KEY, "operator": "NotIn", "values": [job]}]}}]}}


def test_exclusive_placement_puts_each_job_on_its_own_rack(harness: Harness) -> None:
    async def body(h: Harness) -> None:
        await h.start()
        for job in ("a", "b", "c"):
            await h.create_job(f"w-{job}", completionMode="Indexed", completions=3,
                               parallelism=3, annotations={P + "duration": "1h"},
                               labels={JOB_KEY: job},
                               pod={"affinity": exclusive(job, topology.RACK)})

        async def all_running() -> bool:
            for job in ("a", "b", "c"):
                if (await h.job(f"w-{job}")).get("status", {}).get("ready") != 3:
                    return False
            return True
        await h.until(all_running)
        nodes = {n["metadata"]["name"]: n for n in await h.api.list("v1/nodes")}
        racks: dict[str, set[str]] = {}
        for job in ("a", "b", "c"):
            for pod in await h.pods(f"w-{job}"):
                labels = nodes[pod["spec"]["nodeName"]]["metadata"]["labels"]
                racks.setdefault(job, set()).add(labels[topology.RACK])
        assert all(len(r) == 1 for r in racks.values()), racks
        assert len(set().union(*racks.values())) == 3
    harness.run(body)


def test_fifth_exclusive_job_waits_unschedulable_until_a_rack_frees(harness: Harness) -> None:
    async def body(h: Harness) -> None:
        await h.start()
        for job in ("a", "b", "c", "d", "e"):
            await h.create_job(f"x-{job}", annotations={P + "duration": "1h"},
                               labels={JOB_KEY: job},
                               pod={"affinity": exclusive(job, topology.RACK)})

        async def waiting() -> dict[str, Any] | None:
            for pod in await h.api.list("v1/pods", "default"):
                cond = [c for c in pod.get("status", {}).get("conditions", [])
                        if c["type"] == "PodScheduled" and c["status"] == "False"]
                if cond:
                    return {"pod": pod, "cond": cond[0]}
            return None
        found = await h.until(waiting)
        assert found["cond"]["reason"] == "Unschedulable"
        assert found["cond"]["message"] == \
            "0/16 nodes are available: 16 node(s) didn't match pod anti-affinity rules."
        loser = found["pod"]["metadata"]["labels"][JOB_KEY]
        winner = next(j for j in ("a", "b", "c", "d", "e") if j != loser)
        await h.api.delete("batch/v1/jobs", "default", f"x-{winner}", propagation="Background")

        async def placed() -> bool:
            pod = await h.api.get("v1/pods", "default", found["pod"]["metadata"]["name"])
            return bool(pod["spec"].get("nodeName"))
        await h.until(placed)
        reasons = [r for _, r, _ in await h.events(found["pod"]["metadata"]["name"])]
        assert sorted(reasons) == ["FailedScheduling", "Scheduled"]
    harness.run(body)


def test_scheduling_gates_hold_a_pod_until_removed(harness: Harness) -> None:
    async def body(h: Harness) -> None:
        await h.start()
        await h.api.create("v1/pods", bare_pod("gated", schedulingGates=[{"name": "wait"}]),
                           namespace="default")
        pod = await h.until(lambda: scheduled(h, "gated"))
        cond = next(c for c in pod["status"]["conditions"] if c["type"] == "PodScheduled")
        assert (cond["status"], cond["reason"], cond["message"]) == (
            "False", "SchedulingGated", "Scheduling is blocked due to non-empty scheduling gates")
        assert not pod["spec"].get("nodeName")
        await h.api.patch("v1/pods", "default", "gated", {"spec": {"schedulingGates": []}},
                          patch_type="application/merge-patch+json")

        async def running() -> dict[str, Any] | None:
            current = await h.api.get("v1/pods", "default", "gated")
            return current if current["status"].get("phase") == "Running" else None
        current = await h.until(running)
        assert current["spec"]["nodeName"] and current["status"]["podIP"]
        assert current["status"]["hostIP"].startswith("10.")
    harness.run(body)


def test_node_selector_affinity_taints_and_resources(harness: Harness) -> None:
    async def body(h: Harness) -> None:
        nodes = topology.default_nodes() + [
            topology.node("gpu-0", labels={"accelerator": "a100"},
                          taints=[{"key": "gpu", "value": "true", "effect": "NoSchedule"}],
                          capacity={"cpu": "8", "memory": "32Gi", "pods": "10",
                                    "nvidia.com/gpu": "2"})]
        await h.start(nodes=nodes)
        gpu = {"name": "main", "image": "cuda",
               "resources": {"requests": {"nvidia.com/gpu": "2"}}}
        await h.api.create("v1/pods", bare_pod("untolerated", containers=[gpu]),
                           namespace="default")
        await h.api.create("v1/pods", bare_pod(
            "tolerated", containers=[gpu], nodeSelector={"accelerator": "a100"},
            tolerations=[{"key": "gpu", "operator": "Equal", "value": "true",
                          "effect": "NoSchedule"}]), namespace="default")
        zone_b = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [
                {"key": topology.ZONE, "operator": "In", "values": ["zone-b"]}]}]}}}
        await h.api.create("v1/pods", bare_pod("in-b", affinity=zone_b), namespace="default")
        first = await h.until(lambda: scheduled(h, "untolerated"))
        cond = next(c for c in first["status"]["conditions"] if c["type"] == "PodScheduled")
        assert cond["reason"] == "Unschedulable"
        assert cond["message"] == ("0/17 nodes are available: 1 node(s) had untolerated taint "
                                   "{gpu: true}, 16 Insufficient nvidia.com/gpu.")
        tolerated = await h.until(lambda: scheduled(h, "tolerated"))
        assert tolerated["spec"]["nodeName"] == "gpu-0"
        in_b = await h.until(lambda: scheduled(h, "in-b"))
        assert in_b["spec"]["nodeName"].startswith("node-b-")
    harness.run(body)


def test_graceful_deletion_keeps_the_pod_terminating_for_its_grace_period(harness: Harness) -> None:
    async def body(h: Harness) -> None:
        await h.start()
        await h.api.create("v1/pods", bare_pod("slow", terminationGracePeriodSeconds=20),
                           namespace="default")

        async def running() -> bool:
            pod = await h.api.get("v1/pods", "default", "slow")
            return pod["status"].get("phase") == "Running"
        await h.until(running)
        asked = h.clock.now()
        pending = await h.api.delete("v1/pods", "default", "slow")
        assert pending is not None and pending["metadata"]["deletionTimestamp"]

        async def gone() -> bool:
            return not [p for p in await h.api.list("v1/pods", "default")
                        if p["metadata"]["name"] == "slow"]
        await h.until(gone)
        assert (h.clock.now() - asked).total_seconds() >= 19
    harness.run(body)


def test_node_failure_fails_pods_with_disruption_target_and_job_ignores_them(
        harness: Harness) -> None:
    async def body(h: Harness) -> None:
        simulation = await h.start()
        await h.create_job("resilient", backoffLimit=0, annotations={P + "duration": "30s"},
                           podFailurePolicy={"rules": [
                               {"action": "Ignore",
                                "onPodConditions": [{"type": "DisruptionTarget"}]}]})

        async def running() -> dict[str, Any] | None:
            pods = [p for p in await h.pods("resilient") if p["status"].get("phase") == "Running"]
            return pods[0] if pods else None
        victim = await h.until(running)
        node = victim["spec"]["nodeName"]
        assert await simulation.fail_node(node) == [victim["metadata"]["name"]]
        failed_node = await h.api.get("v1/nodes", None, node)
        ready = next(c for c in failed_node["status"]["conditions"] if c["type"] == "Ready")
        assert (ready["status"], ready["reason"]) == ("Unknown", "NodeStatusUnknown")
        assert {t["key"] for t in failed_node["spec"]["taints"]} == {disruption.UNREACHABLE}
        job = await h.finished("resilient")
        assert job["status"]["conditions"][-1]["type"] == "Complete"
        assert job["status"]["failed"] == 0 and job["status"]["succeeded"] == 1
        replacement = [p for p in await h.pods("resilient")
                       if p["metadata"]["name"] != victim["metadata"]["name"]]
        assert replacement and replacement[0]["spec"]["nodeName"] != node
    harness.run(body)


def test_eviction_adds_disruption_target_and_counts_without_policy(harness: Harness) -> None:
    async def body(h: Harness) -> None:
        simulation = await h.start()
        await h.create_job("evicted", backoffLimit=0, annotations={P + "duration": "1h"},
                           pod={"terminationGracePeriodSeconds": 5})

        async def running() -> dict[str, Any] | None:
            pods = [p for p in await h.pods("evicted") if p["status"].get("phase") == "Running"]
            return pods[0] if pods else None
        victim = await h.until(running)
        await simulation.evict_pod("default", victim["metadata"]["name"])
        job = await h.finished("evicted")
        assert job["status"]["conditions"][-1][("reason")] == "BackoffLimitExceeded"
        assert job["status"]["failed"] == 1
    harness.run(body)


def test_a_restored_node_takes_pods_again(harness: Harness) -> None:
    async def body(h: Harness) -> None:
        simulation = await h.start(nodes=[topology.node("only")])
        assert await simulation.fail_node("only") == []

        async def tainted_in_cache() -> bool:
            node = simulation.scheduler.cluster.nodes["only"]
            return bool(node["spec"].get("taints"))
        await h.until(tainted_in_cache)
        await h.api.create("v1/pods", bare_pod("waits"), namespace="default")
        pod = await h.until(lambda: scheduled(h, "waits"))
        assert pod["status"]["conditions"][-1]["message"] == (
            "0/1 nodes are available: 1 node(s) had untolerated taint "
            "{node.kubernetes.io/unreachable}.")
        await simulation.restore_node("only")

        async def running() -> bool:
            current = await h.api.get("v1/pods", "default", "waits")
            return current["status"].get("phase") == "Running"
        await h.until(running)
        node = await h.api.get("v1/nodes", None, "only")
        assert node["spec"]["taints"] == []
    harness.run(body)
