"""Synthetic message examples for the OpenAPI document (no real person)."""

from typing import Any

from referral_api.referrals.examples import SERVICE_REQUEST
from signpost_schemas import systems
from signpost_schemas.fhir import profiles

MESSAGE: dict[str, Any] = {
    "resourceType": "Bundle",
    "id": "5b1d0c3e-7a51-4c39-9a55-2f0d6f3b9e10",
    "type": "message",
    "timestamp": "2026-11-02T09:31:00Z",
    "entry": [
        {
            "fullUrl": "urn:uuid:0b9e",
            "resource": {
                "resourceType": "MessageHeader",
                "eventCoding": {
                    "system": profiles.BARS_MESSAGE_EVENTS,
                    "code": "servicerequest-request",
                },
                "reason": {"coding": [{"system": profiles.BARS_MESSAGE_REASON, "code": "new"}]},
                "source": {"endpoint": "https://emis.example/bars", "software": "EMIS Web"},
                "focus": [{"reference": "urn:uuid:2f1c"}],
            },
        },
        {"fullUrl": "urn:uuid:2f1c", "resource": SERVICE_REQUEST},
        {
            "fullUrl": "urn:uuid:77aa",
            "resource": {
                "resourceType": "Patient",
                "identifier": [{"system": systems.NHS_NUMBER, "value": "9434765919"}],
                "gender": "female",
                "birthDate": "1961",
                "address": [{"postalCode": "E15 1DA"}],
                "generalPractitioner": [
                    {"identifier": {"system": systems.ODS_ORGANIZATION, "value": "F84001"}}
                ],
            },
        },
    ],
}

RESPONSE: dict[str, Any] = {
    "resourceType": "Bundle",
    "type": "message",
    "timestamp": "2026-11-02T09:31:01.204Z",
    "entry": [
        {
            "resource": {
                "resourceType": "MessageHeader",
                "eventCoding": {
                    "system": profiles.BARS_MESSAGE_EVENTS,
                    "code": "servicerequest-response",
                },
                "response": {"identifier": MESSAGE["id"], "code": "ok"},
                "focus": [{"reference": "http://localhost:8001/fhir/ServiceRequest/2f1c…"}],
            }
        },
        {
            "resource": {
                "resourceType": "OperationOutcome",
                "issue": [
                    {
                        "severity": "information",
                        "code": "informational",
                        "diagnostics": "message … applied to ServiceRequest/2f1c… "
                        "(Patient: 1 applied; ServiceRequest: 1 created)",
                    }
                ],
            }
        },
    ],
}

OPERATION_OUTCOME: dict[str, Any] = {
    "resourceType": "OperationOutcome",
    "issue": [
        {
            "severity": "error",
            "code": "business-rule",
            "diagnostics": "Bundle.entry[3].resource.period.start: 2026-10-28 is before the "
            "referral date 2026-11-02",
            "expression": ["Bundle.entry[3].resource.period.start"],
        }
    ],
}
