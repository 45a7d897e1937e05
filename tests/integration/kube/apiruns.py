"""Running a coroutine with a fresh `engine.kube` client on the embedded API server (test helper)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from engine.kube import client, connection
from engine.localcluster import server


def with_client(cluster: server.RunningServer, body: Callable[[client.Client], Awaitable[Any]], **conn: Any) -> Any:
    """`await body(api)` with a client on `cluster` (extra `Connection` fields in `conn`), closed after."""
    async def scenario() -> Any:
        api = client.Client(connection.Connection(host=cluster.url, **conn))
        try:
            return await body(api)
        finally:
            await api.close()
    return asyncio.run(scenario())
