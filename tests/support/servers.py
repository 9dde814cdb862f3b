"""Services as real uvicorn processes on loopback ports, for tests that need a real socket
(end-to-end restarts, third-party clients that bring their own HTTP stack)."""

import asyncio
import os
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from starlette.types import ASGIApp

from tests.support.processes import free_port

DEADLINE_SECONDS = 60


class Service:
    """One service as a uvicorn subprocess that can be stopped and started again."""

    def __init__(self, factory: str, env: dict[str, str], log: Path) -> None:
        self.factory = factory
        self.port = free_port()
        self.env = {**os.environ, **env}
        self.log = log
        self.process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                self.factory,
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--no-access-log",
                env=self.env,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
            )
        async with httpx.AsyncClient(base_url=self.url) as client:

            async def alive() -> bool:
                try:
                    return (await client.get("/_ping")).status_code == 200
                except httpx.TransportError:
                    return False

            await eventually(alive, f"{self.factory} to start (log: {self.log})")

    async def stop(self, *, kill: bool = False) -> None:
        assert self.process is not None
        if kill:
            self.process.kill()
        else:
            self.process.terminate()
        await asyncio.wait_for(self.process.wait(), 20)
        self.process = None


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Wait until `check` holds (services work asynchronously), failing after a deadline."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE_SECONDS
    while not await check():
        if loop.time() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        await asyncio.sleep(0.1)


@dataclass(frozen=True)
class Served:
    """An app `serving` runs: its base URL, and a way to wait for its requests to finish."""

    url: str
    server: uvicorn.Server

    async def idle(self) -> None:
        """Wait until no request is in flight: a request's access log line is written after its
        client has the response, and a test should own the log lines of its requests."""
        await eventually(lambda: _idle(self.server), "the server's requests to finish")


@asynccontextmanager
async def serving(app: ASGIApp) -> AsyncIterator[Served]:
    """Serve `app` on a loopback port from a thread of this process (its own event loop, its
    lifespan run): a real socket for clients that bring their own HTTP stack, without the
    start-up cost of a new interpreter."""
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=free_port(),
            loop="asyncio",
            access_log=False,
            log_config=None,
        )
    )
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    try:
        await eventually(lambda: _started(server, thread), "the server to start")
        yield Served(f"http://127.0.0.1:{server.config.port}", server)
    finally:
        server.should_exit = True
        await asyncio.to_thread(thread.join, 20)


async def _started(server: uvicorn.Server, thread: threading.Thread) -> bool:
    if not thread.is_alive():
        pytest.fail("the server stopped while starting")
    return server.started


async def _idle(server: uvicorn.Server) -> bool:
    return not server.server_state.tasks
