"""upstream-examples/depends-on, startup-policy and volume-claim-policy: replicated jobs start in
the order the manifest asks, and the PVCs are made as the policies say (spec §9.8, §10.11, §10.12)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import exampleharness as runs
import upstreamharness as harness
from engine.kube import resources
from exampleharness import LABEL, condition


def _named(prefix: str) -> Callable[[dict[str, Any]], bool]:
    return lambda job: job["metadata"]["name"].startswith(prefix)


def _all_done(run: runs.Run, prefix: str, kind: str = "Complete") -> int:
    """The resourceVersion at which the last Job named `prefix`* reached `kind`."""
    names = {e.obj["metadata"]["name"] for e in run.history("Job") if _named(prefix)(e.obj)}
    return max(run.first("Job", lambda job, n=n: job["metadata"]["name"] == n and runs.job_finished(job, kind))
               for n in names)


def _ready(job: dict[str, Any]) -> bool:
    status = job.get("status") or {}
    return status.get("ready", 0) + status.get("succeeded", 0) >= (job["spec"].get("parallelism") or 1)


def _completed(run: runs.Run) -> dict[str, Any]:
    jobset = run.finished(timeout=60)
    assert jobset["status"]["terminalState"] == "Completed", jobset["status"]
    return jobset


def test_depends_on_launcher_after_initializer_complete_worker_after_launcher_ready(upstream: harness.Upstream) -> None:
    """§10.11: launcher created after the initializer completed; worker after the launcher was ready."""
    run = upstream("depends-on/depends-on.yaml", "depends-on")
    _completed(run)
    assert [name for name, _ in run.jobs_created()] == [
        "depends-on-initializer-0", "depends-on-launcher-0", "depends-on-worker-0"]
    assert _all_done(run, "depends-on-initializer-") < run.first("Job", _named("depends-on-launcher-"))
    launcher_ready = run.first("Job", lambda job: _named("depends-on-launcher-")(job) and _ready(job))
    assert launcher_ready < run.first("Job", _named("depends-on-worker-"))


def test_multiple_depends_on_waits_for_both_initializers(upstream: harness.Upstream) -> None:
    """§10.11: the worker Job is created only after both initializers completed."""
    run = upstream("depends-on/multiple-depends-on.yaml", "multiple-depends-on")
    _completed(run)
    created = [name for name, _ in run.jobs_created()]
    assert sorted(created[:2]) == ["multiple-depends-on-dataset-initializer-0",
                                   "multiple-depends-on-model-initializer-0"]
    assert created[2:] == ["multiple-depends-on-worker-0"]
    both = max(_all_done(run, "multiple-depends-on-dataset-initializer-"),
               _all_done(run, "multiple-depends-on-model-initializer-"))
    assert both < run.first("Job", _named("multiple-depends-on-worker-"))


def test_startup_policy_in_order_starts_workers_after_the_driver_is_ready(upstream: harness.Upstream) -> None:
    """§10.12: workers created once the driver Job is ready; StartupPolicyCompleted; Completed after 1000 s."""
    run = upstream("startup-policy/startup-driver-ready.yaml")
    run.wait_for(lambda js: (condition(js, "StartupPolicyCompleted") or {}).get("status") == "True",
                 what="StartupPolicyCompleted")
    assert [name for name, _ in run.jobs_created()] == ["startup-driver-ready-driver-0",
                                                       "startup-driver-ready-workers-0"]
    driver_ready = run.first("Job", lambda job: _named("startup-driver-ready-driver-")(job) and _ready(job))
    assert driver_ready < run.first("Job", _named("startup-driver-ready-workers-"))
    jobset = _completed(run)
    assert condition(jobset, "StartupPolicyCompleted")["reason"] == "InOrderStartupPolicyCompleted"


def test_single_pvc_makes_one_claim_per_template_and_keeps_the_retained_one(upstream: harness.Upstream) -> None:
    """§9.8: initializer-<js> owned by the JobSet (Delete), checkpoints-<js> not (Retain); mounts per Job."""
    run = upstream("volume-claim-policy/single-pvc.yaml", "single-pvc")
    _completed(run)
    claims = run.objects(resources.PERSISTENT_VOLUME_CLAIMS)
    owned = claims["initializer-volume-claim-trainjob"]["metadata"].get("ownerReferences") or []
    assert [(ref["kind"], ref["name"]) for ref in owned] == [("JobSet", "volume-claim-trainjob")]
    assert not claims["checkpoints-volume-claim-trainjob"]["metadata"].get("ownerReferences")
    assert claims["checkpoints-volume-claim-trainjob"]["metadata"]["labels"] == {
        LABEL + "jobset-name": "volume-claim-trainjob"}
    volumes = {e.obj["metadata"]["name"]: [v["persistentVolumeClaim"]["claimName"]
                                           for v in e.obj["spec"]["template"]["spec"].get("volumes") or []]
               for e in run.history("Job") if e.type == "ADDED"}
    assert volumes == {"volume-claim-trainjob-initializer-0": ["initializer-volume-claim-trainjob"],
                       "volume-claim-trainjob-node-0": ["initializer-volume-claim-trainjob",
                                                        "checkpoints-volume-claim-trainjob"]}
    run.cluster.call(run.api.delete(resources.JOBSETS, "volume-claim-trainjob", namespace=run.namespace))
    runs.eventually(lambda: "initializer-volume-claim-trainjob" not in run.objects(resources.PERSISTENT_VOLUME_CLAIMS),
                    what="the Delete claim collected")
    assert "checkpoints-volume-claim-trainjob" in run.objects(resources.PERSISTENT_VOLUME_CLAIMS)
