"""A client that hangs up mid-request is not a server error: no 'internal error' in the log."""

from __future__ import annotations

import logging
import socket
import time
import urllib.parse
from collections.abc import Iterator

import pytest

from engine.localcluster import server


@pytest.fixture(scope="module")
def running() -> Iterator[server.RunningServer]:
    started = server.start_in_thread(port=0)
    yield started
    started.stop()


def test_watches_abandoned_at_once_log_no_internal_error(running: server.RunningServer,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    """Thirty watches reset (SO_LINGER 0) right after the request line: the server logs no traceback."""
    address = urllib.parse.urlsplit(running.url)
    caplog.set_level(logging.DEBUG, logger="engine.localcluster")
    for _ in range(30):
        with socket.create_connection((address.hostname, address.port)) as conn:
            conn.sendall(b"GET /api/v1/namespaces/default/configmaps?watch=true HTTP/1.1\r\n"
                         b"Host: localhost\r\nAccept: application/json\r\n\r\n")
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    time.sleep(0.5)
    assert not [r for r in caplog.records if "internal error" in r.getMessage()]
