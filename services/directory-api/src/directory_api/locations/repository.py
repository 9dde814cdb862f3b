"""All SQL about locations."""

from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, select

from directory_api.locations.models import Location
from directory_api.record_repository import NestedRepository, StoredNested
from directory_api.services.models import Service, ServiceAtLocation
from signpost_platform.text_match import contains


@dataclass(frozen=True, slots=True)
class StoredLocation(StoredNested):
    location_type: str


class LocationRepository(NestedRepository[StoredLocation]):
    model = Location
    stored = StoredLocation

    def matching(self, text: str) -> list[ColumnElement[bool]]:
        return [contains(func.lower(Location.name), text.lower())]

    async def live_services(self, location_id: str) -> list[str]:
        rows = await self.session.execute(
            select(ServiceAtLocation.service_id)
            .join(Service, Service.id == ServiceAtLocation.service_id)
            .where(ServiceAtLocation.location_id == location_id, Service.retired_at.is_(None))
            .distinct()
        )
        return list(rows.scalars())
