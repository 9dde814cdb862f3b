"""All SQL about import jobs."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select

from directory_api.imports.models import ImportJob
from signpost_platform import jobs
from signpost_platform.db import Repository


@dataclass(frozen=True, slots=True)
class StoredImport:
    id: str
    status: str
    total_records: int
    processed_records: int
    imported_records: int
    failed_records: int
    errors: str
    created_by: str | None
    failure_reason: str | None
    attempt: int
    started_at: datetime
    updated_at: datetime
    finished_at: datetime | None


_STORED = (
    ImportJob.id,
    ImportJob.status,
    ImportJob.total_records,
    ImportJob.processed_records,
    ImportJob.imported_records,
    ImportJob.failed_records,
    ImportJob.errors,
    ImportJob.created_by,
    ImportJob.failure_reason,
    ImportJob.attempt,
    ImportJob.started_at,
    ImportJob.updated_at,
    ImportJob.finished_at,
)


class ImportRepository(Repository):
    async def create(self, values: dict[str, Any]) -> None:
        await self.session.execute(insert(ImportJob).values(**values))

    async def update(self, job_id: str, attempt: int, values: dict[str, Any]) -> bool:
        """Update the job if `attempt` is still its current run; False if another run took it."""
        return await jobs.update_if_current(self.session, ImportJob, job_id, attempt, values)

    async def claim(self, job_id: str, attempt: int, stale_before: datetime, now: datetime) -> bool:
        """Start the job's next run if it is failed, or running with a heartbeat older than
        `stale_before`, and nobody claimed it since it was read at `attempt`."""
        return await jobs.claim(
            self.session,
            ImportJob,
            job_id,
            attempt,
            stale_before,
            now,
            values={"failure_reason": None, "finished_at": None},
        )

    async def get(self, job_id: str) -> StoredImport | None:
        row = (await self.session.execute(select(*_STORED).where(ImportJob.id == job_id))).first()
        return StoredImport(*tuple(row)) if row is not None else None
