"""Work a service runs beside its requests (outbox deliveries, report refreshes, exports)."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
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
