"""The manager's plain HTTP endpoints: health probes and Prometheus metrics.

Owns: `parse_address` (Go-style `host:port`, `:8081`, `"0"` disables), `Checks` (named
liveness/readiness checks), `probe_app` (`/<liveness name>`, `/<readiness name>`, each also
answering `/<name>/<check>`), `metrics_app` (`/metrics` from `metrics.REGISTRY`, behind an
optional `Guard` such as `metricsauth.Reviewer.check` that answers 401/403/500 in plain text
before anything is served) and `Site`, a started aiohttp site that knows its bound port.
Called by: `kube.manager`.
Must not import: `planner`, `webhook`, `localcluster`, `cli`.
"""

from __future__ import annotations

import dataclasses
import ssl
from collections.abc import Awaitable, Callable

import prometheus_client
from aiohttp import web

from engine.metrics import metrics

Check = Callable[[], str | None]  # None when healthy, else the reason

Guard = Callable[[str | None, str], Awaitable[tuple[int, str]]]  # (Authorization, path) -> (200 or refusal, text)


def parse_address(address: str) -> tuple[str, int] | None:
    """`(host, port)` for `host:port` or `:port` ("" host means all interfaces); None for "0" or ""."""
    if address in ("0", ""):
        return None
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"invalid bind address {address!r}: expected host:port, :port or 0")
    return host.strip("[]") or "0.0.0.0", int(port)


@dataclasses.dataclass
class Checks:
    """Named checks of one endpoint."""

    entries: dict[str, Check] = dataclasses.field(default_factory=dict)

    def failures(self) -> dict[str, str]:
        """Check name -> reason, for each failing check."""
        found = {}
        for name, check in self.entries.items():
            try:
                reason = check()
            except Exception as error:  # a broken check is a failing check
                reason = f"check raised {error!r}"
            if reason is not None:
                found[name] = reason
        return found


def probe_app(*, liveness: tuple[str, Checks], readiness: tuple[str, Checks]) -> web.Application:
    """An app serving the two probe endpoints."""
    app = web.Application()
    for endpoint, checks in (liveness, readiness):
        handler = _probe_handler(checks)
        app.router.add_get(f"/{endpoint}", handler)
        app.router.add_get(f"/{endpoint}/{{check}}", handler)
    return app


def _probe_handler(checks: Checks) -> Callable[[web.Request], object]:
    async def handle(request: web.Request) -> web.Response:
        only = request.match_info.get("check")
        if only is not None and only not in checks.entries:
            return web.Response(status=404, text=f"no check named {only!r}\n")
        failures = {k: v for k, v in checks.failures().items() if only is None or k == only}
        if not failures:
            return web.Response(text="ok")
        text = "".join(f"[-]{name} failed: {reason}\n" for name, reason in sorted(failures.items()))
        return web.Response(status=500, text=text + "check failed\n")
    return handle


def metrics_app(guard: Guard | None = None) -> web.Application:
    """An app serving `/metrics` in the Prometheus text format, to the requests `guard` allows."""
    async def handle(request: web.Request) -> web.Response:
        if guard is not None:
            status, text = await guard(request.headers.get("Authorization"), request.path)
            if status != 200:
                return web.Response(status=status, text=text)
        response = web.Response(body=metrics.exposition())
        response.headers["Content-Type"] = prometheus_client.CONTENT_TYPE_LATEST
        return response
    app = web.Application()
    app.router.add_get("/metrics", handle)
    return app


class Site:
    """A started aiohttp application on one address."""

    def __init__(self, runner: web.AppRunner, port: int) -> None:
        self._runner = runner
        self.port = port

    @classmethod
    async def start(cls, app: web.Application, host: str, port: int, *,
                    ssl_context: ssl.SSLContext | None = None) -> Site:
        """Bind and serve `app` (HTTPS with `ssl_context`); port 0 picks a free port (see `.port`)."""
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host, port, ssl_context=ssl_context)
        await site.start()
        bound = runner.addresses[0][1] if runner.addresses else port
        return cls(runner, int(bound))

    async def stop(self) -> None:
        """Stop serving."""
        await self._runner.cleanup()
