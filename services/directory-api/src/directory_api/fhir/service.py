"""FHIR searches over the directory: parsed FHIR parameters → the directory's filters."""

from collections.abc import Sequence
from datetime import timedelta
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from directory_api.locations.repository import LocationRepository, StoredLocation
from directory_api.organizations.repository import OrganizationRepository, StoredOrganization
from directory_api.services.repository import ServiceRepository
from directory_api.services.search import Hit, Page, Point, ServiceFilter
from directory_api.taxonomy.repository import TaxonomyRepository
from signpost_platform.errors import NotFound
from signpost_platform.fhir.search import DateRange, Token


async def search_healthcare_services(
    session: AsyncSession,
    *,
    service_types: list[list[Token]],
    name_starts: str | None,
    name_contains: str | None,
    near: tuple[Point, float] | None,
    active: bool | None,
    last_updated: list[DateRange],
    page: Page,
    ids: list[list[str]] | None = None,
) -> tuple[int, list[Hit]]:
    """HealthcareService search: occurrences of service-type AND, values within one OR."""
    search = ServiceFilter(name_starts=name_starts, name_contains=name_contains, fhir_active=active)
    search.id_sets = [set(values) for values in ids or []]
    taxonomy = TaxonomyRepository(session)
    for occurrence in service_types:
        terms: set[str] = set()
        for token in occurrence:
            found = (
                await taxonomy.find_terms_by_system(token.system, token.code)
                if token.system
                else await taxonomy.find_terms(token.code)
            )
            terms |= await taxonomy.with_descendants(found)
        if not terms:
            search.impossible = True
        search.term_sets.append(terms)
    if near is not None:
        search.point, search.radius_metres = near
    for bounds in last_updated:
        if bounds.prefix == "eq":
            search.modified_bounds += [("ge", bounds.start), ("lt", bounds.end)]
        elif bounds.prefix in ("gt", "le"):
            # gt/le compare against the end of the given period.
            search.modified_bounds.append((bounds.prefix, bounds.end - timedelta(microseconds=1)))
        else:
            search.modified_bounds.append((bounds.prefix, bounds.start))
    return await ServiceRepository(session).search(search, page, full=True, fhir=True)


async def read_healthcare_service(session: AsyncSession, service_id: str) -> str:
    stored = await ServiceRepository(session).get(service_id)
    if stored is None:
        raise NotFound(
            f"no HealthcareService with id {service_id}", expression="HealthcareService.id"
        )
    return stored.fhir_resource


# The records served as FHIR resources of the same name, searched by name, id and last update.
NamedKind = Literal["Location", "Organization"]
_NAMED_RECORDS: dict[NamedKind, type[LocationRepository] | type[OrganizationRepository]] = {
    "Location": LocationRepository,
    "Organization": OrganizationRepository,
}


async def search_named(
    session: AsyncSession,
    kind: NamedKind,
    name: str | None,
    count: int,
    offset: int,
    *,
    ids: list[list[str]],
    last_updated: list[DateRange],
) -> tuple[int, Sequence[StoredLocation | StoredOrganization]]:
    """A page of live locations or organisations (`kind`), by name, id and last update."""
    return await _NAMED_RECORDS[kind](session).search(
        name, count, offset, ids=ids, last_updated=last_updated
    )


async def read_named(session: AsyncSession, kind: NamedKind, record_id: str) -> str:
    """The FHIR resource of a live location or organisation (`kind`)."""
    stored = await _NAMED_RECORDS[kind](session).get(record_id)
    if stored is None or stored.retired_at is not None:
        raise NotFound(f"no {kind} with id {record_id}", expression=f"{kind}.id")
    return stored.fhir_resource
