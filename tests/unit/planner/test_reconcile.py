"""Folding step outcomes into one Plan (spec §8, §10.6) and pack failures as pass errors."""

from __future__ import annotations

import datetime
import pathlib

from engine.planner import observed, packs, plan, reconcile

NOW = datetime.datetime(2026, 3, 1, tzinfo=datetime.timezone.utc)
BUILTIN, PROBLEMS = packs.load()


def jobset(**spec: object) -> dict:
    return {"apiVersion": "jobset.x-k8s.io/v1alpha2", "kind": "JobSet",
            "metadata": {"name": "js", "namespace": "ns", "uid": "u"},
            "spec": {"replicatedJobs": [{"name": "w", "replicas": 1, "template": {"spec": {}}}], **spec},
            "status": {"restarts": 1}}


def job(name: str, attempt: str, *conditions: dict) -> dict:
    return {"metadata": {"name": name, "labels": {"jobset.sigs.k8s.io/restart-attempt": attempt,
                                                   "jobset.sigs.k8s.io/replicatedjob-name": "w",
                                                   "jobset.sigs.k8s.io/job-index": "0"},
                         "ownerReferences": [{"kind": "JobSet", "uid": "u", "controller": True}]},
            "status": {"conditions": list(conditions)}}


FAILED = {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded", "message": "",
          "lastTransitionTime": "2026-03-01T00:00:00Z"}


def test_builtin_packs_load_without_problems() -> None:
    assert PROBLEMS == []


def test_status_is_written_once_after_every_other_action_and_before_events_section_10_6() -> None:
    snapshot = observed.Observed(jobset=jobset(failurePolicy={"maxRestarts": 3}), now=NOW,
                                 jobs=[job("js-w-0-old", "0"), job("js-w-0", "1", FAILED)])
    result = reconcile.plan_pass(snapshot, BUILTIN)
    kinds = [type(a).__name__ for a in result.actions]
    assert kinds == ["DeleteJob", "WriteStatus", "Emit", "Emit", "Record"]
    assert result.of_type(plan.Record) == [plan.Record("restart", "jobset-failure@1.0.0/restart-jobset")]
    assert result.status["restarts"] == 2 and result.error is None


def test_an_error_keeps_earlier_actions_but_drops_status_and_events_section_8() -> None:
    snapshot = observed.Observed(
        jobset=jobset(failurePolicy={"maxRestarts": 3, "rules": [{"name": "r", "action": "RestartJob"}]}),
        now=NOW, jobs=[job("js-w-0-old", "0"), job("js-w-0", "1", FAILED)])
    result = reconcile.plan_pass(snapshot, BUILTIN)
    assert [type(a) for a in result.actions] == [plan.DeleteJob]
    assert result.error == "failure policy action RestartJob requires the RestartJob feature gate"


def test_a_pack_runtime_error_fails_the_pass_naming_the_rule(tmp_path: pathlib.Path) -> None:
    operator = tmp_path / "jobset-success"
    operator.mkdir()
    (operator / "pack.yaml").write_text("""\
apiVersion: rules.jobset.x-k8s.io/v1alpha1
kind: RulePack
metadata: {name: jobset-success, version: 9.0.0}
spec:
  engine: ">=1.0.0"
  phase: success
  subject: jobset
  inputs: [{name: jobset, required: true}, {name: successfulJobs}]
  actions: [{type: CompleteJobSet, params: [reason, message]}]
  rules:
    - name: broken
      when: "successfulJobs[7].name == 'x'"
      action: {type: CompleteJobSet, params: {reason: "'R'", message: "'m'"}}
""")
    custom, problems = packs.load([tmp_path])
    assert problems == []
    complete = dict(FAILED, type="Complete")
    snapshot = observed.Observed(jobset=jobset(), now=NOW, jobs=[job("js-w-0", "1", complete)])
    result = reconcile.plan_pass(snapshot, custom)
    assert result.error is not None and "jobset-success@9.0.0/broken" in result.error
    assert result.status is None
