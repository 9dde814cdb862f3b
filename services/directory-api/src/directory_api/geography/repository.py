"""All SQL about postcode centroids and the postcode districts derived from them."""

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, SQLColumnExpression, delete, func, insert, select

from directory_api.geography.models import (
    PostcodeCentroid,
    PostcodeDistrict,
    PostcodeDistrictAuthority,
)
from signpost_platform.db import Repository
from signpost_schemas.geography import PostcodeArea


@dataclass(frozen=True, slots=True)
class DistrictCentroid:
    """The centroid of a district's known postcodes and the local authorities they lie in."""

    district: str
    latitude: float
    longitude: float
    postcode_count: int
    local_authority_codes: list[str]


def _district_of(postcode: SQLColumnExpression[str]) -> ColumnElement[str]:
    # Stored postcodes are normalised (`E15 1DA`): the inward code is always the last 4
    # characters with its space, so the outward code is what comes before them.
    return func.substr(postcode, 1, func.length(postcode) - 4)


class PostcodeRepository(Repository):
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

    async def district(self, district: str) -> DistrictCentroid | None:
        row = (
            await self.session.execute(
                select(PostcodeDistrict).where(PostcodeDistrict.district == district)
            )
        ).scalar_one_or_none()
        if row is None:
            return None
        authorities = await self.session.execute(
            select(PostcodeDistrictAuthority.local_authority_code)
            .where(PostcodeDistrictAuthority.district == district)
            .order_by(PostcodeDistrictAuthority.local_authority_code)
        )
        return DistrictCentroid(
            district=row.district,
            latitude=row.latitude,
            longitude=row.longitude,
            postcode_count=row.postcode_count,
            local_authority_codes=list(authorities.scalars()),
        )

    async def count(self) -> int:
        return int(
            (
                await self.session.execute(select(func.count()).select_from(PostcodeCentroid))
            ).scalar_one()
        )

    async def replace(self, areas: Iterable[PostcodeArea]) -> None:
        """Insert or overwrite these postcodes (others are kept).

        Call `refresh_districts` once the whole load is written.
        """
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

    async def refresh_districts(self) -> None:
        """Rebuild every district's centroid and authorities from the postcode lookup (one pass
        over the table: a few seconds for the whole UK on PostgreSQL)."""
        district = _district_of(PostcodeCentroid.postcode)
        await self.session.execute(delete(PostcodeDistrict))
        await self.session.execute(
            insert(PostcodeDistrict).from_select(
                ["district", "latitude", "longitude", "postcode_count"],
                select(
                    district,
                    func.avg(PostcodeCentroid.latitude),
                    func.avg(PostcodeCentroid.longitude),
                    func.count(),
                ).group_by(district),
            )
        )
        await self.session.execute(delete(PostcodeDistrictAuthority))
        await self.session.execute(
            insert(PostcodeDistrictAuthority).from_select(
                ["district", "local_authority_code"],
                select(district, PostcodeCentroid.local_authority_code)
                .where(PostcodeCentroid.local_authority_code.is_not(None))
                .distinct(),
            )
        )
