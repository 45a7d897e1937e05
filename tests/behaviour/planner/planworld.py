"""A step-driven harness for planner behaviour tests: a JobSet, its Jobs, and passes.

`World.run()` plans one pass with the real packs and applies the plan to the in-memory
objects the way the executor would (creates, foreground deletes, updates, status write),
so a test reads like the spec: given these Job states, this pass decides that.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
from typing import Any


from engine.planner import observed, packs, plan, reconcile

T0 = datetime.datetime(2026, 3, 1, 12, 0, 0, tzinfo=datetime.timezone.utc)
_PACKS, PROBLEMS = packs.load()


def make_jobset(*replicated: tuple[str, int], **spec: Any) -> dict[str, Any]:
    """A defaulted JobSet `js` in namespace `ns` with the given (name, replicas) replicated jobs."""
    template = {"spec": {"parallelism": 1, "completions": 1, "completionMode": "Indexed",
                         "template": {"spec": {"restartPolicy": "Never",
                                               "containers": [{"name": "c", "image": "busybox"}]}}}}
    return {
        "apiVersion": "jobset.x-k8s.io/v1alpha2", "kind": "JobSet",
        "metadata": {"name": "js", "namespace": "ns", "uid": "uid-js"},
        "spec": {"replicatedJobs": [{"name": n, "replicas": r, "groupName": "default",
                                     "template": copy.deepcopy(template)} for n, r in replicated],
                 "network": {"enableDNSHostnames": True, "publishNotReadyAddresses": True},
                 "successPolicy": {"operator": "All"},
                 "startupPolicy": {"startupPolicyOrder": "AnyOrder"}, **spec},
    }


@dataclasses.dataclass
class World:
    """The objects one JobSet pass sees, plus virtual time."""

    jobset: dict[str, Any]
    now: datetime.datetime = T0
    jobs: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    service: dict[str, Any] | None = None
    pods: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    gates: dict[str, bool] = dataclasses.field(default_factory=dict)
    keep_deleted: bool = False
    history: list[plan.Plan] = dataclasses.field(default_factory=list)

    def observe(self) -> observed.Observed:
        """The snapshot of the current objects."""
        return observed.Observed(jobset=copy.deepcopy(self.jobset), now=self.now,
                                 jobs=[copy.deepcopy(j) for j in self.jobs.values()],
                                 service=self.service, pods=list(self.pods), feature_gates=dict(self.gates))

    def plan(self) -> plan.Plan:
        """Plan one pass without applying it."""
        return reconcile.plan_pass(self.observe(), _PACKS)

    def run(self) -> plan.Plan:
        """Plan one pass and apply it like the executor."""
        result = self.plan()
        self.history.append(result)
        for action in result.actions:
            self._apply(action)
        return result

    def _apply(self, action: plan.Action) -> None:
        match action:
            case plan.CreateJob(job=job):
                self.jobs[job["metadata"]["name"]] = copy.deepcopy(job)
            case plan.DeleteJob(name=name):
                if self.keep_deleted:
                    self.jobs[name]["metadata"]["deletionTimestamp"] = observed.format_time(self.now)
                else:
                    self.jobs.pop(name, None)
            case plan.UpdateJob(name=name, job=job, reset_start_time=reset):
                self.jobs[name] = copy.deepcopy(job)
                if reset:
                    self.jobs[name].setdefault("status", {}).pop("startTime", None)
            case plan.CreateService(service=service):
                self.service = service
            case plan.WriteStatus(status=status):
                self.jobset["status"] = copy.deepcopy(status)
            case plan.DeleteJobSet():
                self.jobset["metadata"]["deletionTimestamp"] = observed.format_time(self.now)

    def settle(self, passes: int = 5) -> plan.Plan:
        """Run passes until one changes nothing (or `passes` ran); returns the last plan."""
        result = self.run()
        for _ in range(passes - 1):
            if not result.actions:
                break
            result = self.run()
        return result

    def gc(self) -> None:
        """The garbage collector finishes foreground deletions."""
        self.jobs = {n: j for n, j in self.jobs.items() if not j["metadata"].get("deletionTimestamp")}

    def tick(self, seconds: float) -> None:
        """Advance virtual time."""
        self.now += datetime.timedelta(seconds=seconds)

    def finish(self, name: str, kind: str, reason: str = "BackoffLimitExceeded", message: str = "",
               after: float = 0) -> None:
        """Mark Job `name` Complete or Failed, `after` seconds past now."""
        at = observed.format_time(self.now + datetime.timedelta(seconds=after))
        condition = {"type": kind, "status": "True", "reason": reason, "message": message,
                     "lastTransitionTime": at}
        self.jobs[name].setdefault("status", {}).setdefault("conditions", []).append(condition)

    def ready(self, *names: str) -> None:
        """Jobs become ready (every pod ready) and active."""
        for name in names or tuple(self.jobs):
            self.jobs[name].setdefault("status", {}).update(ready=1, active=1)

    def condition(self, kind: str) -> dict[str, Any] | None:
        """The JobSet's condition of that type."""
        for condition in (self.jobset.get("status") or {}).get("conditions") or []:
            if condition["type"] == kind:
                return condition
        return None

    def rj_status(self, name: str) -> dict[str, Any]:
        """The replicatedJobsStatus entry of `name`."""
        return next(e for e in self.jobset["status"]["replicatedJobsStatus"] if e["name"] == name)


def events(result: plan.Plan) -> list[tuple[str, str, str]]:
    """(type, reason, message) of the events a plan emits."""
    return [(e.type, e.reason, e.message) for e in result.of_type(plan.Emit)]


def job_names(result: plan.Plan, kind: type) -> list[str]:
    """Names of the Jobs a plan creates, deletes or updates."""
    actions = result.of_type(kind)
    return [a.job["metadata"]["name"] if isinstance(a, plan.CreateJob) else a.name for a in actions]
