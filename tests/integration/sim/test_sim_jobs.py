"""The simulated Job controller on the embedded API server (embedded-apiserver.md §4):
conditions, reasons, messages, counters, pod naming and events for each Job behaviour."""

from __future__ import annotations

from typing import Any

from engine.localcluster.sim import jobpods, podstate, scenario

from simharness import Harness, conditions

P = scenario.PREFIX
COMPLETE = [("SuccessCriteriaMet", "True", "CompletionsReached",
             "Reached expected number of succeeded pods"),
            ("Complete", "True", "CompletionsReached", "Reached expected number of succeeded pods")]


def test_indexed_job_completes_with_named_pods_counters_and_events(harness: Harness) -> None:
    async def body(h: Harness) -> None:
        await h.start()
        await h.create_job("idx", completionMode="Indexed", completions=3, parallelism=3,
                           pod={"containers": [{"name": "main", "image": "busybox",
                                                "command": ["sh", "-c", "sleep 20"]}]})
        job = await h.finished("idx")
        assert conditions(job) == COMPLETE
        status = job["status"]
        assert (status["succeeded"], status["failed"], status["active"], status["ready"]) == \
            (3, 0, 0, 0)
        assert status["completedIndexes"] == "0-2" and status["terminating"] == 0
        assert status["uncountedTerminatedPods"] == {}
        started = podstate.parse_time(status["startTime"])
        ended = podstate.parse_time(status["completionTime"])
        assert started and ended and (ended - started).total_seconds() >= 20
        pods = await h.pods("idx")
        by_index = {podstate.completion_index(p): p for p in pods}
        assert sorted(by_index) == [0, 1, 2]
        for index, pod in by_index.items():
            assert pod["metadata"]["name"].startswith(f"idx-{index}-")
            assert len(pod["metadata"]["name"]) == len(f"idx-{index}-") + 5
            assert pod["spec"]["hostname"] == f"idx-{index}"
            assert pod["metadata"].get("finalizers") in (None, [])
            assert pod["status"]["phase"] == "Succeeded"
        events = await h.events("idx")
        created = sorted(m for _, r, m in events if r == "SuccessfulCreate")
        assert created == sorted(f"Created pod: {p['metadata']['name']}" for p in pods)
        assert ("Normal", "Completed", "Job completed") in events
    harness.run(body)


def test_nonindexed_parallelism_and_pod_names(harness: Harness) -> None:
    async def body(h: Harness) -> None:
        await h.start()
        await h.create_job("plain", completions=4, parallelism=2,
                           annotations={P + "duration": "10s"})

        async def two_running() -> bool:
            job = await h.job("plain")
            return job.get("status", {}).get("ready") == 2
        await h.until(two_running)
        assert len(await h.pods("plain")) == 2
        job = await h.finished("plain")
        assert conditions(job) == COMPLETE and job["status"]["succeeded"] == 4
        names = [p["metadata"]["name"] for p in await h.pods("plain")]
        assert len(names) == 4 and all(n.startswith("plain-") and len(n) == 11 for n in names)
    harness.run(body)


def test_backoff_limit_exceeded_after_retries(harness: Harness) -> None:
    async def body(h: Harness) -> None:
        await h.start(backoff_base=2)
        await h.create_job("flaky", backoffLimit=2, annotations={P + "exit-code": "1"})
        job = await h.finished("flaky")
        message = "Job has reached the specified backoff limit"
        assert conditions(job) == [("FailureTarget", "True", "BackoffLimitExceeded", message),
                                   ("Failed", "True", "BackoffLimitExceeded", message)]
        assert job["status"]["failed"] == 3 and job["status"]["succeeded"] == 0
        assert "completionTime" not in job["status"]
        assert len(await h.pods("flaky")) == 3
        assert ("Warning", "BackoffLimitExceeded", message) in await h.events("flaky")
    harness.run(body)


