"""ORUK documents → UK Core shaped FHIR R4 resources (rendered when a record changes).

Mapping after the HSDS → FHIR table in the HL7 Human Services Directory IG: service →
HealthcareService, organization → Organization, location → Location.
"""

from datetime import datetime
from typing import Any

from directory_api.documents.shape import without_empties
from directory_api.services.schemas import WEEKDAYS
from signpost_platform.fhir.responses import instant
from signpost_schemas import systems

UK_CORE = "https://fhir.hl7.org.uk/StructureDefinition"
SERVICE_IDENTIFIER = f"{systems.LOCAL_BASE}/Id/directory-service"
ORGANIZATION_IDENTIFIER = f"{systems.LOCAL_BASE}/Id/directory-organization"
LOCATION_IDENTIFIER = f"{systems.LOCAL_BASE}/Id/directory-location"
SERVICE_PROVISION = "http://terminology.hl7.org/CodeSystem/service-provision-conditions"
LANGUAGE = "urn:ietf:bcp:47"
ASSURED_DATE_EXTENSION = f"{systems.LOCAL_BASE}/StructureDefinition/directory-assured-date"
SELF_REFERRAL_EXTENSION = (
    f"{systems.LOCAL_BASE}/StructureDefinition/directory-accepts-self-referral"
)
_FHIR_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# org-id.guide schemes that have an NHS identifier system of their own.
_SCHEME_SYSTEMS = {"GB-NHS": systems.ODS_ORGANIZATION, "GB-ODS": systems.ODS_ORGANIZATION}


def _meta(profile: str, last_modified: datetime) -> dict[str, Any]:
    return {"lastUpdated": instant(last_modified), "profile": [f"{UK_CORE}/{profile}"]}


def _telecom(document: dict[str, Any]) -> list[dict[str, Any]]:
    telecom = [
        {"system": "phone", "value": phone["number"], "use": "work"}
        for phone in document.get("phones", [])
    ]
    if "email" in document:
        telecom.append({"system": "email", "value": document["email"], "use": "work"})
    for key in ("url", "website"):
        if key in document:
            telecom.append({"system": "url", "value": document[key], "use": "work"})
    return telecom


def organization_resource(document: dict[str, Any], last_modified: datetime) -> dict[str, Any]:
    identifiers = [{"system": ORGANIZATION_IDENTIFIER, "value": document["id"]}]
    for identifier in document.get("organization_identifiers", []):
        scheme = identifier.get("identifier_scheme")
        system = _SCHEME_SYSTEMS.get(scheme or "") or (
            f"https://org-id.guide/list/{scheme}" if scheme else None
        )
        identifiers.append(without_empties({"system": system, "value": identifier["identifier"]}))
    return without_empties(
        {
            "resourceType": "Organization",
            "id": document["id"],
            "meta": _meta("UKCore-Organization", last_modified),
            "identifier": identifiers,
            "active": True,
            "name": document["name"],
            "alias": [document["alternate_name"]] if "alternate_name" in document else None,
            "telecom": _telecom(document),
            "partOf": {"reference": f"Organization/{document['parent_organization_id']}"}
            if "parent_organization_id" in document
            else None,
        }
    )


def location_resource(document: dict[str, Any], last_modified: datetime) -> dict[str, Any]:
    addresses = document.get("addresses", [])
    physical = [a for a in addresses if a.get("address_type") == "physical"] or addresses
    address = None
    if physical:
        first = physical[0]
        address = {
            "use": "work",
            "type": "physical",
            "line": [line for line in (first.get("address_1"), first.get("address_2")) if line],
            "city": first.get("city"),
            "district": first.get("state_province"),
            "postalCode": first.get("postal_code"),
            "country": first.get("country"),
        }
    virtual = document["location_type"] == "virtual"
    return without_empties(
        {
            "resourceType": "Location",
            "id": document["id"],
            "meta": _meta("UKCore-Location", last_modified),
            "identifier": [{"system": LOCATION_IDENTIFIER, "value": document["id"]}]
            + (
                [
                    {
                        "system": document.get("external_identifier_type") or "unknown",
                        "value": document["external_identifier"],
                    }
                ]
                if "external_identifier" in document
                else []
            ),
            "status": "active",
            "name": document.get("name"),
            "alias": [document["alternate_name"]] if "alternate_name" in document else None,
            "description": document.get("description"),
            "mode": "instance",
            "telecom": _telecom(document),
            "address": address,
            "physicalType": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/location-physical-type",
                        "code": "vi" if virtual else "bu",
                        "display": "Virtual" if virtual else "Building",
                    }
                ]
            },
            "position": {"latitude": document["latitude"], "longitude": document["longitude"]}
            if "latitude" in document and "longitude" in document
            else None,
            "managingOrganization": {"reference": f"Organization/{document['organization_id']}"}
            if "organization_id" in document
            else None,
        }
    )


