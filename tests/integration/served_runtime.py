"""A service runtime's HTTP app served by uvicorn in the test's event loop, on a free port."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import uvicorn

from driftline.runtime.http import build_http_app
from driftline.runtime.service import ServiceRuntime
from driftline.stack.procs import free_port


@asynccontextmanager
async def served(runtime: ServiceRuntime) -> AsyncIterator[str]:
    """The app's URL once ``/readyz`` answers 200; the server is stopped on the way out."""
    port = free_port()
    config = uvicorn.Config(build_http_app(runtime), port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient() as client:
            for _ in range(300):
                ready = await client.get(f"{url}/readyz") if server.started else None
                if ready is not None and ready.status_code == 200:
                    break
                await asyncio.sleep(0.2)
        yield url
    finally:
        server.should_exit = True
        await serving
