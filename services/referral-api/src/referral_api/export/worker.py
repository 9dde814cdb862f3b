"""The export worker: runs the `$export` jobs in the background, inside referral-api.

Every replica runs one (an app lifecycle). A job is claimed before it runs, so two replicas
never run one job at once; a job whose run stopped (the process died: its heartbeat went stale)
is claimed again and carries on after its last part. `REFERRAL_EXPORT_WORKER_ENABLED=false`
leaves the jobs to another replica (tests run the worker themselves).
"""

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI

from referral_api.config import ReferralSettings
from referral_api.export import service
from signpost_platform.background import WorkLoop, in_background
from signpost_platform.db import Database

logger = logging.getLogger("referral.export")


class ExportWorker:
    """Runs waiting jobs one after another; woken at once by a kick-off, else it polls."""

    def __init__(
        self,
        database: Database,
        settings: ReferralSettings,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.database = database
        self.clock = clock
        self.loop = WorkLoop(
            self._run_pass,
            poll_seconds=settings.export_poll_seconds,
            logger=logger,
            failure_message="export pass failed; will retry",
        )
        self.run_settings = service.RunSettings(
            batch_size=settings.export_batch_size,
            stale_after=timedelta(seconds=settings.export_stale_seconds),
            pseudonym_key=settings.pseudonym_key,
            retention=timedelta(hours=settings.export_retention_hours),
        )

    def wake(self) -> None:
        """Start on a new job now rather than at the next poll (called after a kick-off)."""
        self.loop.wake()

    async def run_pending(self) -> int:
        """Delete the jobs past their retention, then run every job waiting (or stopped);
        returns how many runs finished."""
        runs = 0
        sessionmaker = self.database.sessionmaker
        await service.expire(sessionmaker, self.clock(), self.run_settings.retention)
        while True:
            claimed = await service.claim_next(
                sessionmaker, self.clock(), self.run_settings.stale_after
            )
            if claimed is None:
                return runs
            job_id, attempt = claimed
            await service.run_job(sessionmaker, job_id, attempt, self.run_settings, self.clock)
            runs += 1

    async def run_forever(self) -> None:
        await self.loop.run_forever()

    async def _run_pass(self) -> bool:
        """One pass runs every waiting job, so none is left for an immediate next pass."""
        await self.run_pending()
        return False


def export_lifecycle() -> Callable[[FastAPI], Any]:
    """The app lifecycle that runs the worker (or only holds it, when it is disabled)."""

    @asynccontextmanager
    async def lifecycle(app: FastAPI) -> AsyncIterator[None]:
        settings: ReferralSettings = app.state.settings
        worker = ExportWorker(app.state.database, settings)
        app.state.export_worker = worker
        work = worker.run_forever if settings.export_worker_enabled else None
        async with in_background(work, "bulk-export"):
            yield

    return lifecycle
