"""Running the embedded API server: in a background thread (tests) or as a process.

Owns: the aiohttp application, `start_in_thread` -> `RunningServer` (`.url`, `.api`, `.loop`,
`.faults`, `.tokens` and `.admin_token` (what TokenReviews authenticate; the admin token, of a
`system:masters` user, goes into the kubeconfigs it writes), `.call(coro)` to run a coroutine on
the server loop from another thread, `.write_kubeconfig(path)`, `.route_service(...)` for
webhook services, `.drop_watches()`, `.stop()`), and `main` behind
`python -m engine.localcluster --port --data-dir --kubeconfig`.
Called by: test fixtures, `engine.localcluster.up`, `__main__`.
Must not import: anything in `engine` outside `localcluster`.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import pathlib
import signal
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

import yaml
from aiohttp import web

from engine.localcluster import api as api_module, authn, clock as clocks, faults as faults_module, handlers, storage

T = TypeVar("T")


def build_app(handler: handlers.Handlers) -> web.Application:
    """The aiohttp application: every path goes to `handler.dispatch`."""
    app = web.Application(client_max_size=handlers.BODY_LIMIT * 2)
    app.router.add_route("*", "/{tail:.*}", handler.dispatch)
    return app


class RunningServer:
    """A server running on its own event loop in a background thread."""

    def __init__(self, *, port: int, data_dir: str | pathlib.Path | None, clock: clocks.Clock | None,
                 history: int = 10_000, host: str = "127.0.0.1") -> None:
        self.loop = asyncio.new_event_loop()
        self.faults = faults_module.Faults()
        self.admin_token = authn.new_token()
        self.tokens = authn.Tokens({self.admin_token: authn.ADMIN})
        self.url = ""  # set once listening
        self.api: api_module.ClusterAPI
        self.handlers: handlers.Handlers
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self._run, args=(host, port, data_dir, clock, history),
                                        name="localcluster-apiserver", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._failure is not None:
            raise self._failure

    def _run(self, host: str, port: int, data_dir: Any, clock: clocks.Clock | None, history: int) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._start(host, port, data_dir, clock, history))
        except BaseException as error:  # reported to the starting thread
            self._failure = error
            self._ready.set()
            return
        self._ready.set()
        self.loop.run_forever()

    async def _start(self, host: str, port: int, data_dir: Any, clock: clocks.Clock | None, history: int) -> None:
        self.api = api_module.ClusterAPI(storage.Storage(data_dir, history=history), clock=clock)
        await self.api.start()
        self.handlers = handlers.Handlers(self.api, self.faults, self.tokens)
        self._runner = web.AppRunner(build_app(self.handlers), access_log=None, handle_signals=False,
                                     shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port, backlog=1024)
        await site.start()
        bound = self._runner.addresses[0]
        self.url = f"http://{bound[0]}:{bound[1]}"

    def call(self, coroutine: Coroutine[Any, Any, T], timeout: float | None = 30.0) -> T:
        """Run `coroutine` on the server loop and wait for its result (from another thread)."""
        future: concurrent.futures.Future[T] = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        return future.result(timeout)

    def write_kubeconfig(self, path: str | pathlib.Path) -> pathlib.Path:
        """Write a kubeconfig (context `localcluster`, plain HTTP, the admin token) pointing here."""
        return write_kubeconfig(path, self.url, token=self.admin_token)

    def route_service(self, namespace: str, name: str, port: int, address: str) -> None:
        """Reach webhook service `namespace/name:port` at `address` ("127.0.0.1:9443")."""
        self.loop.call_soon_threadsafe(self.api.admission.webhooks.routes.__setitem__,
                                       f"{namespace}/{name}:{port}", address)

    def drop_watches(self, resource: str | None = None) -> int:
        """End every open watch stream (of one resource key such as "v1/pods")."""
        async def drop() -> int:
            return self.handlers.watches.drop(resource)
        return self.call(drop())

    def stop(self) -> None:
        """Stop serving, close storage and end the thread."""
        if not self.loop.is_running():
            return

        async def shutdown() -> None:
            self.api.hub.close_all()
            if self._runner is not None:
                await self._runner.cleanup()
            await self.api.admission.webhooks.close()
            self.api.storage.close()
        self.call(shutdown())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)


def start_in_thread(*, port: int = 0, data_dir: str | pathlib.Path | None = None,
                    clock: clocks.Clock | None = None, history: int = 10_000) -> RunningServer:
    """Start a server on a loopback port (0: any free one) in a background thread.

    `history`: watch events kept per resource for replay; older resourceVersions answer 410."""
    return RunningServer(port=port, data_dir=data_dir, clock=clock, history=history)


def write_kubeconfig(path: str | pathlib.Path, url: str, *, token: str | None = None) -> pathlib.Path:
    """A kubeconfig file for `url`, with `token` as its user's bearer token when given."""
    target = pathlib.Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    config = {"apiVersion": "v1", "kind": "Config", "current-context": "localcluster",
              "clusters": [{"name": "localcluster", "cluster": {"server": url}}],
              "users": [{"name": "localcluster", "user": {"token": token} if token else {}}],
              "contexts": [{"name": "localcluster", "context": {"cluster": "localcluster", "user": "localcluster",
                                                                 "namespace": "default"}}]}
    target.touch(mode=0o600)  # it may carry a token: readable by its owner only, as kubectl writes them
    target.chmod(0o600)
    target.write_text(yaml.safe_dump(config, sort_keys=False))
    return target


async def serve_forever(*, port: int, data_dir: str | None, kubeconfig: str | None, speed: float,
                        routes: list[str]) -> None:
    """Run in this process until SIGINT or SIGTERM."""
    api = api_module.ClusterAPI(storage.Storage(data_dir), clock=clocks.VirtualClock(speed))
    await api.start()
    admin_token = authn.new_token()
    for route in routes:
        service, _, address = route.partition("=")
        api.admission.webhooks.routes[service] = address
    tokens = authn.Tokens({admin_token: authn.ADMIN})
    runner = web.AppRunner(build_app(handlers.Handlers(api, faults_module.Faults(), tokens)), access_log=None,
                           shutdown_timeout=1.0)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port, backlog=1024).start()
    host, bound = runner.addresses[0][:2]
    url = f"http://{host}:{bound}"
    if kubeconfig:
        write_kubeconfig(kubeconfig, url, token=admin_token)
    print(f"serving the Kubernetes API at {url}", flush=True)
    stopped = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(signum, stopped.set)
    await stopped.wait()
    api.hub.close_all()
    await runner.cleanup()
    await api.admission.webhooks.close()
    api.storage.close()


def main(argv: list[str] | None = None) -> int:
    """`python -m engine.localcluster`."""
    parser = argparse.ArgumentParser(prog="python -m engine.localcluster",
                                     description="An embedded Kubernetes API server on loopback")
    parser.add_argument("--port", type=int, default=6443, help="port to listen on (0: any free port)")
    parser.add_argument("--data-dir", help="keep objects in SQLite under this directory across restarts")
    parser.add_argument("--kubeconfig", help="write a kubeconfig for this server to this path")
    parser.add_argument("--clock-speed", type=float, default=1.0, help="virtual seconds per real second")
    parser.add_argument("--service-route", action="append", default=[], metavar="NS/NAME:PORT=HOST:PORT",
                        help="where a webhook service is reachable")
    args = parser.parse_args(argv)
    try:
        asyncio.run(serve_forever(port=args.port, data_dir=args.data_dir, kubeconfig=args.kubeconfig,
                                  speed=args.clock_speed, routes=args.service_route))
    except OSError as error:
        print(f"error: {error}")
        return 2
    return 0
