"""The rules for locations."""

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from directory_api.curation import (
    Outcome,
    WriteMode,
    begin_versioned_write,
    live_reference,
    retire_nested,
    save_nested,
    stored_record,
    target_id,
)
from directory_api.documents.fhir import location_resource
from directory_api.documents.oruk import location_document
from directory_api.geography.repository import PostcodeRepository
from directory_api.locations.repository import LocationRepository, StoredLocation
from directory_api.locations.schemas import LocationIn
from directory_api.organizations.repository import OrganizationRepository


async def save_location(
    session: AsyncSession,
    payload: LocationIn,
    mode: WriteMode,
    location_id: str | None = None,
    expected_version: int | None = None,
) -> tuple[StoredLocation, Outcome]:
    """Create or update a location, then re-render the services delivered there."""
    repository = LocationRepository(session)
    record_id = target_id(location_id, payload.id)
    write = await begin_versioned_write(
        "location", repository.get, record_id, payload, mode, expected_version
    )
    if write.unchanged is not None:
        return write.unchanged, Outcome.UNCHANGED
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
    now = datetime.now(UTC)
    document = location_document(record_id, payload, centroid)
    columns = {
        "organization_id": payload.organization_id,
        "location_type": payload.location_type,
        "name": payload.name,
        "postcode": postcode,
        "latitude": document.get("latitude"),
        "longitude": document.get("longitude"),
    }
    rendered = (document, location_resource(document, now))
    return await save_nested(session, "location", repository, write, columns, rendered, now)


async def retire_location(session: AsyncSession, location_id: str) -> StoredLocation:
    """Retire a location no live service is delivered at (idempotent)."""
    return await retire_nested(session, "location", LocationRepository(session), location_id)


async def read_location(session: AsyncSession, location_id: str) -> StoredLocation:
    return await stored_record("location", LocationRepository(session).get, location_id)
