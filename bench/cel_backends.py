"""Per-request cost of a 12-rule pack on a 16-replicatedJob JobSet, for every CEL backend.

Run: `python bench/cel_backends.py` (from the repository root, in the project virtualenv).
Each request decodes a fresh copy of the JSON, builds one activation and evaluates the twelve
rules (compiled once beforehand), as the webhook does. Prints p50/p99 per backend, the ratio
celpy/celexpr, and two celexpr micro-costs: one Python-implemented function call and one
activation. Must not import: anything in `engine` beyond `engine.cel`.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from typing import Any

from engine.cel import backends

VARIABLES = ("self", "oldSelf", "job")
RULES = (
    "self.spec.replicatedJobs.all(r, r.replicas >= 1)",
    "job.status.conditions.exists(c, c.type == 'Failed' && "
    "c.reason in ['BackoffLimitExceeded', 'PodFailurePolicy'])",
    "self.spec.replicatedJobs.all(r, self.metadata.name.size() + r.name.size() < 64)",
    "self.spec.replicatedJobs.all(r, r.name.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'))",
    "self.spec.replicatedJobs.map(r, {'name': r.name, "
    "'pods': r.replicas * r.template.spec.parallelism})",
    "self.spec.replicatedJobs.map(r, r.replicas * r.template.spec.parallelism)"
    ".exists(p, p > 2147483647) == false && (self.spec.failurePolicy.maxRestarts + 1) * 2 % 7 < 10",
    "self.spec.failurePolicy == oldSelf.spec.failurePolicy && "
    "self.spec.network == oldSelf.spec.network",
    "!(has(self.spec.startupPolicy) && self.spec.startupPolicy.startupPolicyOrder == 'InOrder' && "
    "self.spec.replicatedJobs.exists(x, has(x.dependsOn)))",
    "self.spec.replicatedJobs.all(r, !has(r.dependsOn) || "
    "r.dependsOn.all(d, self.spec.replicatedJobs.exists(o, o.name == d.name)))",
    "self.spec.failurePolicy.rules.all(r, "
    "self.spec.failurePolicy.rules.exists_one(o, o.name == r.name))",
    "!has(self.spec.coordinator) || self.spec.replicatedJobs.exists(r, "
    "r.name == self.spec.coordinator.replicatedJob && self.spec.coordinator.jobIndex < r.replicas)",
    "job.status.conditions.filter(c, c.status == 'True').map(c, c.type)",
)
REQUESTS = {"celexpr": 2000, "celpy": 60}


def replicated_job(index: int) -> dict[str, Any]:
    """One replicatedJob with a Job and pod template; every fifth depends on its predecessor."""
    container = {
        "name": "main", "image": "registry.example/trainer:v1",
        "env": [{"name": f"VAR_{i}", "value": str(i)} for i in range(5)],
        "resources": {"requests": {"cpu": "1", "memory": "2Gi"}, "limits": {"cpu": "2"}},
    }
    rj: dict[str, Any] = {
        "name": f"workers-{index}", "replicas": 2,
        "template": {"spec": {
            "parallelism": 4, "completions": 4, "backoffLimit": 0,
            "template": {"spec": {
                "containers": [container], "restartPolicy": "Never",
                "tolerations": [{"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}],
            }},
        }},
    }
    if index % 5 == 4:
        rj["dependsOn"] = [{"name": f"workers-{index - 1}", "status": "Ready"}]
    return rj


def documents() -> str:
    """The JSON of (self, oldSelf, job), shaped like the research benchmark's objects."""
    jobset = {
        "apiVersion": "jobset.x-k8s.io/v1alpha2", "kind": "JobSet",
        "metadata": {"name": "bench", "namespace": "default"},
        "spec": {
            "replicatedJobs": [replicated_job(i) for i in range(16)],
            "failurePolicy": {"maxRestarts": 3, "rules": [
                {"name": f"rule{i}", "action": "RestartJobSet"} for i in range(4)]},
            "network": {"enableDNSHostnames": True, "subdomain": "bench"},
            "startupPolicy": {"startupPolicyOrder": "AnyOrder"},
            "coordinator": {"replicatedJob": "workers-0", "jobIndex": 0, "podIndex": 0},
        },
    }
    job = {"status": {"conditions": [
        {"type": t, "status": "True" if i % 2 else "False", "reason": "BackoffLimitExceeded"}
        for i, t in enumerate(["Suspended", "FailureTarget", "Failed", "Complete", "Ready"])]}}
    return json.dumps({"self": jobset, "oldSelf": jobset, "job": job})


def percentiles(samples: list[float]) -> tuple[float, float]:
    """(p50, p99) in milliseconds."""
    ordered = sorted(samples)
    return statistics.median(ordered) * 1e3, ordered[int(len(ordered) * 0.99) - 1] * 1e3


def per_request(name: str, payload: str) -> list[float]:
    """Latency of each request: decode, one activation, evaluate all twelve rules."""
    env = backends.get_backend(name).environment(VARIABLES)
    programs = [env.compile(rule) for rule in RULES]
    samples = []
    for _ in range(REQUESTS[name]):
        start = time.perf_counter()
        activation = env.activation(json.loads(payload))
        for program in programs:
            program.evaluate(activation)
        samples.append(time.perf_counter() - start)
    return samples


def per_call(action: Callable[[], object], count: int = 5000, rounds: int = 5) -> float:
    """Microseconds per call of `action`: the best of `rounds` timed batches (less noise)."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(count):
            action()
        best = min(best, time.perf_counter() - start)
    return best / count * 1e6


def micro_costs() -> None:
    """celexpr: one Python function call against a native list of the same shape, and one
    activation. Twenty calls per evaluation spread the per-evaluation overhead thin."""
    calls = 20
    env = backends.get_backend("celexpr").environment(VARIABLES)
    activation = env.activation({"self": {"n": 1}, "oldSelf": None, "job": None})
    python_fn = env.compile("size([" + ", ".join(["range(self.n)"] * calls) + "])")
    native_fn = env.compile("size([" + ", ".join(["[self.n - 1]"] * calls) + "])")
    assert python_fn.evaluate(activation) == native_fn.evaluate(activation)
    python_cost = per_call(lambda: python_fn.evaluate(activation))
    native_cost = per_call(lambda: native_fn.evaluate(activation))
    payload = documents()
    data = json.loads(payload)
    activation_cost = per_call(lambda: env.activation(data))
    print(f"celexpr  Python-implemented function call: {(python_cost - native_cost) / calls:.2f} us"
          f" (range(self.n) against the native [self.n - 1], {calls} per evaluation)")
    print(f"celexpr  activation for a {len(payload) // 1024} KB request: "
          f"{activation_cost:.2f} us (lazy: data is converted when a rule first reads it)")


def main() -> None:
    """Print per-request figures for every backend and the celpy/celexpr ratio."""
    payload = documents()
    print(f"12 rules, 16 replicatedJobs, {len(payload) // 1024} KB of JSON per request")
    p50s = {}
    for name in backends.available_backends():
        p50, p99 = percentiles(per_request(name, payload))
        p50s[name] = p50
        print(f"{name:8} p50 {p50:8.3f} ms   p99 {p99:8.3f} ms   ({REQUESTS[name]} requests)")
    print(f"ratio celpy/celexpr (p50): {p50s['celpy'] / p50s['celexpr']:.1f}x")
    micro_costs()


if __name__ == "__main__":
    main()
