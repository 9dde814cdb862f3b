"""All SQL about postcode centroids."""

from collections.abc import Iterable

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from directory_api.geography.models import PostcodeCentroid
from signpost_schemas.geography import PostcodeArea


class PostcodeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, postcode: str) -> PostcodeArea | None:
        row = (
            await self.session.execute(
                select(PostcodeCentroid).where(PostcodeCentroid.postcode == postcode)
            )
        ).scalar_one_or_none()
        if row is None:
            return None
        return PostcodeArea(
            postcode=row.postcode,
            lsoa_code=row.lsoa_code or "",
            lsoa_name="",
            local_authority_code=row.local_authority_code or "",
            local_authority_name=row.local_authority_name or "",
            latitude=row.latitude,
            longitude=row.longitude,
        )

    async def count(self) -> int:
        return int(
            (
                await self.session.execute(select(func.count()).select_from(PostcodeCentroid))
            ).scalar_one()
        )

    async def replace(self, areas: Iterable[PostcodeArea]) -> None:
        """Insert or overwrite these postcodes (others are kept)."""
        rows = [
            {
                "postcode": area.postcode,
                "latitude": area.latitude,
                "longitude": area.longitude,
                "lsoa_code": area.lsoa_code or None,
                "local_authority_code": area.local_authority_code or None,
                "local_authority_name": area.local_authority_name or None,
            }
            for area in areas
        ]
        if not rows:
            return
        await self.session.execute(
            delete(PostcodeCentroid).where(
                PostcodeCentroid.postcode.in_([r["postcode"] for r in rows])
            )
        )
        await self.session.execute(insert(PostcodeCentroid), rows)
