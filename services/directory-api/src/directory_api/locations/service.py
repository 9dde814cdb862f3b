"""The rules for locations."""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from directory_api.curation import (
    NestedRecords,
    Rows,
    live_reference,
)
from directory_api.documents.fhir import location_resource
from directory_api.documents.oruk import location_document
from directory_api.geography.repository import PostcodeRepository
from directory_api.locations.repository import LocationRepository
from directory_api.locations.schemas import LocationIn
from directory_api.organizations.repository import OrganizationRepository


async def _rows(session: AsyncSession, record_id: str, payload: LocationIn, now: datetime) -> Rows:
    """A location's columns and documents; its coordinates default to its postcode's centroid."""
    if payload.organization_id:
        organizations = OrganizationRepository(session)
        await live_reference(
            "organization", organizations.get, payload.organization_id, "organization_id"
        )
    centroid = None
    postcode = payload.postcode
    if postcode and payload.latitude is None:
        area = await PostcodeRepository(session).get(postcode)
        centroid = (area.latitude, area.longitude) if area else None
    document = location_document(record_id, payload, centroid)
    columns = {
        "organization_id": payload.organization_id,
        "location_type": payload.location_type,
        "name": payload.name,
        "postcode": postcode,
        "latitude": document.get("latitude"),
        "longitude": document.get("longitude"),
    }
    return columns, (document, location_resource(document, now))


LOCATIONS = NestedRecords("location", LocationRepository, _rows)
