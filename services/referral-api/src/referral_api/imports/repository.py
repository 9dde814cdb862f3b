"""All SQL about import runs."""

from datetime import datetime

from sqlalchemy import insert, select, update

from referral_api.imports.models import ImportRun
from signpost_platform.db import Repository


class ImportRepository(Repository):
    async def progress(self, file_sha256: str) -> tuple[int, int, datetime | None] | None:
        """(rows done, rows failed, finished at) of a file already started."""
        row = (
            await self.session.execute(
                select(ImportRun.rows_done, ImportRun.rows_failed, ImportRun.finished_at).where(
                    ImportRun.file_sha256 == file_sha256
                )
            )
        ).first()
        return (row[0], row[1], row[2]) if row else None

    async def start(self, file_sha256: str, name: str, file_format: str, at: datetime) -> None:
        await self.session.execute(
            insert(ImportRun).values(
                file_sha256=file_sha256,
                file_name=name,
                file_format=file_format,
                rows_done=0,
                rows_failed=0,
                started_at=at,
                updated_at=at,
                finished_at=None,
            )
        )

    async def checkpoint(
        self,
        file_sha256: str,
        rows_done: int,
        rows_failed: int,
        at: datetime,
        finished: bool = False,
    ) -> None:
        await self.session.execute(
            update(ImportRun)
            .where(ImportRun.file_sha256 == file_sha256)
            .values(
                rows_done=rows_done,
                rows_failed=rows_failed,
                updated_at=at,
                finished_at=at if finished else None,
            )
        )
