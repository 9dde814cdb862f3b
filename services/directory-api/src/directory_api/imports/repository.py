"""All SQL about import jobs."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from directory_api.imports.models import ImportJob


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
    started_at: datetime
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
    ImportJob.started_at,
    ImportJob.finished_at,
)


class ImportRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(self, values: dict[str, Any]) -> None:
        await self.session.execute(insert(ImportJob).values(**values))

    async def update(self, job_id: str, values: dict[str, Any]) -> None:
        await self.session.execute(update(ImportJob).where(ImportJob.id == job_id).values(**values))

    async def get(self, job_id: str) -> StoredImport | None:
        row = (await self.session.execute(select(*_STORED).where(ImportJob.id == job_id))).first()
        return StoredImport(*row) if row else None
