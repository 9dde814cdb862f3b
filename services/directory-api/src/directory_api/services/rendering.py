"""Rendering a service's documents and search facts from its content and everything it nests.

Called whenever a service, or an organisation, location or taxonomy term nested in it, changes:
the service's `last_modified` moves on, its documents are re-rendered and it re-enters the
change feed, so `modified_after` and feed consumers see every change that shows in the service.
"""

import re
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from directory_api.changes.repository import ChangeRepository
from directory_api.documents import one_to_one, ordered, timestamp
from directory_api.fhir.mapping import healthcare_service_resource
from directory_api.locations.repository import LocationRepository
from directory_api.organizations.repository import OrganizationRepository
from directory_api.services.repository import ServiceFacts, ServiceRepository, StoredService
from directory_api.services.schemas import byday_weekdays, clock_minutes
from directory_api.taxonomy.repository import TaxonomyRepository
from signpost_platform.errors import PreconditionFailed

_GSS_CODE = re.compile(r"^[EWSN][0-9]{8}$")
_SERVICE_ORDER = [
    "id",
    "organization_id",
    "name",
    "alternate_name",
    "description",
    "url",
    "email",
    "status",
    "fees",
    "fees_description",
    "accreditations",
    "eligibility_description",
    "application_process",
    "interpretation_services",
    "minimum_age",
    "maximum_age",
    "assured_date",
    "assurer_email",
    "alert",
    "accepts_self_referral",
    "last_modified",
]


def stale(kind: str, current: int, expected: int) -> PreconditionFailed:
    return PreconditionFailed(
        f"If-Match names version {expected} of this {kind} but the current version is "
        f"{current}: read it again and reapply the change",
        expression="If-Match",
    )


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
        link_documents = []
        for link in links.get(service.id, []):
            location = orjson.loads(locations[link.location_id].document)
            link_documents.append(
                ordered(
                    {
                        "id": link.id,
                        "service_id": service.id,
                        "location_id": link.location_id,
                        **orjson.loads(link.content),
                        "location": location,
                    },
                    ["id", "service_id", "location_id"],
                )
            )
        attribute_documents = [
            {
                "id": a.id,
                "link_id": service.id,
                "link_type": a.link_type or "service_type",
                "link_entity": "service",
                "taxonomy_term_id": a.taxonomy_term_id,
                "taxonomy_term": orjson.loads(terms[a.taxonomy_term_id].document),
            }
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
        summary = {**one_to_one(document), "organization": one_to_one(organization)}
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


def service_document(
    service: StoredService,
    content: dict[str, Any],
    organization: dict[str, Any],
    links: list[dict[str, Any]],
    attributes: list[dict[str, Any]],
    last_modified: datetime,
) -> dict[str, Any]:
    """The fully nested ORUK service."""
    document: dict[str, Any] = {
        "id": service.id,
        "organization_id": service.organization_id,
        **content,
        "status": service.status,
        "last_modified": timestamp(last_modified),
    }
    if links:
        document["service_at_locations"] = links
    if attributes:
        document["attributes"] = attributes
    document["organization"] = organization
    return ordered(document, _SERVICE_ORDER)


def service_facts(document: dict[str, Any]) -> ServiceFacts:
    """The filterable facts of a rendered service (see docs/directory.md for each rule)."""
    schedules = list(document.get("schedules", []))
    location_types = []
    places = []
    for link in document.get("service_at_locations", []):
        schedules += link.get("schedules", [])
        location = link["location"]
        location_types.append(location["location_type"])
        if "latitude" in location and "longitude" in location:
            places.append((link["id"], location["id"], location["latitude"], location["longitude"]))
    attending = " ".join(s.get("attending_type", "") for s in schedules).lower()
    has_phone = bool(document.get("phones")) or any(
        contact.get("phones") for contact in document.get("contacts", [])
    )
    modes = []
    if "physical" in location_types or "in person" in attending or "in-person" in attending:
        modes.append("in_person")
    if has_phone or "phone" in attending:
        modes.append("phone")
    if "virtual" in location_types or "online" in attending or "virtual" in attending:
        modes.append("online")
    today = date.today().isoformat()
    openings = set()
    for schedule in schedules:
        if "byday" not in schedule or schedule.get("valid_to", "9999") < today:
            continue
        opens = clock_minutes(schedule["opens_at"]) if "opens_at" in schedule else 0
        closes = clock_minutes(schedule["closes_at"]) if "closes_at" in schedule else 24 * 60
        for weekday in byday_weekdays(schedule["byday"]):
            openings.add((weekday, opens, closes))
    area_codes = set()
    for area in document.get("service_areas", []):
        for part in re.split(r"[/#]", area.get("uri", "")):
            if _GSS_CODE.match(part):
                area_codes.add(part)
    words = (
        document.get("name"),
        document.get("alternate_name"),
        document.get("description"),
        document.get("organization", {}).get("name"),
    )
    return ServiceFacts(
        search_text=" ".join(w for w in words if w).lower(),
        free_of_charge=not any(c.get("amount", 0) > 0 for c in document.get("cost_options", [])),
        languages=sorted(
            {lang["code"] for lang in document.get("languages", []) if "code" in lang}
        ),
        delivery_modes=modes,
        openings=sorted(openings),
        area_codes=sorted(area_codes),
        places=sorted(set(places)),
    )
