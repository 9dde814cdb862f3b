"""Re-rendering the services a change shows in, from their content and everything they nest.

Called whenever a service, or an organisation, location or taxonomy term nested in it, changes:
the service's `last_modified` moves on, its documents are re-rendered and it re-enters the
change feed, so `modified_after` and feed consumers see every change that shows in the service.
"""

from collections.abc import Sequence
from datetime import datetime

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from directory_api.changes.repository import ChangeRepository
from directory_api.documents.facts import service_facts
from directory_api.documents.fhir import healthcare_service_resource
from directory_api.documents.oruk import (
    attribute_document,
    link_document,
    service_document,
    service_summary,
)
from directory_api.locations.repository import LocationRepository
from directory_api.organizations.repository import OrganizationRepository
from directory_api.services.repository import ServiceRepository
from directory_api.taxonomy.repository import TaxonomyRepository


async def refresh_services(
    session: AsyncSession, service_ids: Sequence[str], now: datetime
) -> None:
    """Re-render the live services `service_ids` and move them to the end of the feed."""
    ids = list(dict.fromkeys(service_ids))
    if not ids:
        return
    services = ServiceRepository(session)
    stored = [s for s in await services.many(ids) if s.retired_at is None]
    if not stored:
        return
    links = await services.links_of([s.id for s in stored])
    attributes = await services.attributes_of([s.id for s in stored])
    organizations = await OrganizationRepository(session).many([s.organization_id for s in stored])
    locations = await LocationRepository(session).many(
        [link.location_id for rows in links.values() for link in rows]
    )
    taxonomy = TaxonomyRepository(session)
    terms = await taxonomy.terms([a.taxonomy_term_id for rows in attributes.values() for a in rows])
    taxonomies = await taxonomy.taxonomies([t.taxonomy_id for t in terms.values() if t.taxonomy_id])
    taxonomy_uris = {t.id: t.uri for t in taxonomies.values() if t.uri}

    for service in stored:
        organization = orjson.loads(organizations[service.organization_id].document)
        link_documents = [
            link_document(service.id, link, orjson.loads(locations[link.location_id].document))
            for link in links.get(service.id, [])
        ]
        attribute_documents = [
            attribute_document(service.id, a, orjson.loads(terms[a.taxonomy_term_id].document))
            for a in attributes.get(service.id, [])
        ]
        document = service_document(
            service,
            orjson.loads(service.content),
            organization,
            link_documents,
            attribute_documents,
            now,
        )
        summary = service_summary(document, organization)
        fhir = healthcare_service_resource(document, now, taxonomy_uris)
        facts = service_facts(document)
        await services.save(
            {
                "id": service.id,
                "document": orjson.dumps(document).decode(),
                "summary": orjson.dumps(summary).decode(),
                "fhir_resource": orjson.dumps(fhir).decode(),
                "search_text": facts.search_text,
                "free_of_charge": facts.free_of_charge,
                "version": service.version + 1,
                "last_modified_at": now,
            },
            exists=True,
        )
        await services.replace_facts(service.id, facts)
    await ChangeRepository(session).record("service", [s.id for s in stored], "updated", now)


async def refresh_terms_of_taxonomy(session: AsyncSession, taxonomy_id: str, now: datetime) -> None:
    """Terms carry their taxonomy's name: re-render them (and the services that nest them)."""
    repository = TaxonomyRepository(session)
    for term in await repository.terms_of_taxonomy(taxonomy_id):
        document = orjson.loads(term.document)
        taxonomy = await repository.get_taxonomy(term.taxonomy_id) if term.taxonomy_id else None
        if taxonomy:
            document["taxonomy"] = taxonomy.name
        await repository.save_term(
            {"id": term.id, "document": orjson.dumps(document).decode(), "last_modified_at": now},
            exists=True,
        )
        await ChangeRepository(session).record("taxonomy_term", [term.id], "updated", now)
        users = await repository.services_using_terms([term.id], live_only=True)
        await refresh_services(session, users, now)
