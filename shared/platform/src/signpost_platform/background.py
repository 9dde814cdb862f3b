"""Work a service runs beside its requests (outbox deliveries, report refreshes, exports)."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import KW_ONLY, dataclass, field
from typing import Any


@asynccontextmanager
async def in_background(
    work: Callable[[], Coroutine[Any, Any, None]] | None, name: str
) -> AsyncIterator[None]:
    """Run `work()` as a task while the block runs (nothing when `work` is None: the worker is
    disabled), then cancel it and wait for it to stop. Used inside an app lifecycle."""
    task = asyncio.create_task(work(), name=name) if work is not None else None
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


@dataclass
class WorkLoop:
    """A background worker's loop: run a pass; go again at once while the pass says more is
    waiting, else when woken (`wake`) or after `poll_seconds`, whichever comes first.

    Woken, it waits `linger_seconds` more, so work arriving together is taken in one pass. A
    pass that fails is logged (`failure_message`) and the loop goes on: it must outlive any one
    failure (a database restart, ...).

    Cancelled (the service stopping) while a pass runs, the loop lets the pass finish, up to
    `stop_grace_seconds`, and only then stops: a pass cut off inside its transaction could leave
    its connection holding locks (on SQLite, the database's one write lock) after the service
    has let go of its engine. A pass still running after the grace is cancelled.
    """

    one_pass: Callable[[], Awaitable[bool]]
    _: KW_ONLY
    poll_seconds: float
    logger: logging.Logger
    failure_message: str
    linger_seconds: float = 0.0
    stop_grace_seconds: float = 10.0
    _wake: asyncio.Event = field(default_factory=asyncio.Event, init=False, repr=False)

    def wake(self) -> None:
        """Run the next pass now rather than at the next poll."""
        self._wake.set()

    async def run_forever(self) -> None:
        while True:
            try:
                more_waiting = await self._pass()
            except Exception:
                self.logger.exception(self.failure_message)
                more_waiting = False
            if not more_waiting:
                await self._wait()

    async def _pass(self) -> bool:
        running = asyncio.ensure_future(self.one_pass())
        try:
            return await asyncio.shield(running)
        except asyncio.CancelledError:
            try:
                await asyncio.wait({running}, timeout=self.stop_grace_seconds)
            finally:  # past the grace, or cancelled again while waiting: the pass goes too
                if not running.done():
                    running.cancel()
                    with contextlib.suppress(BaseException):
                        await running
            raise

    async def _wait(self) -> None:
        woken = False
        with contextlib.suppress(TimeoutError):
            woken = await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
        self._wake.clear()
        if woken and self.linger_seconds:
            await asyncio.sleep(self.linger_seconds)
