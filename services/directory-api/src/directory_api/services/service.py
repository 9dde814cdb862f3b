"""The rules for curating services and reading them."""

from datetime import UTC, date, datetime
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from directory_api.changes.repository import ChangeRepository
from directory_api.curation import (
    Outcome,
    WriteMode,
    begin_versioned_write,
    derived_id,
    live_reference,
    require_live,
    stored_record,
    written,
)
from directory_api.documents import reading, rendering
from directory_api.documents.shape import content_of
from directory_api.locations.repository import LocationRepository
from directory_api.locations.service import LOCATIONS
from directory_api.organizations.repository import OrganizationRepository
from directory_api.organizations.service import ORGANIZATIONS
from directory_api.services.repository import (
    AttributeRow,
    LinkRow,
    ServiceRepository,
    StoredService,
)
from directory_api.services.schemas import ServiceIn
from directory_api.services.search import Hit, Page, ServiceFilter
from directory_api.taxonomy.repository import TaxonomyRepository
from directory_api.taxonomy.service import save_term
from signpost_platform.errors import Conflict, NotFound, Unprocessable

# Child arrays a service owns directly; each child gets an id and its service_id.
_OWN_CHILDREN = (
    "phones",
    "schedules",
    "service_areas",
    "languages",
    "funding",
    "cost_options",
    "contacts",
)
_NOT_CONTENT = {
    "id",
    "organization_id",
    "organization",
    "service_at_locations",
    "attributes",
    "last_modified",
    "metadata",
    "status",
}


async def save_service(
    session: AsyncSession,
    payload: ServiceIn,
    mode: WriteMode,
    service_id: str | None = None,
    expected_version: int | None = None,
) -> tuple[StoredService, Outcome]:
    """Create or update a service. With UPSERT (imports), nested records are saved first."""
    repository = ServiceRepository(session)
    write = await begin_versioned_write(
        "service", repository.get, service_id, payload, mode, expected_version
    )
    if write.unchanged is not None:
        return write.unchanged, Outcome.UNCHANGED
    record_id, existing = write.record_id, write.existing
    if payload.status == "defunct" and mode is not WriteMode.UPSERT:
        raise Unprocessable(
            "status defunct is set by retiring the service (POST /services/{id}/retire)",
            expression="status",
        )
    if mode is WriteMode.UPSERT:
        await _save_nested(session, payload)
    await _check_references(session, payload)

    now = datetime.now(UTC)
    content = content_of(payload, exclude=_NOT_CONTENT)
    for key in _OWN_CHILDREN:
        if key in content:
            content[key] = [
                {
                    **child,
                    "id": child.get("id") or derived_id(record_id, key, str(index)),
                    "service_id": record_id,
                }
                for index, child in enumerate(content[key])
            ]
    links = [
        LinkRow(
            id=link.id or derived_id(record_id, "service_at_location", str(index)),
            location_id=link.target_location_id,
            content=orjson.dumps(
                content_of(link, exclude={"id", "service_id", "location_id", "location"})
            ).decode(),
        )
        for index, link in enumerate(payload.service_at_locations or [])
    ]
    attributes = [
        AttributeRow(
            id=attribute.id or derived_id(record_id, "attribute", str(index)),
            taxonomy_term_id=attribute.term_id,
            link_type=attribute.link_type,
        )
        for index, attribute in enumerate(payload.attributes or [])
    ]
    values = {
        "id": record_id,
        "organization_id": payload.provider_id,
        "name": payload.name,
        "status": "active" if payload.status == "defunct" else payload.status,
        "minimum_age": payload.minimum_age,
        "maximum_age": payload.maximum_age,
        "assured_on": payload.assured_date,
        "accepts_self_referral": payload.accepts_self_referral,
        "content": orjson.dumps(content).decode(),
        "last_modified_at": now,
        "input_digest": write.digest,
    }
    if taken := await repository.link_ids_owned_elsewhere(
        record_id, [link.id for link in links], [a.id for a in attributes]
    ):
        raise Conflict(
            f"id {taken[0]} (a service_at_location or attribute) belongs to another service",
            expression="id",
            issue_code="duplicate",
        )
    if existing is None:
        values.update(
            document="{}",
            summary="{}",
            fhir_resource="{}",
            search_text="",
            free_of_charge=True,
            version=0,
            created_at=now,
        )
    await repository.save(values, exists=existing is not None)
    await repository.replace_links(record_id, links, attributes)
    await rendering.refresh_services(session, [record_id], now)
    if payload.status == "defunct":
        await retire_service(session, record_id)
    stored = await written(repository.get, record_id)
    return stored, Outcome.CREATED if existing is None else Outcome.UPDATED


