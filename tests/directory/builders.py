"""Builders for directory records: synthetic organisations, locations and services."""

import uuid
from typing import Any

from directory_api.seed.loader import SERVICE_TYPES_TAXONOMY, group_term_id, term_id
from signpost_schemas import systems


def new_id() -> str:
    return str(uuid.uuid4())


def service_type(code: str) -> str:
    """The id of a seeded service-type term (support-offered code list)."""
    return term_id(systems.SUPPORT_OFFERED, code)


def service_type_group(group: str) -> str:
    return group_term_id(SERVICE_TYPES_TAXONOMY, group)


def organization(**changes: Any) -> dict[str, Any]:
    body = {
        "id": new_id(),
        "name": "Forest Gate Community Trust (synthetic)",
        "description": "Community centre and advice in Forest Gate.",
        "email": "info@forestgate-trust.org.example",
        "website": "https://forestgate-trust.org.example",
    }
    body.update(changes)
    return body


def location(postcode: str = "E7 9NJ", **changes: Any) -> dict[str, Any]:
    body = {
        "id": new_id(),
        "location_type": "physical",
        "name": "Forest Gate community centre",
        "addresses": [
            {
                "address_1": "10 Woodgrange Road",
                "city": "London",
                "state_province": "Greater London",
                "postal_code": postcode,
                "country": "GB",
                "address_type": "physical",
            }
        ],
    }
    body.update(changes)
    return body


def service(organization_id: str, location_ids: list[str] = (), **changes: Any) -> dict[str, Any]:  # type: ignore[assignment]
    body: dict[str, Any] = {
        "id": new_id(),
        "organization_id": organization_id,
        "name": "Forest Gate money advice",
        "description": "Free help with debts and benefits.",
        "status": "active",
        "email": "money@forestgate-trust.org.example",
        "minimum_age": 18,
        "assured_date": "2026-10-01",
        "accepts_self_referral": True,
        "phones": [{"number": "020 7946 0123"}],
        "languages": [{"name": "English", "code": "en"}, {"name": "Somali", "code": "so"}],
        "schedules": [
            {"freq": "WEEKLY", "byday": "MO,TH", "opens_at": "09:30", "closes_at": "13:00"}
        ],
        "service_areas": [
            {
                "name": "Newham",
                "uri": "http://statistics.data.gov.uk/id/statistical-geography/E09000025",
            }
        ],
        "service_at_locations": [{"location_id": lid} for lid in location_ids],
        "attributes": [{"taxonomy_term_id": service_type("debt-advice")}],
    }
    body.update(changes)
    return body