def test_on_failure_restarts_count_toward_backoff_limit(harness: Harness) -> None:
    async def body(h: Harness) -> None:
        await h.start()
        await h.create_job("crashy", backoffLimit=2, pod={"restartPolicy": "OnFailure"},
                           annotations={P + "exit-code": "1", P + "duration": "3s"})

        async def restarted() -> bool:
            pods = await h.pods("crashy")
            statuses = pods[0].get("status", {}).get("containerStatuses") if pods else None
            return bool(statuses) and statuses[0]["restartCount"] == 1
        await h.until(restarted)
        job = await h.finished("crashy")
        assert conditions(job)[-1][:3] == ("Failed", "True", "BackoffLimitExceeded")
        assert job["status"]["failed"] == 1 and job["status"]["active"] == 0
        created = [r for _, r, _ in await h.events("crashy") if r == "SuccessfulCreate"]
        assert len(created) == 1
    harness.run(body)


def test_pod_failure_policy_fail_job_message(harness: Harness) -> None:
    async def body(h: Harness) -> None:
        await h.start()
        await h.create_job("pfp", completionMode="Indexed", completions=2, parallelism=2,
                           annotations={P + "exit-code-index-1": "42"},
                           podFailurePolicy={"rules": [
                               {"action": "Ignore",
                                "onPodConditions": [{"type": "DisruptionTarget"}]},
                               {"action": "FailJob",
                                "onExitCodes": {"containerName": "main", "operator": "In",
                                                "values": [42]}}]})
        job = await h.finished("pfp")
        failed = next(p for p in await h.pods("pfp") if podstate.completion_index(p) == 1)
        message = (f"Container main for pod default/{failed['metadata']['name']} failed with "
                   "exit code 42 matching FailJob rule at index 1")
        assert conditions(job)[0] == ("FailureTarget", "True", "PodFailurePolicy", message)
        assert conditions(job)[-1] == ("Failed", "True", "PodFailurePolicy", message)
        assert job["status"]["failed"] >= 1
    harness.run(body)


def test_pod_failure_policy_ignore_and_count(harness: Harness) -> None:
    async def body(h: Harness) -> None:
        await h.start(backoff_base=1)
        await h.create_job("ign", backoffLimit=0,
                           annotations={P + "exit-code-attempt-0": "3", P + "exit-code-attempt-1": "4"},
                           podFailurePolicy={"rules": [
                               {"action": "Ignore", "onExitCodes": {"operator": "In",
                                                                    "values": [3]}},
                               {"action": "Count", "onExitCodes": {"operator": "In",
                                                                   "values": [4]}}]})
        job = await h.finished("ign")
        assert conditions(job)[-1][:3] == ("Failed", "True", "BackoffLimitExceeded")
        assert job["status"]["failed"] == 1 and len(await h.pods("ign")) == 2
    harness.run(body)


def test_backoff_limit_per_index_and_failed_indexes(harness: Harness) -> None:
    async def body(h: Harness) -> None:
        await h.start(backoff_base=1)
        await h.create_job("perix", completionMode="Indexed", completions=3, parallelism=3,
                           backoffLimitPerIndex=1, annotations={P + "exit-code-index-0": "1"})
        job = await h.finished("perix")
        assert conditions(job) == [("FailureTarget", "True", "FailedIndexes", "Job has failed indexes"),
                                   ("Failed", "True", "FailedIndexes", "Job has failed indexes")]
        status = job["status"]
        assert (status["failedIndexes"], status["completedIndexes"]) == ("0", "1,2")
        assert status["failed"] == 2 and status["succeeded"] == 2
        zero = sorted((p for p in await h.pods("perix") if podstate.completion_index(p) == 0),
                      key=lambda p: p["metadata"]["creationTimestamp"])
        assert [p["metadata"]["annotations"][jobpods.FAILURE_COUNT] for p in zero] == ["0", "1"]
    harness.run(body)


