"""All SQL about locations."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select

from directory_api.locations.models import Location
from directory_api.record_repository import RecordRepository
from directory_api.services.models import Service, ServiceAtLocation
from signpost_platform.fhir.search import DateRange, date_condition
from signpost_platform.text_match import contains


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


class LocationRepository(RecordRepository[StoredLocation]):
    model = Location
    stored = StoredLocation

    async def live_services(self, location_id: str) -> list[str]:
        rows = await self.session.execute(
            select(ServiceAtLocation.service_id)
            .join(Service, Service.id == ServiceAtLocation.service_id)
            .where(ServiceAtLocation.location_id == location_id, Service.retired_at.is_(None))
            .distinct()
        )
        return list(rows.scalars())

    async def search(
        self,
        name: str | None,
        limit: int,
        offset: int,
        *,
        ids: Sequence[Sequence[str]] = (),
        last_updated: Sequence[DateRange] = (),
    ) -> tuple[int, list[StoredLocation]]:
        conditions: list[ColumnElement[bool]] = [Location.retired_at.is_(None)]
        conditions += [Location.id.in_(values) for values in ids]
        conditions += [date_condition(Location.last_modified_at, r) for r in last_updated]
        if name:
            conditions.append(contains(func.lower(Location.name), name.lower()))
        order = (Location.name, Location.id)
        return await self.page(conditions, order, limit=limit, offset=offset)
