"""What lifting the barrier starts in a real Pod (spec §11.2).

Owns: `shell_worker(command)` (main-container mode: `$SHELL -c COMMAND`, else `bash`; the
agent exits with the worker's code, 128 + n when a signal ended it, 1 when no shell is found)
and `probe_server(path, port)` (sidecar mode: an HTTP server answering 200 on `path`; the
agent exits 1 if it cannot serve). Cancelling either stops the worker or the server.
Called by: `engine.agent.process`.
Must not import: anything in `engine` outside `engine.agent`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil

from aiohttp import web

from engine.agent import runner

_log = logging.getLogger("jobset.in-place-restart-agent")


def shell_worker(command: str) -> runner.Lift:
    """Run `command` with the user's shell; the result is the worker's exit code."""
    async def lift() -> int:
        shell = os.environ.get("SHELL") or shutil.which("bash")
        if not shell:
            _log.error("no shell found to run WORKER_COMMAND ($SHELL is unset and bash is not on PATH)")
            return 1
        try:
            process = await asyncio.create_subprocess_exec(shell, "-c", command)
        except OSError as error:
            _log.error("cannot start the worker with %s: %s", shell, error)
            return 1
        try:
            code = await process.wait()
        except asyncio.CancelledError:
            if process.returncode is None:
                process.kill()
                await process.wait()
            raise
        return 128 - code if code < 0 else code
    return lift


def probe_server(path: str, port: int) -> runner.Lift:
    """Serve 200 on `path` at `port` until cancelled; 1 if the server cannot start."""
    async def lift() -> int:
        async def barrier_down(_: web.Request) -> web.Response:
            return web.Response(text="barrier is down\n")
        app = web.Application()
        app.router.add_get(path, barrier_down)
        app_runner = web.AppRunner(app, access_log=None)
        await app_runner.setup()
        try:
            await web.TCPSite(app_runner, port=port).start()
        except OSError as error:
            _log.error("startup probe server on :%d failed: %s", port, error)
            await app_runner.cleanup()
            return 1
        _log.info("startup probe answers on :%d%s", port, path)
        try:
            return await asyncio.get_running_loop().create_future()  # serves until cancelled
        finally:
            await app_runner.cleanup()
    return lift
