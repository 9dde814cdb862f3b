"""All SQL about the lookup tables."""

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, insert, select

from referral_api.geography.models import LookupLoad, PostcodeLsoa, PracticePcn
from signpost_platform.db import Repository


class GeographyRepository(Repository):
    async def lsoa_of(self, postcode: str) -> tuple[str, str] | None:
        """(LSOA code, vintage) of a normalised postcode, or None when it is not in the lookup."""
        row = (
            await self.session.execute(
                select(PostcodeLsoa.lsoa_code, PostcodeLsoa.lsoa_vintage).where(
                    PostcodeLsoa.postcode == postcode
                )
            )
        ).first()
        return (row[0], row[1]) if row else None

    async def pcn_of(self, practice_ods: str) -> str | None:
        return (
            await self.session.execute(
                select(PracticePcn.pcn_ods).where(PracticePcn.practice_ods == practice_ods)
            )
        ).scalar_one_or_none()

    async def clear_postcodes(self) -> None:
        await self.session.execute(delete(PostcodeLsoa))

    async def add_postcodes(self, rows: Iterable[dict[str, str | None]]) -> None:
        batch = list(rows)
        if batch:
            await self.session.execute(insert(PostcodeLsoa), batch)

    async def clear_practices(self) -> None:
        await self.session.execute(delete(PracticePcn))

    async def add_practices(self, rows: Iterable[dict[str, str]]) -> None:
        batch = list(rows)
        if batch:
            await self.session.execute(insert(PracticePcn), batch)

    async def record_load(
        self, lookup: str, source: str, is_sample: bool, row_count: int, at: datetime
    ) -> None:
        await self.session.execute(
            insert(LookupLoad).values(
                lookup=lookup,
                source=source,
                is_sample=is_sample,
                row_count=row_count,
                loaded_at=at,
            )
        )
