"""The HTTPS transport of the admission webhooks; it makes no decisions.

Owns: an aiohttp server that routes AdmissionReview POSTs to handlers, answers malformed
reviews with HTTP 400 and a message (never a 500), bounds body size and handler time, and
re-reads its certificate when it changes on disk (rotation without a restart).
Called by: the manager (`jobset controller`) and `jobset up`.
Must not import: `engine.planner`, `engine.rules`, `engine.kube`, `engine.localcluster`.
"""

from __future__ import annotations

import asyncio
import logging
import pathlib
import ssl
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from engine import tls
from engine.webhook import reviews

Handler = Callable[[reviews.AdmissionRequest], Awaitable[dict[str, Any]]]
MAX_BODY_BYTES = 3 * 1024 * 1024
HANDLER_TIMEOUT_SECONDS = 8.0
CERT_POLL_SECONDS = 5.0

log = logging.getLogger("jobset.webhook")


class WebhookServer:
    """Serves `routes` (path -> handler) over TLS with certificates from `cert_dir`."""

    def __init__(self, routes: dict[str, Handler], *, cert_dir: pathlib.Path, host: str = "127.0.0.1",
                 port: int = 9443, min_version: str = "", cipher_suites: tuple[str, ...] = ()) -> None:
        self._routes = routes
        self._cert_dir = cert_dir
        self._host = host
        self._port = port
        self._min_version = min_version
        self._cipher_suites = cipher_suites
        self._runner: web.AppRunner | None = None
        self._context: ssl.SSLContext | None = None
        self._cert_mtime = 0.0
        self._poller: asyncio.Task[None] | None = None
        self.bound_port = 0

    @property
    def cert_file(self) -> pathlib.Path:
        return self._cert_dir / "tls.crt"

    @property
    def key_file(self) -> pathlib.Path:
        return self._cert_dir / "tls.key"

    async def start(self) -> None:
        """Bind and serve; the certificate files must exist."""
        self._context = tls.server_context(cert_file=self.cert_file, key_file=self.key_file,
                                           min_version=self._min_version, cipher_suites=self._cipher_suites)
        self._cert_mtime = self.cert_file.stat().st_mtime
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        for path in self._routes:
            app.router.add_post(path, self._serve)
        app.router.add_get("/healthz", self._healthz)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port, ssl_context=self._context)
        await site.start()
        server = site._server  # aiohttp exposes the bound socket only here
        sockets = getattr(server, "sockets", None) or []
        self.bound_port = sockets[0].getsockname()[1] if sockets else self._port
        self._poller = asyncio.get_running_loop().create_task(self._watch_certificates())

    async def stop(self) -> None:
        """Stop serving; in-flight requests finish first."""
        if self._poller:
            self._poller.cancel()
        if self._runner:
            await self._runner.cleanup()

    def reload_certificates(self) -> None:
        """Load the current files into the live context: new handshakes use them at once."""
        if self._context is None:
            return
        self._context.load_cert_chain(str(self.cert_file), str(self.key_file))
        self._cert_mtime = self.cert_file.stat().st_mtime
        log.info("webhook serving certificate reloaded")

    async def _watch_certificates(self) -> None:
        while True:
            await asyncio.sleep(CERT_POLL_SECONDS)
            try:
                if self.cert_file.stat().st_mtime != self._cert_mtime:
                    self.reload_certificates()
            except (OSError, ssl.SSLError) as error:
                log.warning("webhook certificate reload failed: %s", error)

    async def _healthz(self, _request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def _serve(self, request: web.Request) -> web.Response:
        handler = self._routes[request.path]
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return web.Response(status=413, text=f"request body larger than {MAX_BODY_BYTES} bytes")
        try:
            admission = reviews.parse(body)
        except reviews.ReviewError as error:
            return web.Response(status=400, text=str(error))
        try:
            answer = await asyncio.wait_for(handler(admission), HANDLER_TIMEOUT_SECONDS)
        except asyncio.TimeoutError:
            answer = reviews.errored(admission.uid, code=504,
                                     message=f"webhook did not decide within {HANDLER_TIMEOUT_SECONDS}s")
        except Exception as error:  # one failing review must never take the server down
            log.exception("webhook handler failed for %s", request.path)
            answer = reviews.errored(admission.uid, code=500, message=f"internal error: {error}")
        return web.json_response(answer)