async def retire_service(session: AsyncSession, service_id: str) -> StoredService:
    """Retire a service: status defunct, gone from lists, a tombstone in the feed (idempotent).

    It stays readable at /services/{id}, so referrals that name it can still show what it was.
    """
    repository = ServiceRepository(session)
    existing = await stored_record("service", repository.get, service_id)
    if existing.retired_at is not None:
        return existing
    now = datetime.now(UTC)
    await repository.save({"id": service_id, "status": "defunct"}, exists=True)
    await rendering.refresh_services(session, [service_id], now)
    await repository.save({"id": service_id, "retired_at": now}, exists=True)
    await repository.remove_facts(service_id)
    await ChangeRepository(session).record("service", [service_id], "deleted", now)
    return await written(repository.get, service_id)


async def assure_service(
    session: AsyncSession, service_id: str, assurer_email: str | None, assured_on: date
) -> StoredService:
    """Record that a service's entry was checked on `assured_on` (and by whom)."""
    repository = ServiceRepository(session)
    existing = await stored_record("service", repository.get, service_id)
    if existing.retired_at is not None:
        raise Conflict(f"service {service_id} is retired", expression="id")
    content = orjson.loads(existing.content)
    content["assured_date"] = assured_on.isoformat()
    if assurer_email:
        content["assurer_email"] = assurer_email
    now = datetime.now(UTC)
    await repository.save(
        {"id": service_id, "assured_on": assured_on, "content": orjson.dumps(content).decode()},
        exists=True,
    )
    await rendering.refresh_services(session, [service_id], now)
    return await written(repository.get, service_id)


async def read_service(session: AsyncSession, service_id: str) -> StoredService:
    return await stored_record("service", ServiceRepository(session).get, service_id)


async def _save_nested(session: AsyncSession, payload: ServiceIn) -> None:
    """Imports carry the organisation, locations and terms inside the service: save them."""
    if payload.organization is not None:
        await ORGANIZATIONS.save(session, payload.organization, WriteMode.UPSERT)
    for link in payload.service_at_locations or []:
        if link.location is not None:
            await LOCATIONS.save(session, link.location, WriteMode.UPSERT)
    for attribute in payload.attributes or []:
        if attribute.taxonomy_term is not None:
            await save_term(session, attribute.taxonomy_term, WriteMode.UPSERT)


async def _check_references(session: AsyncSession, payload: ServiceIn) -> None:
    organizations = OrganizationRepository(session)
    await live_reference("organization", organizations.get, payload.provider_id, "organization_id")
    location_ids = [link.target_location_id for link in payload.service_at_locations or []]
    locations = await LocationRepository(session).many(location_ids)
    for index, location_id in enumerate(location_ids):
        element = f"service_at_locations[{index}].location_id"
        require_live("location", locations.get(location_id), location_id, element)
    term_ids = [attribute.term_id for attribute in payload.attributes or []]
    terms = await TaxonomyRepository(session).terms(term_ids)
    seen: set[str] = set()
    for index, term_id in enumerate(term_ids):
        element = f"attributes[{index}].taxonomy_term_id"
        require_live("taxonomy_term", terms.get(term_id), term_id, element)
        if term_id in seen:
            raise Unprocessable(f"taxonomy_term {term_id} is attached twice", expression=element)
        seen.add(term_id)


async def search_services(
    session: AsyncSession, search: ServiceFilter, page: Page, *, full: bool
) -> tuple[int, list[Hit]]:
    return await ServiceRepository(session).search(search, page, full=full)


async def list_minimal(session: AsyncSession, search: ServiceFilter) -> list[tuple[str, datetime]]:
    """Every matching id with its last_modified (ORUK `minimal=true`)."""
    return await ServiceRepository(session).minimal(search)


async def search_at_locations(
    session: AsyncSession, search: ServiceFilter, page: Page, *, full: bool
) -> tuple[int, list[dict[str, Any]]]:
    """ORUK service_at_location list items (location and service nested, distance if asked)."""
    return await reading.service_at_locations(session, search, page, full=full)


async def read_service_at_location(session: AsyncSession, link_id: str) -> dict[str, Any]:
    """One service_at_location of a live service, with its location and its service nested."""
    document = await reading.service_at_location(session, link_id)
    if document is None:
        raise NotFound(f"no service_at_location with id {link_id}", expression="id")
    return document
