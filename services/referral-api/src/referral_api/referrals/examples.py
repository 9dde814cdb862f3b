"""Synthetic examples for the OpenAPI document and the README (no real person)."""

from typing import Any

from signpost_schemas import systems

# 9434765919 is a published synthetic test NHS number.
SERVICE_REQUEST: dict[str, Any] = {
    "resourceType": "ServiceRequest",
    "identifier": [{"system": "https://emis.example/referral-id", "value": "EMIS-2026-000123"}],
    "extension": [
        {
            "url": systems.SOURCE_OF_SERVICE_REQUEST_EXTENSION,
            "valueCodeableConcept": {
                "coding": [
                    {
                        "system": systems.SNOMED,
                        "code": "108161000000109",
                        "display": "Referred by general practitioner",
                    }
                ]
            },
        }
    ],
    "status": "active",
    "intent": "order",
    "subject": {"identifier": {"system": systems.NHS_NUMBER, "value": "9434765919"}},
    "authoredOn": "2026-11-02T09:30:00Z",
    "requester": {"identifier": {"system": systems.ODS_ORGANIZATION, "value": "F84001"}},
    "performerType": {
        "coding": [
            {
                "system": systems.PERSONALISED_CARE_ROLE,
                "code": "social-prescribing-link-worker",
                "display": "Social prescribing link worker",
            }
        ]
    },
    "reasonCode": [
        {
            "coding": [
                {"system": systems.SNOMED, "code": "105531004", "display": "Housing unsatisfactory"}
            ],
            "text": "Damp flat, two children",
        },
        {
            "coding": [
                {"system": systems.SNOMED, "code": "160932005", "display": "Financial problem"}
            ]
        },
        {
            "coding": [
                {"system": systems.SNOMED, "code": "422650009", "display": "Social isolation"}
            ]
        },
    ],
}

OPERATION_OUTCOME: dict[str, Any] = {
    "resourceType": "OperationOutcome",
    "issue": [
        {
            "severity": "error",
            "code": "code-invalid",
            "diagnostics": "ServiceRequest.reasonCode[1]: each reasonCode must carry a coding "
            "from the referral-reasons value set (got http://snomed.info/sct|123)",
            "expression": ["ServiceRequest.reasonCode[1]"],
        }
    ],
}
