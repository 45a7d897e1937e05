"""upstream-examples with real training programs (PyTorch, TensorFlow) and the JobSet an Argo
Workflow submits: with the programs' run time given by scenario files, they complete, and
the pods get the names the programs rely on (spec §9.4, §10.7)."""

from __future__ import annotations

import re
from typing import Any

import exampleharness as runs
import upstreamharness as harness
from exampleharness import condition


def _completed(run: runs.Run) -> dict[str, Any]:
    jobset = run.finished(timeout=60)
    assert jobset["status"]["terminalState"] == "Completed", jobset["status"]
    assert condition(jobset, "Completed")["reason"] == "AllJobsCompleted"
    return jobset


def _master_is_a_pod(run: runs.Run, path: str) -> None:
    """MASTER_ADDR (pytorch-workers-0-0.pytorch) names a pod: hostname and subdomain of worker 0."""
    master = next(e["value"] for e in harness.jobset_document(path)["spec"]["replicatedJobs"][0]
                  ["template"]["spec"]["template"]["spec"]["containers"][0]["env"] if e["name"] == "MASTER_ADDR")
    pods = runs.eventually(lambda: len(found := run.pods()) == 4 and found, what="four pods")
    assert master in {f"{pod['spec']['hostname']}.{pod['spec']['subdomain']}" for pod in pods}


def test_pytorch_cnn_mnist_trains_to_completion(upstream: harness.Upstream) -> None:
    """§9.4, §10.7: four indexed workers, rank from the completion index; Completed."""
    run = upstream("pytorch/cnn-mnist/mnist.yaml", "pytorch-cnn-mnist")
    _master_is_a_pod(run, "pytorch/cnn-mnist/mnist.yaml")
    ranks = sorted(pod["metadata"]["annotations"]["batch.kubernetes.io/job-completion-index"] for pod in run.pods())
    assert ranks == ["0", "1", "2", "3"]
    _completed(run)


def test_pytorch_resnet_cifar10_trains_to_completion(upstream: harness.Upstream) -> None:
    """§10.7: the same topology with ResNet-18; Completed."""
    run = upstream("pytorch/resnet-cifar10/resnet.yaml", "pytorch-resnet-cifar10")
    _master_is_a_pod(run, "pytorch/resnet-cifar10/resnet.yaml")
    _completed(run)


def test_tensorflow_mnist_trains_to_completion(upstream: harness.Upstream) -> None:
    """§10.7: two pods of one Job; Completed."""
    run = upstream("tensorflow/mnist.yaml", "tensorflow-mnist")
    jobset = _completed(run)
    assert jobset["status"]["replicatedJobsStatus"][0]["succeeded"] == 1


def test_argo_workflow_jobset_meets_the_workflow_success_condition(upstream: harness.Upstream) -> None:
    """§10.7: the embedded JobSet completes, so the Workflow's successCondition holds and its failureCondition not."""
    run = upstream("argo-workflow/workflow.yaml")
    jobset = _completed(run)
    [template] = [t["resource"] for d in harness.documents("argo-workflow/workflow.yaml")
                  for t in d["spec"]["templates"] if "resource" in t]

    def holds(expression: str) -> bool:
        path, value = re.fullmatch(r"\s*([\w.]+)\s*==\s*(\w+)\s*", expression).groups()
        found: Any = jobset
        for part in path.split("."):
            found = found.get(part, {})
        return found == value
    assert holds(template["successCondition"]) and not holds(template["failureCondition"])
