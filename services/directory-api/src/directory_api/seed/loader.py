"""Seeding: postcode sample, taxonomies from the shared code lists, the six roles, London sample.

Seeding only adds what is missing (by stable id), so curators' edits and retirements of seeded
records survive every restart. Ids are derived from names, so they are the same everywhere:
other services may keep the id of, say, the social prescribing link worker service.
"""

import copy
import json
from importlib import resources
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from directory_api.changes.repository import ChangeRepository
from directory_api.curation import WriteMode, derived_id
from directory_api.geography.repository import PostcodeRepository
from directory_api.locations.repository import LocationRepository
from directory_api.locations.schemas import LocationIn
from directory_api.locations.service import LOCATIONS
from directory_api.organizations.repository import OrganizationRepository
from directory_api.organizations.schemas import OrganizationIn
from directory_api.organizations.service import ORGANIZATIONS
from directory_api.services.repository import ServiceRepository
from directory_api.services.schemas import ServiceIn
from directory_api.services.service import save_service
from directory_api.taxonomy.repository import TaxonomyRepository
from directory_api.taxonomy.schemas import TaxonomyIn, TaxonomyTermIn
from directory_api.taxonomy.service import save_taxonomy, save_term
from signpost_schemas import codes, systems
from signpost_schemas.codes import CodeList
from signpost_schemas.geography import sample_postcode_lookup

NEEDS_TAXONOMY = derived_id("taxonomy", "needs")
SERVICE_TYPES_TAXONOMY = derived_id("taxonomy", "service-types")
ROLES_TAXONOMY = derived_id("taxonomy", "personalised-care-roles")


def term_id(system: str, code: str) -> str:
    """The stable id of the term for `(system, code)` of a shared code list."""
    return derived_id("taxonomy-term", system, code)


def group_term_id(taxonomy_id: str, group: str) -> str:
    return derived_id("taxonomy-term", taxonomy_id, "group", group)


def role_service_id(role_code: str) -> str:
    """The stable id of the directory service of one of the six roles."""
    return derived_id("service", "personalised-care-role", role_code)


def _data(name: str) -> dict[str, Any]:
    text = resources.files("directory_api").joinpath("data", name).read_text(encoding="utf-8")
    return json.loads(text)  # type: ignore[no-any-return]


async def load_sample_postcodes(session: AsyncSession) -> int:
    """Load the shipped sample lookup when the table is empty; returns rows loaded.

    Takes the writers' lock first: replicas starting together seed once, one after another.
    """
    await ChangeRepository(session).lock()
    repository = PostcodeRepository(session)
    if await repository.count():
        return 0
    areas = list(sample_postcode_lookup().values())
    await repository.replace(areas)
    await repository.refresh_districts()
    return len(areas)


async def seed_reference(session: AsyncSession) -> None:
    """Needs, service types and roles taxonomies, the needs → service types map, the six roles."""
    await ChangeRepository(session).lock()
    await _seed_code_list_taxonomy(
        session,
        NEEDS_TAXONOMY,
        "Signpost needs",
        "Needs and concerns a person is referred for (the referral-reasons code list), grouped "
        "in the buckets shared with service types.",
        f"{systems.LOCAL_BASE}/ValueSet/referral-reasons",
        codes.referral_reasons(),
    )
    await _seed_code_list_taxonomy(
        session,
        SERVICE_TYPES_TAXONOMY,
        "Signpost service types",
        "Types of support a service offers (the support-offered code list), grouped in the "
        "buckets shared with needs.",
        systems.SUPPORT_OFFERED,
        codes.support_offered(),
    )
    await _seed_code_list_taxonomy(
        session,
        ROLES_TAXONOMY,
        "Personalised-care roles",
        "The six personalised-care roles.",
        systems.PERSONALISED_CARE_ROLE,
        codes.personalised_care_roles(),
        grouped=False,
    )
    taxonomy = TaxonomyRepository(session)
    service_groups = {c.group for c in codes.support_offered()}
    for need in codes.referral_reasons():
        if need.group in service_groups:
            await taxonomy.map_need(
                term_id(need.system, need.code), [group_term_id(SERVICE_TYPES_TAXONOMY, need.group)]
            )
    await _seed_roles(session)


async def seed_sample_services(session: AsyncSession) -> int:
    """The synthetic London services (with their organisations and locations), if missing."""
    await ChangeRepository(session).lock()
    services = ServiceRepository(session)
    added = 0
    for fixture in _data("london-services.json")["services"]:
        if await services.get(fixture["id"]) is not None:
            continue
        document = copy.deepcopy(fixture)
        types = document.pop("service_types")
        document["attributes"] = [
            {
                "taxonomy_term_id": term_id(systems.SUPPORT_OFFERED, code),
                "link_type": "service_type",
            }
            for code in types
        ]
        await save_service(session, ServiceIn.model_validate(document), WriteMode.UPSERT)
        added += 1
    return added


