"""The node-selector strategy of exclusive placement (spec §12.2) on pre-labelled, tainted nodes."""

from __future__ import annotations

import placementharness as harness
from placementharness import EXCLUSIVE, NODE_SELECTOR, RACK

NAMESPACED_JOB = "alpha.jobset.sigs.k8s.io/namespaced-job"
NO_SCHEDULE = "alpha.jobset.sigs.k8s.io/no-schedule"


def test_each_job_runs_on_the_nodes_labelled_for_it_and_the_webhooks_leave_its_pods_alone(
        space: harness.Space) -> None:
    """§12.2: nodeSelector `<ns>_<job>` and the toleration come from the Job; no affinity, no priority label."""
    jobs = [f"labelled-w-{j}" for j in range(2)]
    nodes = space.cluster.add_nodes(f"{space.namespace}-node-", 4,
                                    labels=lambda i: {NAMESPACED_JOB: f"{space.namespace}_{jobs[i // 2]}"},
                                    taints=[{"key": NO_SCHEDULE, "value": "true", "effect": "NoSchedule"}])
    space.jobset("labelled", jobs=2, pods=2, annotations={EXCLUSIVE: RACK, NODE_SELECTOR: "true"})
    bound = harness.eventually(lambda: (pods := space.pods("labelled")) and len(pods) == 4
                               and all(p["spec"].get("nodeName") for p in pods) and pods, what="4 pods bound")
    for pod in bound:
        job = harness.job_of(pod)
        assert pod["spec"]["nodeName"] in nodes[jobs.index(job) * 2:jobs.index(job) * 2 + 2], pod["spec"]["nodeName"]
        assert pod["spec"]["nodeSelector"] == {NAMESPACED_JOB: f"{space.namespace}_{job}"}
        assert {"key": NO_SCHEDULE, "operator": "Exists", "effect": "NoSchedule"} in pod["spec"]["tolerations"]
        assert "affinity" not in pod["spec"]
        assert "jobset.sigs.k8s.io/priority" not in pod["metadata"]["labels"]
