"""Synthetic examples of a service-use count for the OpenAPI document."""

from typing import Any

from signpost_schemas import systems
from signpost_schemas.fhir import profiles

REFERRAL_ID = "2f1c6a0e-4b7d-4c1e-9f3a-0d5b8e7c6a21"
OBSERVATION_ID = "5b0f2d8e-7c1a-5e43-9b6d-2a4c8e1f3b57"

SERVICE_USE: dict[str, Any] = {
    "resourceType": "Observation",
    "id": "gp-use-before-0001",
    "status": "final",
    "basedOn": [{"reference": f"ServiceRequest/{REFERRAL_ID}"}],
    "code": {
        "coding": [
            {
                "system": profiles.SERVICE_USE,
                "code": "gp-appointments",
                "display": "GP appointments attended",
            }
        ]
    },
    "subject": {"identifier": {"system": systems.NHS_NUMBER, "value": "9434765919"}},
    "effectivePeriod": {"start": "2026-04-01", "end": "2026-09-30"},
    "valueInteger": 9,
}

SERVED: dict[str, Any] = {
    "resourceType": "Observation",
    "id": OBSERVATION_ID,
    "meta": {
        "versionId": "1",
        "lastUpdated": "2026-10-02T09:00:00.000Z",
        "profile": [profiles.SERVICE_USE_PROFILE],
    },
    "status": "final",
    "basedOn": [{"reference": f"ServiceRequest/{REFERRAL_ID}", "type": "ServiceRequest"}],
    "code": SERVICE_USE["code"],
    "subject": {
        "type": "Patient",
        "identifier": {"system": systems.NHS_NUMBER, "value": "9434765919"},
    },
    "effectivePeriod": SERVICE_USE["effectivePeriod"],
    "valueInteger": 9,
    "identifier": [{"system": profiles.SENDER_RESOURCE_ID, "value": "gp-use-before-0001"}],
}

OPERATION_OUTCOME: dict[str, Any] = {
    "resourceType": "OperationOutcome",
    "issue": [
        {
            "severity": "error",
            "code": "value",
            "diagnostics": "the count 900 is out of range: a whole number from 0 to 500",
            "expression": ["Observation.valueInteger"],
        }
    ],
}
