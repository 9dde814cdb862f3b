"""A synthetic Consent for the OpenAPI document and the docs (no real person)."""

from typing import Any

from signpost_schemas import systems
from signpost_schemas.fhir.consent import CONSENT_SCOPE, PATIENT_PRIVACY

CONSENT: dict[str, Any] = {
    "resourceType": "Consent",
    "status": "active",
    "scope": {"coding": [{"system": CONSENT_SCOPE, "code": PATIENT_PRIVACY}]},
    "category": [
        {"coding": [{"system": systems.LOINC, "code": "59284-0", "display": "Patient Consent"}]}
    ],
    "patient": {"identifier": {"system": systems.NHS_NUMBER, "value": "9434765919"}},
    "dateTime": "2026-11-02T10:15:00Z",
    "organization": [{"identifier": {"system": systems.ODS_ORGANIZATION, "value": "F84001"}}],
    "provision": {"type": "permit", "period": {"start": "2026-11-02T10:15:00Z"}},
}
