"""Documents assembled at read time from stored ones: nothing here renders a record again."""

from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from directory_api.documents.oruk import taxonomy_document
from directory_api.documents.shape import Document
from directory_api.locations.repository import LocationRepository
from directory_api.organizations.repository import OrganizationRepository, StoredOrganization
from directory_api.services.repository import ServiceRepository
from directory_api.services.search import Page, ServiceFilter
from directory_api.taxonomy.repository import StoredTaxonomy, TaxonomyRepository


async def organization_with_services(
    session: AsyncSession, stored: StoredOrganization, *, full_services: bool
) -> Document:
    """An organisation's document with its live services nested (list items or full)."""
    document: Document = orjson.loads(stored.document)
    _, hits = await ServiceRepository(session).search(
        ServiceFilter(organization_ids=[stored.id]), Page(1, None), full=full_services
    )
    if hits:
        document["services"] = [orjson.loads(hit.body) for hit in hits]
    return document


async def taxonomy_with_terms(session: AsyncSession, stored: StoredTaxonomy) -> Document:
    """A taxonomy with its live terms nested."""
    document = taxonomy_document(stored)
    if terms := await TaxonomyRepository(session).terms_of_taxonomy(stored.id):
        document["taxonomy_terms"] = [orjson.loads(term.document) for term in terms]
    return document


async def service_at_locations(
    session: AsyncSession, search: ServiceFilter, page: Page, *, full: bool
) -> tuple[int, list[Document]]:
    """ORUK service_at_location list items (location and service nested, distance if asked)."""
    total, rows = await ServiceRepository(session).search_at_locations(search, page, full=full)
    items = []
    for hit, link_id, link_content, location in rows:
        location_document = orjson.loads(location)
        item: Document = {
            "id": link_id,
            "service_id": hit.id,
            "location_id": location_document["id"],
            **orjson.loads(link_content),
            "location": location_document,
            "service": orjson.loads(hit.body),
        }
        if hit.distance_metres is not None:
            item["distance"] = round(hit.distance_metres)
        items.append(item)
    return total, items


async def service_at_location(session: AsyncSession, link_id: str) -> Document | None:
    """One service_at_location of a live service, with its location and its service nested."""
    found = await ServiceRepository(session).link_by_id(link_id)
    if found is not None:
        service_document = orjson.loads(found)
        for link in service_document.get("service_at_locations", []):
            if link["id"] == link_id:
                service = {k: v for k, v in service_document.items() if k != "service_at_locations"}
                return {**link, "service": service}
    return None


async def current_documents(
    session: AsyncSession, wanted: Mapping[str, Sequence[str]]
) -> dict[tuple[str, str], Any]:
    """The current document of each record, by (kind, id), for the `wanted` ids of each kind."""
    found: dict[tuple[str, str], Any] = {}
    if ids := wanted.get("service"):
        for service in await ServiceRepository(session).many(ids):
            found[("service", service.id)] = orjson.loads(service.document)
    if ids := wanted.get("organization"):
        for oid, organization in (await OrganizationRepository(session).many(ids)).items():
            found[("organization", oid)] = orjson.loads(organization.document)
    if ids := wanted.get("location"):
        for lid, location in (await LocationRepository(session).many(ids)).items():
            found[("location", lid)] = orjson.loads(location.document)
    taxonomy = TaxonomyRepository(session)
    if ids := wanted.get("taxonomy"):
        for tid, stored in (await taxonomy.taxonomies(ids)).items():
            found[("taxonomy", tid)] = taxonomy_document(stored)
    if ids := wanted.get("taxonomy_term"):
        for tid, term in (await taxonomy.terms(ids)).items():
            found[("taxonomy_term", tid)] = orjson.loads(term.document)
    return found
