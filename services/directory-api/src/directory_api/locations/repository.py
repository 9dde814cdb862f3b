"""All SQL about locations."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from directory_api.locations.models import Location
from directory_api.services.models import Service, ServiceAtLocation


@dataclass(frozen=True, slots=True)
class StoredLocation:
    id: str
    location_type: str
    document: str
    fhir_resource: str
    version: int
    last_modified_at: datetime
    retired_at: datetime | None
    input_digest: str


_STORED = (
    Location.id,
    Location.location_type,
    Location.document,
    Location.fhir_resource,
    Location.version,
    Location.last_modified_at,
    Location.retired_at,
    Location.input_digest,
)


class LocationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, location_id: str) -> StoredLocation | None:
        row = (
            await self.session.execute(select(*_STORED).where(Location.id == location_id))
        ).first()
        return StoredLocation(*row) if row else None

    async def many(self, ids: Sequence[str]) -> dict[str, StoredLocation]:
        if not ids:
            return {}
        rows = await self.session.execute(select(*_STORED).where(Location.id.in_(set(ids))))
        return {row.id: StoredLocation(*row) for row in rows}

    async def save(self, values: dict[str, Any], *, exists: bool) -> None:
        if exists:
            await self.session.execute(
                update(Location).where(Location.id == values["id"]).values(**values)
            )
        else:
            await self.session.execute(insert(Location).values(**values))

    async def live_services(self, location_id: str) -> list[str]:
        rows = await self.session.execute(
            select(ServiceAtLocation.service_id)
            .join(Service, Service.id == ServiceAtLocation.service_id)
            .where(ServiceAtLocation.location_id == location_id, Service.retired_at.is_(None))
            .distinct()
        )
        return list(rows.scalars())

    async def search(
        self, name: str | None, limit: int, offset: int
    ) -> tuple[int, list[StoredLocation]]:
        conditions = [Location.retired_at.is_(None)]
        if name:
            conditions.append(func.lower(Location.name).contains(name.lower(), autoescape=True))
        total = (
            await self.session.execute(
                select(func.count()).select_from(Location).where(*conditions)
            )
        ).scalar_one()
        rows = await self.session.execute(
            select(*_STORED)
            .where(*conditions)
            .order_by(Location.name, Location.id)
            .limit(limit)
            .offset(offset)
        )
        return total, [StoredLocation(*row) for row in rows]
