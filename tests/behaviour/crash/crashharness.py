"""The crash test's harness: a snapshot of the source tree, `jobset controller` processes started from
it, the cluster reads the test asserts on, and waits that fail at once when the controller died.

Why a snapshot: each fresh controller process imports `engine/` and loads `rules/` again, and the
working tree is edited while tests run; a process started on a half-written module or pack exits
(or fails every reconcile) and the test used to wait 120 s for Jobs nobody would create
(docs/crash-safety.md, "The crash test's stall"). Every controller of one test runs the tree as it
was when the test started, and a controller that exits is reported with its log at once.
Called by: `test_kill_during_restart.py`. Imports `engine.localcluster` (the API server runs in the
test process) and nothing controller-side.
"""

from __future__ import annotations

import pathlib
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import yaml

from engine.localcluster import server as localserver

ROOT = pathlib.Path(__file__).resolve().parents[3]
SOURCES = ("engine", "rules", "schemas")  # what `jobset controller` reads of the repository
NAME = "crashy"
ATTEMPT = "jobset.sigs.k8s.io/restart-attempt"
LOG_LINES = 12


def snapshot(target: pathlib.Path) -> pathlib.Path:
    """Copy the controller's sources (code, built-in packs, schemas) to `target`; returns it."""
    for name in SOURCES:
        shutil.copytree(ROOT / name, target / name, ignore=shutil.ignore_patterns("__pycache__"))
    return target


class Controller:
    """One `jobset controller` process run from a snapshot, its stderr appended to `workdir/controller.log`."""

    def __init__(self, source: pathlib.Path, kubeconfig: pathlib.Path, workdir: pathlib.Path) -> None:
        self.source = source
        self.kubeconfig = kubeconfig
        self.log = workdir / "controller.log"
        self.config = workdir / "config.yaml"
        self.config.write_text(yaml.safe_dump({
            "apiVersion": "config.jobset.x-k8s.io/v1alpha1", "kind": "Configuration",
            "leaderElection": {"leaderElect": False}, "health": {"healthProbeBindAddress": "0"},
            "metrics": {"bindAddress": "0"}, "webhook": {"port": 0, "certDir": str(workdir / "certs")}}))
        self.started = 0
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start a fresh process (cwd is the snapshot, so `-m engine.cli.main` imports the snapshot)."""
        self.started += 1
        with self.log.open("a") as log:
            log.write(f"--- controller process {self.started} ---\n")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "engine.cli.main", "controller", "--kubeconfig", str(self.kubeconfig),
             "--config", str(self.config), "--zap-log-level", "info"],
            cwd=self.source, stdout=subprocess.DEVNULL, stderr=self.log.open("ab"))

    def kill(self) -> None:
        """SIGKILL the process and reap it."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()

    def exited(self) -> int | None:
        """The exit code if the current process ended by itself, else None."""
        return None if self.process is None else self.process.poll()

    def tail(self) -> str:
        """The last lines the current process logged."""
        text = self.log.read_text(errors="replace")
        own = text.rsplit(f"--- controller process {self.started} ---\n", 1)[-1]
        return "\n".join(own.splitlines()[-LOG_LINES:])


def jobs(server: localserver.RunningServer) -> list[dict[str, Any]]:
    """The Jobs of namespace default."""
    return server.call(server.api.list("batch/v1/jobs", "default"))


def jobset(server: localserver.RunningServer) -> dict[str, Any]:
    """The JobSet under test."""
    return server.call(server.api.get("jobset.x-k8s.io/v1alpha2/jobsets", "default", NAME))


def fail(server: localserver.RunningServer, job: dict[str, Any]) -> None:
    """Mark `job` Failed through its status, as the Job controller would."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    status = {"startTime": stamp, "failed": 1, "conditions": [
        {"type": kind, "status": "True", "reason": "BackoffLimitExceeded", "message": "m", "lastTransitionTime": stamp}
        for kind in ("FailureTarget", "Failed")]}
    server.call(server.api.patch("batch/v1/jobs", "default", job["metadata"]["name"], {"status": status},
                                 patch_type="application/merge-patch+json", subresource="status"))


def converged(server: localserver.RunningServer, restarts: int, replicas: int) -> bool:
    """One live Job per index, all of attempt `restarts`, and status.restarts == `restarts`."""
    if (jobset(server).get("status") or {}).get("restarts") != restarts:
        return False
    found = jobs(server)
    names = [job["metadata"]["name"] for job in found]
    attempts = {job["metadata"]["labels"][ATTEMPT] for job in found}
    return (sorted(names) == sorted(f"{NAME}-w-{i}" for i in range(replicas)) and attempts == {str(restarts)}
            and not any(job["metadata"].get("deletionTimestamp") for job in found))


def describe(server: localserver.RunningServer) -> str:
    """What the cluster looks like, for a failure message."""
    found = jobs(server)
    attempts: dict[str, int] = {}
    for job in found:
        attempt = job["metadata"]["labels"][ATTEMPT]
        attempts[attempt] = attempts.get(attempt, 0) + 1
    deleting = sum(bool(job["metadata"].get("deletionTimestamp")) for job in found)
    failed = sum(any(c["type"] == "Failed" for c in (job.get("status") or {}).get("conditions") or [])
                 for job in found)
    try:
        status = jobset(server).get("status") or {}
    except Exception as error:  # noqa: BLE001 - a failure message must not fail itself
        status = {"restarts": f"unknown ({error})"}
    conditions = [(c["type"], c["status"]) for c in status.get("conditions", [])]
    return (f"{len(found)} jobs by attempt {attempts}, {deleting} deleting, {failed} failed; "
            f"restarts {status.get('restarts')}, conditions {conditions}")


def wait(predicate: Callable[[], bool], timeout: float, what: str, server: localserver.RunningServer,
         controller: Controller) -> None:
    """Poll `predicate`; fail at once if the controller process ended, else after `timeout` seconds,
    with the cluster's state and the controller's last log lines."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        code = controller.exited()
        if code is not None:
            raise AssertionError(f"the controller exited with code {code} while waiting for {what}: "
                                 f"{describe(server)}\n{controller.tail()}")
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}: {describe(server)}\n"
                         f"controller log:\n{controller.tail()}")
