"""A synthetic Consent for the OpenAPI document and the docs (no real person)."""

from typing import Any

from signpost_schemas import systems
from signpost_schemas.fhir import profiles
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

STORED_ID = "7c2d9e4f-1a3b-4c5d-8e6f-0a1b2c3d4e5f"
STORED: dict[str, Any] = {
    "resourceType": "Consent",
    "id": STORED_ID,
    "meta": {
        "versionId": "1",
        "lastUpdated": "2026-11-02T10:16:02.114Z",
        "profile": [profiles.CONSENT_PROFILE],
    },
    **{key: value for key, value in CONSENT.items() if key != "resourceType"},
    "policyRule": {
        "coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTIN"}]
    },
}
SEARCHSET: dict[str, Any] = {
    "resourceType": "Bundle",
    "type": "searchset",
    "total": 1,
    "link": [
        {
            "relation": "self",
            "url": "https://referral.signpost.example/fhir/Consent?patient.identifier=9434765919",
        }
    ],
    "entry": [
        {
            "fullUrl": f"https://referral.signpost.example/fhir/Consent/{STORED_ID}",
            "resource": STORED,
            "search": {"mode": "match"},
        }
    ],
}