async def _seed_code_list_taxonomy(
    session: AsyncSession,
    taxonomy_id: str,
    name: str,
    description: str,
    uri: str,
    code_list: CodeList,
    *,
    grouped: bool = True,
) -> None:
    repository = TaxonomyRepository(session)
    if await repository.get_taxonomy(taxonomy_id) is None:
        await save_taxonomy(
            session,
            TaxonomyIn(id=taxonomy_id, name=name, description=description, uri=uri),
            WriteMode.CREATE,
        )
    if grouped:
        for group in dict.fromkeys(c.group for c in code_list):
            group_id = group_term_id(taxonomy_id, group)
            if await repository.get_term(group_id) is None:
                label = group.replace("-", " ").capitalize()
                await save_term(
                    session,
                    TaxonomyTermIn(
                        id=group_id,
                        name=label,
                        description=f"{label} (group of {name.lower()})",
                        code=f"group:{group}",
                        taxonomy_id=taxonomy_id,
                    ),
                    WriteMode.CREATE,
                )
    for concept in code_list:
        concept_id = term_id(concept.system, concept.code)
        if await repository.get_term(concept_id) is not None:
            continue
        await save_term(
            session,
            TaxonomyTermIn(
                id=concept_id,
                name=concept.display,
                description=concept.notes.split(". ")[0][:1000] or concept.display,
                code=concept.code,
                parent_id=group_term_id(taxonomy_id, concept.group) if grouped else None,
                taxonomy_id=taxonomy_id,
                term_uri=f"http://snomed.info/id/{concept.code}"
                if concept.system == systems.SNOMED
                else f"{concept.system}/{concept.code}",
            ),
            WriteMode.CREATE,
        )


async def _seed_roles(session: AsyncSession) -> None:
    data = _data("roles.json")
    organizations = OrganizationRepository(session)
    locations = LocationRepository(session)
    services = ServiceRepository(session)
    for key, organization in data["organizations"].items():
        organization_id = derived_id("organization", "personalised-care", key)
        if await organizations.get(organization_id) is None:
            await ORGANIZATIONS.save(
                session,
                OrganizationIn(
                    id=organization_id,
                    name=organization["name"],
                    description=organization["description"],
                    email=organization["email"],
                    website=organization["website"],
                    phones=[{"number": organization["phone"]}],  # type: ignore[list-item]
                ),
                WriteMode.CREATE,
            )
        location_id = derived_id("location", "personalised-care", key)
        if await locations.get(location_id) is None:
            place = organization["location"]
            await LOCATIONS.save(
                session,
                LocationIn(
                    id=location_id,
                    location_type="physical",
                    name=place["name"],
                    organization_id=organization_id,
                    addresses=[{k: v for k, v in place.items() if k != "name"}],  # type: ignore[list-item]
                ),
                WriteMode.CREATE,
            )
    for role in codes.personalised_care_roles():
        service_id = role_service_id(role.code)
        if await services.get(service_id) is not None:
            continue
        details = data["roles"][role.code]
        organization_key = details["organization"]
        organization_id = derived_id("organization", "personalised-care", organization_key)
        phone = data["organizations"][organization_key]["phone"]
        await save_service(
            session,
            ServiceIn.model_validate(
                {
                    "id": service_id,
                    "organization_id": organization_id,
                    "name": role.display,
                    "description": details["description"],
                    "status": "active",
                    "eligibility_description": details["eligibility_description"],
                    "application_process": details["application_process"],
                    "accepts_self_referral": details["accepts_self_referral"],
                    "minimum_age": details["minimum_age"],
                    "phones": [{"number": phone}],
                    "languages": [{"name": "English", "code": "en"}],
                    "service_areas": [
                        {
                            "name": "Newham",
                            "service_area": "Newham",
                            "uri": "http://statistics.data.gov.uk/id/statistical-geography/E09000025",
                        }
                    ],
                    "schedules": [
                        {
                            "freq": "WEEKLY",
                            "byday": details["days"],
                            "opens_at": details["opens_at"],
                            "closes_at": details["closes_at"],
                        }
                    ],
                    "service_at_locations": [
                        {
                            "location_id": derived_id(
                                "location", "personalised-care", organization_key
                            ),
                        }
                    ],
                    "attributes": [
                        {"taxonomy_term_id": term_id(role.system, role.code), "link_type": "role"},
                        *(
                            {
                                "taxonomy_term_id": term_id(systems.SUPPORT_OFFERED, code),
                                "link_type": "service_type",
                            }
                            for code in details["service_types"]
                        ),
                    ],
                }
            ),
            WriteMode.CREATE,
        )