def test_max_failed_indexes_exceeded(harness: Harness) -> None:
    async def body(h: Harness) -> None:
        await h.start()
        await h.create_job("maxfi", completionMode="Indexed", completions=4, parallelism=4,
                           backoffLimitPerIndex=0, maxFailedIndexes=1,
                           annotations={P + "exit-code-index-1": "1", P + "exit-code-index-2": "1",
                                        P + "duration": "5s", P + "duration-index-0": "1h",
                                        P + "duration-index-3": "1h"})
        job = await h.finished("maxfi")
        message = "Job has exceeded the specified maximal number of failed indexes"
        assert conditions(job)[-1] == ("Failed", "True", "MaxFailedIndexesExceeded", message)
        assert job["status"]["failedIndexes"] == "1,2" and job["status"]["active"] == 0
    harness.run(body)


def test_success_policy_terminates_lingering_pods(harness: Harness) -> None:
    async def body(h: Harness) -> None:
        await h.start()
        await h.create_job("leader", completionMode="Indexed", completions=3, parallelism=3,
                           successPolicy={"rules": [{"succeededIndexes": "0", "succeededCount": 1}]},
                           annotations={P + "duration": "1h", P + "duration-index-0": "5s"})
        job = await h.finished("leader")
        assert conditions(job) == [
            ("SuccessCriteriaMet", "True", "SuccessPolicy", "Matched rules at index 0"),
            ("Complete", "True", "SuccessPolicy", "Matched rules at index 0")]
        assert job["status"]["completedIndexes"] == "0" and job["status"]["failed"] == 0
        phases = sorted(p["status"]["phase"] for p in await h.pods("leader"))
        assert phases in (["Failed", "Failed", "Succeeded"], ["Succeeded"])
        deleted = [m for _, r, m in await h.events("leader") if r == "SuccessfulDelete"]
        assert len(deleted) == 2
    harness.run(body)


def test_suspend_then_resume(harness: Harness) -> None:
    async def body(h: Harness) -> None:
        await h.start()
        await h.create_job("sus", completions=2, parallelism=2, annotations={P + "duration": "1h"})

        async def running() -> bool:
            return (await h.job("sus")).get("status", {}).get("ready") == 2
        await h.until(running)
        first_start = (await h.job("sus"))["status"]["startTime"]
        await h.api.patch("batch/v1/jobs", "default", "sus", {"spec": {"suspend": True}},
                          patch_type="application/merge-patch+json")

        async def suspended() -> dict[str, Any] | None:
            job = await h.job("sus")
            idle = job["status"].get("active") == 0 and not await h.pods("sus")
            return job if idle and conditions(job) else None
        job = await h.until(suspended)
        assert conditions(job) == [("Suspended", "True", "JobSuspended", "Job suspended")]
        assert job["status"]["failed"] == 0 and job["status"]["succeeded"] == 0
        await h.until(lambda: _later(h, first_start))
        await h.api.patch("batch/v1/jobs", "default", "sus", {"spec": {"suspend": False}},
                          patch_type="application/merge-patch+json")

        async def resumed() -> dict[str, Any] | None:
            job = await h.job("sus")
            return job if job["status"].get("active") == 2 else None
        job = await h.until(resumed)
        assert conditions(job) == [("Suspended", "False", "JobResumed", "Job resumed")]
        assert job["status"]["startTime"] > first_start
        reasons = [r for _, r, _ in await h.events("sus")]
        assert "Suspended" in reasons and "Resumed" in reasons
    harness.run(body)


async def _later(h: Harness, stamp: str) -> bool:
    return podstate.stamp(h.clock.now()) > stamp


def test_created_suspended_has_no_start_time_until_resumed(harness: Harness) -> None:
    async def body(h: Harness) -> None:
        await h.start()
        await h.create_job("held", suspend=True)

        async def marked() -> dict[str, Any] | None:
            job = await h.job("held")
            return job if conditions(job) else None
        job = await h.until(marked)
        assert conditions(job) == [("Suspended", "True", "JobSuspended", "Job suspended")]
        assert "startTime" not in job["status"] and not await h.pods("held")
    harness.run(body)


