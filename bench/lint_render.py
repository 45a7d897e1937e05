"""`jobset lint` and `jobset render` costs, and the CEL backend ratio on the same packs.

Run: `python bench/lint_render.py` from the repository root, in the project virtualenv.
Prints, in one run:
1. lint of a 16-replicatedJob JobSet in-process after warm-up: p50 and p99 (goal p50 < 2 ms);
2. render of 1 replicatedJob x 5,000 replicas: the children built by the construct packs
   (goal < 1 s), and the same per Job as a ratio to lint; then the same Jobs built by one
   `Registry.evaluate_phase_many` call (JobSet-level values computed once), checked equal.
   Wall and CPU time: on a shared machine the wall time mostly measures the others;
3. side by side, alternating, CPU time (the machine is shared): that call with one skeleton
   copy per Job against one skeleton for all, and with Python's cyclic garbage collector
   running against paused (what `engine.planner.construction.jobs` does);
4. the ratio of the two CEL backends (celpy / celexpr) on the default+validation packs.
"""

from __future__ import annotations

import copy
import gc
import statistics
import time
from typing import Any

from engine.cel import backends
from engine.cli.commands import render
from engine.lint import pipeline
from engine.model import builders
from engine.planner import packs


def jobset(replicated_jobs: int, replicas: int = 2) -> dict[str, Any]:
    """A JobSet shaped like a real training job: env, resources, tolerations, dependsOn, policies."""
    rjs = []
    for index in range(replicated_jobs):
        rj: dict[str, Any] = {"name": f"rj-{index}", "replicas": replicas, "template": {"spec": {
            "parallelism": 4, "completions": 4, "backoffLimit": 0, "template": {"spec": {
                "containers": [{"name": "main", "image": "python:3.11", "command": ["python", "train.py"],
                                "env": [{"name": f"E{k}", "value": str(k)} for k in range(5)],
                                "resources": {"requests": {"cpu": "1", "memory": "1Gi"}}}],
                "tolerations": [{"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}]}}}}}
        if index and index % 5 == 0:
            rj["dependsOn"] = [{"name": "rj-0", "status": "Ready"}]
        rjs.append(rj)
    return {"apiVersion": "jobset.x-k8s.io/v1alpha2", "kind": "JobSet", "metadata": {"name": "bench"},
            "spec": {"replicatedJobs": rjs, "coordinator": {"replicatedJob": "rj-0"},
                     "failurePolicy": {"maxRestarts": 3, "rules": [
                         {"name": f"rule{k}", "action": "RestartJobSet", "onJobFailureReasons": ["PodFailurePolicy"]}
                         for k in range(4)]}}}


def timings(checker: pipeline.Checker, document: dict[str, Any], rounds: int) -> list[float]:
    """Seconds per check; raises if the verdict is not "valid" (a budget overrun shows up here)."""
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        verdict = checker.check(document)
        samples.append(time.perf_counter() - started)
        if not verdict.valid:
            raise RuntimeError("; ".join(f.message for f in verdict.findings))
    return samples


def jobs_at_once(checker: pipeline.Checker, jobset: dict[str, Any], *,
                 skeleton_per_job: bool = False) -> list[dict[str, Any]]:
    """Every Job of `jobset` from one evaluate_phase_many call per replicated job; the
    skeleton shared by all its Jobs (the engine copies it), or built (copied) for each."""
    built = []
    for index, rj in enumerate(jobset["spec"]["replicatedJobs"]):
        shared = {"jobset": jobset, "replicatedJobIndex": index, "featureGates": {}}
        if skeleton_per_job:
            each = [{"object": builders.job_skeleton(rj), "jobIndex": k} for k in range(rj["replicas"])]
        else:
            shared["object"] = builders.job_skeleton(rj)
            each = [{"jobIndex": k} for k in range(rj["replicas"])]
        built += [result.subject for result in checker.packs.evaluate_phase_many("construct", shared, each)]
    return built


def cpu_seconds(build: Any, *, collect: bool) -> float:
    """CPU seconds of `build()`, with cyclic garbage collection running or paused."""
    gc.collect()
    if not collect:
        gc.disable()
    started = time.process_time()
    try:
        build()
    finally:
        gc.enable()
    return time.process_time() - started


def side_by_side(checker: pipeline.Checker, jobset: dict[str, Any], rounds: int = 3) -> None:
    """Medians of alternating runs: skeleton per Job / shared, collection running / paused."""
    variants: dict[str, list[float]] = {"per Job": [], "shared": [], "collecting": [], "paused": []}
    for _ in range(rounds):
        variants["per Job"].append(cpu_seconds(lambda: jobs_at_once(checker, jobset, skeleton_per_job=True),
                                               collect=False))
        variants["shared"].append(cpu_seconds(lambda: jobs_at_once(checker, jobset), collect=False))
        variants["collecting"].append(cpu_seconds(lambda: jobs_at_once(checker, jobset), collect=True))
        variants["paused"].append(cpu_seconds(lambda: jobs_at_once(checker, jobset), collect=False))
    median = {name: statistics.median(samples) for name, samples in variants.items()}
    print(f"render, CPU time of one skeleton shared / one per Job: {median['shared'] / median['per Job']:.2f} "
          f"({median['shared']:.2f} s / {median['per Job']:.2f} s, collection paused)")
    print(f"render, CPU time with collection paused / running: {median['paused'] / median['collecting']:.2f} "
          f"({median['paused']:.2f} s / {median['collecting']:.2f} s, skeleton shared)")


def main() -> None:
    document = jobset(16)
    checker = pipeline.Checker(feature_gates={})
    timings(checker, document, 20)
    samples = sorted(timings(checker, document, 300))
    lint_p50 = statistics.median(samples)
    print(f"lint, 16 replicatedJobs, in-process: p50 {lint_p50 * 1e3:.2f} ms, "
          f"p99 {samples[int(len(samples) * 0.99)] * 1e3:.2f} ms (goal p50 < 2 ms)")

    big = jobset(1, replicas=5000)
    big["spec"].pop("coordinator")
    verdict = checker.check(big)
    stored = render.stored(verdict.defaulted)
    decision_packs = packs.RegistryPacks(checker.packs)
    started, cpu = time.perf_counter(), time.process_time()
    objects = list(render.children(decision_packs, stored, {}))
    elapsed, elapsed_cpu = time.perf_counter() - started, time.process_time() - cpu
    jobs = sum(obj["kind"] == "Job" for obj in objects)
    print(f"render, 1 replicatedJob x 5,000 replicas: {elapsed:.2f} s for {jobs} Jobs (CPU {elapsed_cpu:.2f} s; "
          f"{elapsed / jobs * 1e3:.3f} ms per Job, {elapsed / jobs / lint_p50:.2f}x one lint) (goal < 1 s)")
    gc.disable()  # as `construction.jobs` does; the ratio to collection running is printed below
    try:
        started, cpu = time.perf_counter(), time.process_time()
        batched = jobs_at_once(checker, stored)
        at_once, at_once_cpu = time.perf_counter() - started, time.process_time() - cpu
    finally:
        gc.enable()
    if batched != [obj for obj in objects if obj["kind"] == "Job"]:
        raise RuntimeError("evaluate_phase_many built other Jobs than one evaluation per Job")
    print(f"render, the same Jobs through evaluate_phase_many: {at_once:.2f} s (CPU {at_once_cpu:.2f} s; "
          f"collection paused) (goal < 1 s)")
    del objects, batched  # the collector's cost grows with what is alive: compare on a heap like render's
    side_by_side(checker, stored)

    per_backend = {}
    for name in backends.available_backends():
        other = pipeline.Checker(feature_gates={}, backend=backends.get_backend(name))
        try:
            timings(other, copy.deepcopy(document), 3)
            per_backend[name] = statistics.median(timings(other, document, 15))
        except RuntimeError as error:
            print(f"lint with backend {name}: not comparable, {error}")
            continue
        print(f"lint with backend {name}: p50 {per_backend[name] * 1e3:.2f} ms")
    if {"celexpr", "celpy"} <= per_backend.keys():
        print(f"ratio celpy / celexpr on the same packs: {per_backend['celpy'] / per_backend['celexpr']:.1f}x")


if __name__ == "__main__":
    main()
