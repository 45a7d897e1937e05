"""The in-place restart agent's loop: follow its own JobSet, act on each decision (spec §11.2).

Owns: `Lift` (what lifting the barrier starts: a coroutine function whose result is the code
the agent then exits with), `run(settings, client, lift) -> exit code`. The JobSet is listed
and watched with a field selector on its name, in the Pod's namespace only; the Pod's
attempt annotation is written by server-side apply (field manager `in-place-restart-agent`,
forced). A failed write is retried on a back-off; a missing JobSet leaves the agent waiting.
Called by: `engine.agent.process` (a real Pod), `engine.agent.simulated` (a simulated one).
Must not import: `engine.assembly`, `engine.up`, `engine.cli`, `engine.localcluster`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from engine.agent import decision as decisions
from engine.agent import settings as settings_
from engine.kube import client as client_
from engine.kube import errors, resources
from engine.model import keys

FIELD_MANAGER = "in-place-restart-agent"
Lift = Callable[[], Awaitable[int]]
_log = logging.getLogger("jobset.in-place-restart-agent")
_RETRY = (0.2, 5.0)  # first and longest delay between retries of a failed write or watch


async def run(settings: settings_.Settings, client: client_.Client, lift: Lift) -> int:
    """Run the agent until it exits; returns its exit code (cancel the task to kill it)."""
    return await _Agent(settings, client, lift).run()


class _Agent:
    def __init__(self, settings: settings_.Settings, client: client_.Client, lift: Lift) -> None:
        self.settings = settings
        self.client = client
        self.lift = lift
        self.state = decisions.State()
        self.jobset: dict[str, Any] | None = None
        self.changed = asyncio.Event()
        self.outcome: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.workload: asyncio.Future[int] | None = None

    async def run(self) -> int:
        tasks = [asyncio.create_task(self._follow()), asyncio.create_task(self._reconcile())]
        try:
            await asyncio.wait([self.outcome, *tasks], return_when=asyncio.FIRST_COMPLETED)
            if self.outcome.done():
                return self.outcome.result()
            failed = next(task for task in tasks if task.done())
            _log.error("the agent stopped on an internal error", exc_info=failed.exception())
            return 1
        finally:
            pending: list[asyncio.Future[Any]] = [*tasks, *([self.workload] if self.workload else [])]
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    def _finish(self, code: int) -> None:
        if not self.outcome.done():
            self.outcome.set_result(code)

    async def _reconcile(self) -> None:
        delay = _RETRY[0]
        while True:
            await self.changed.wait()
            self.changed.clear()
            if self.jobset is None:
                continue
            decided = decisions.decide(self.state, self.jobset)
            if decided.annotate is not None:
                try:
                    await self._annotate(decided.annotate)
                except errors.APIError as error:
                    _log.warning("cannot write the Pod's in-place restart attempt: %s; retrying in %gs", error, delay)
                    await asyncio.sleep(delay)
                    delay = min(_RETRY[1], delay * 2)
                    self.changed.set()
                    continue
            delay = _RETRY[0]
            self.state = decided.applied(self.state)
            if decided.exit:
                _log.info("attempt %s is outdated: exiting %d to restart in place", self.state.mine,
                          self.settings.restart_exit_code)
                self._finish(self.settings.restart_exit_code)
                return
            if decided.lift:
                _log.info("lifting the barrier%s", " (in-place restart bypassed)" if decided.bypass else "")
                self._start_workload()

    def _start_workload(self) -> None:
        self.workload = asyncio.ensure_future(self.lift())

        def ended(done: asyncio.Future[int]) -> None:
            if done.cancelled():
                return
            failure = done.exception()
            if failure is not None:
                _log.error("the workload failed: %s", failure)
            self._finish(1 if failure is not None else done.result())
        self.workload.add_done_callback(ended)

    async def _annotate(self, attempt: int) -> None:
        body = {"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": self.settings.pod, "namespace": self.settings.namespace,
                             "annotations": {keys.IN_PLACE_RESTART_ATTEMPT: str(attempt)}}}
        await self.client.patch(resources.PODS, self.settings.pod, body, namespace=self.settings.namespace,
                                patch_type=client_.PatchType.APPLY, field_manager=FIELD_MANAGER, force=True)
        _log.info("pod %s: in-place restart attempt %d", self.settings.pod, attempt)

    async def _follow(self) -> None:
        """List, then watch, the one JobSet; re-list after a dropped or expired watch."""
        selector = f"metadata.name={self.settings.jobset}"
        delay = _RETRY[0]
        while True:
            try:
                listed = await self.client.list(resources.JOBSETS, namespace=self.settings.namespace,
                                                field_selector=selector)
                self._observe(next(iter(listed["items"]), None))
                version = listed["metadata"].get("resourceVersion")
                async for kind, obj in self.client.watch(resources.JOBSETS, namespace=self.settings.namespace,
                                                         field_selector=selector, resource_version=version):
                    if kind != "BOOKMARK":
                        self._observe(None if kind == "DELETED" else obj)
                delay = _RETRY[0]
            except errors.Gone:
                continue
            except errors.APIError as error:
                _log.warning("watching JobSet %s: %s; retrying in %gs", self.settings.jobset, error, delay)
                await asyncio.sleep(delay)
                delay = min(_RETRY[1], delay * 2)

    def _observe(self, jobset: dict[str, Any] | None) -> None:
        self.jobset = jobset
        self.changed.set()