def healthcare_service_resource(
    document: dict[str, Any], last_modified: datetime, taxonomy_uris: dict[str, str]
) -> dict[str, Any]:
    """A HealthcareService from a fully nested ORUK service; `taxonomy_uris` by taxonomy id."""
    status = document["status"]
    types = []
    for attribute in document.get("attributes", []):
        term = attribute.get("taxonomy_term", {})
        system = taxonomy_uris.get(term.get("taxonomy_id", ""))
        types.append(
            without_empties(
                {
                    "coding": [
                        {
                            "system": system,
                            "code": term.get("code") or term["id"],
                            "display": term.get("name"),
                        }
                    ],
                    "text": term.get("name"),
                }
            )
        )
    schedules = list(document.get("schedules", []))
    for link in document.get("service_at_locations", []):
        schedules += link.get("schedules", [])
    available = []
    for schedule in schedules:
        if "byday" not in schedule or "opens_at" not in schedule:
            continue
        days = sorted(
            {_FHIR_DAYS[WEEKDAYS.index(t.strip()[-2:])] for t in schedule["byday"].split(",")},
            key=_FHIR_DAYS.index,
        )
        available.append(
            {
                "daysOfWeek": days,
                "availableStartTime": _fhir_time(schedule["opens_at"]),
                "availableEndTime": _fhir_time(schedule["closes_at"]),
            }
        )
    eligibility_text = " ".join(
        part
        for part in (
            document.get("eligibility_description"),
            _age_text(document.get("minimum_age"), document.get("maximum_age")),
        )
        if part
    )
    extensions = []
    if "assured_date" in document:
        extensions.append({"url": ASSURED_DATE_EXTENSION, "valueDate": document["assured_date"]})
    if "accepts_self_referral" in document:
        extensions.append(
            {"url": SELF_REFERRAL_EXTENSION, "valueBoolean": document["accepts_self_referral"]}
        )
    free = not any(c.get("amount", 0) > 0 for c in document.get("cost_options", []))
    organization = document.get("organization", {})
    return without_empties(
        {
            "resourceType": "HealthcareService",
            "id": document["id"],
            "meta": _meta("UKCore-HealthcareService", last_modified),
            "extension": extensions,
            "identifier": [{"system": SERVICE_IDENTIFIER, "value": document["id"]}],
            "active": status in ("active", "temporarily closed"),
            "providedBy": {
                "reference": f"Organization/{document['organization_id']}",
                "display": organization.get("name"),
            },
            "type": types,
            "location": [
                {"reference": f"Location/{link['location_id']}"}
                for link in document.get("service_at_locations", [])
            ],
            "name": document["name"],
            "comment": document.get("description", "")[:250] or None,
            "extraDetails": document.get("description"),
            "telecom": _telecom(document),
            "coverageArea": [
                {"display": area.get("name") or area.get("service_area")}
                for area in document.get("service_areas", [])
                if area.get("name") or area.get("service_area")
            ],
            "serviceProvisionCode": [
                {"coding": [{"system": SERVICE_PROVISION, "code": "free" if free else "cost"}]}
            ],
            "eligibility": [{"comment": eligibility_text}] if eligibility_text else None,
            "communication": [
                {
                    "coding": [{"system": LANGUAGE, "code": language["code"]}],
                    "text": language.get("name"),
                }
                for language in document.get("languages", [])
                if "code" in language
            ],
            "referralMethod": [{"text": document["application_process"]}]
            if "application_process" in document
            else None,
            "availableTime": available,
            "notAvailable": [{"description": document.get("alert") or "Temporarily closed"}]
            if status == "temporarily closed"
            else None,
        }
    )


def _fhir_time(value: str) -> str:
    return value if len(value) == 8 else f"{value[:5]}:00"


def _age_text(minimum: float | None, maximum: float | None) -> str | None:
    if minimum is None and maximum is None:
        return None
    if maximum is None:
        return f"Ages {minimum:g} and over."
    if minimum is None:
        return f"Ages up to {maximum:g}."
    return f"Ages {minimum:g} to {maximum:g}."