def test_active_deadline_exceeded(harness: Harness) -> None:
    async def body(h: Harness) -> None:
        await h.start()
        await h.create_job("late", activeDeadlineSeconds=20, annotations={P + "duration": "1h"})
        job = await h.finished("late")
        message = "Job was active longer than specified deadline"
        assert conditions(job) == [("FailureTarget", "True", "DeadlineExceeded", message),
                                   ("Failed", "True", "DeadlineExceeded", message)]
        started = podstate.parse_time(job["status"]["startTime"])
        failed_at = podstate.parse_time(job["status"]["conditions"][0]["lastTransitionTime"])
        assert started and failed_at and 20 <= (failed_at - started).total_seconds() < 30
        assert job["status"]["active"] == 0 and job["status"]["terminating"] == 0
    harness.run(body)


def test_work_queue_job_completes_when_all_pods_end(harness: Harness) -> None:
    async def body(h: Harness) -> None:
        await h.start()
        await h.create_job("queue", parallelism=3,
                           annotations={P + "duration": "5s", P + "duration-attempt-1": "15s",
                                        P + "duration-attempt-2": "25s"})
        job = await h.finished("queue")
        assert conditions(job) == COMPLETE
        assert job["status"]["succeeded"] == 3 and len(await h.pods("queue")) == 3
    harness.run(body)


def test_deleted_jobs_leave_no_pods_behind(harness: Harness) -> None:
    """JobSet deletes Jobs in the foreground (restarts, TTL); the tracking finalizer must not
    keep their pods, nor those of a Job deleted in the background."""
    async def body(h: Harness) -> None:
        await h.start()
        for name in ("fg", "bg"):
            await h.create_job(name, completions=2, parallelism=2,
                               annotations={P + "duration": "1h"},
                               pod={"terminationGracePeriodSeconds": 3})

        async def running() -> bool:
            jobs = [await h.job(n) for n in ("fg", "bg")]
            return all(j.get("status", {}).get("ready") == 2 for j in jobs)
        await h.until(running)
        await h.api.delete("batch/v1/jobs", "default", "fg", propagation="Foreground")
        await h.api.delete("batch/v1/jobs", "default", "bg", propagation="Background")

        async def all_gone() -> bool:
            jobs = await h.api.list("batch/v1/jobs", "default")
            pods = await h.api.list("v1/pods", "default")
            return not jobs and not pods
        await h.until(all_gone)
    harness.run(body)


def test_jobs_managed_by_another_controller_are_left_alone(harness: Harness) -> None:
    async def body(h: Harness) -> None:
        await h.start()
        await h.create_job("foreign", managedBy="example.com/other")
        await h.create_job("ours")
        await h.finished("ours")
        assert not await h.pods("foreign")
        assert "conditions" not in (await h.job("foreign")).get("status", {})
    harness.run(body)


def test_scenario_file_drives_pods_by_name_prefix(harness: Harness, tmp_path: Any) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text("defaults: {duration: 2s}\n"
                    "rules:\n"
                    "  - match: {namePrefix: scripted-}\n"
                    "    behaviour: {exit-code: '7', exit-code-attempt-1: '0'}\n")

    async def body(h: Harness) -> None:
        await h.start(scenario=scenario.load(path), backoff_base=1)
        await h.create_job("scripted", backoffLimit=3)
        await h.create_job("plain")
        job = await h.finished("scripted")
        assert conditions(job) == COMPLETE
        assert (job["status"]["failed"], job["status"]["succeeded"]) == (1, 1)
        codes = sorted(p["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"]
                       for p in await h.pods("scripted"))
        assert codes == [0, 7]
        plain = await h.finished("plain")
        assert plain["status"]["failed"] == 0
    harness.run(body)


def test_a_bad_scenario_value_fails_the_pod_with_an_event(harness: Harness) -> None:
    async def body(h: Harness) -> None:
        await h.start()
        await h.create_job("typo", backoffLimit=0, annotations={P + "duration": "soon"})
        job = await h.finished("typo")
        assert conditions(job)[-1][:3] == ("Failed", "True", "BackoffLimitExceeded")
        pod = (await h.pods("typo"))[0]
        events = await h.events(pod["metadata"]["name"])
        assert ("Warning", "BadScenario",
                f"pod {pod['metadata']['name']}: {P}duration: 'soon' is not a duration "
                "(try 30s, 2m, 500ms)") in events
    harness.run(body)
