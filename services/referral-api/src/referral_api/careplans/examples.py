"""Synthetic CarePlan examples for the OpenAPI document (a published test NHS number)."""

from typing import Any

from signpost_schemas import systems
from signpost_schemas.fhir import profiles

EXAMPLE_ID = "7b0f3c1e-2d4a-4f6b-8c9d-1e2f3a4b5c6d"
REFERRAL_ID = "2f1c6a0e-4b7d-4c1e-9f3a-0d5b8e7c6a21"

CARE_PLAN: dict[str, Any] = {
    "resourceType": "CarePlan",
    "contained": [
        {
            "resourceType": "Goal",
            "id": "goal-1",
            "lifecycleStatus": "active",
            "description": {
                "coding": [
                    {
                        "system": systems.SNOMED,
                        "code": "422650009",
                        "display": "Social isolation",
                    }
                ],
                "text": "Meet people nearby every week",
            },
            "target": [{"dueDate": "2027-03-31"}],
        }
    ],
    "extension": [
        {
            "url": profiles.CARE_PLAN_REVIEW_EXTENSION,
            "extension": [{"url": "nextReview", "valueDate": "2027-04-01"}],
        },
        {
            "url": profiles.AUTHOR_ROLE_EXTENSION,
            "valueCoding": {
                "system": systems.PERSONALISED_CARE_ROLE,
                "code": "social-prescribing-link-worker",
            },
        },
    ],
    "basedOn": [{"reference": f"ServiceRequest/{REFERRAL_ID}"}],
    "status": "active",
    "intent": "plan",
    "description": "Getting out of the house and seeing people again; my garden.",
    "subject": {
        "type": "Patient",
        "identifier": {"system": systems.NHS_NUMBER, "value": "9434765919"},
    },
    "period": {"start": "2026-12-01"},
    "created": "2026-12-01T10:00:00+00:00",
    "author": {
        "type": "Practitioner",
        "identifier": {"system": "https://emis.example/Id/staff", "value": "LW-0042"},
    },
    "goal": [{"reference": "#goal-1"}],
    "activity": [
        {
            "detail": {
                "code": {
                    "coding": [
                        {
                            "system": systems.SUPPORT_OFFERED,
                            "code": "community-group-activity",
                        }
                    ]
                },
                "status": "scheduled",
                "scheduledPeriod": {"start": "2026-12-08"},
                "description": "Try the Tuesday walking group",
            }
        }
    ],
}

SERVED: dict[str, Any] = {
    "resourceType": "CarePlan",
    "id": EXAMPLE_ID,
    "meta": {
        "versionId": "1",
        "lastUpdated": "2026-12-01T10:05:00Z",
        "profile": [profiles.CARE_PLAN_PROFILE],
    },
    **{key: value for key, value in CARE_PLAN.items() if key not in ("resourceType", "extension")},
    "basedOn": [{"reference": f"ServiceRequest/{REFERRAL_ID}", "type": "ServiceRequest"}],
    "extension": [
        CARE_PLAN["extension"][1],
        {
            "url": profiles.CARE_PLAN_REVIEW_EXTENSION,
            "extension": [
                {"url": "nextReview", "valueDate": "2027-04-01"},
                {"url": "due", "valueDate": "2027-04-01"},
                {"url": "dueBasis", "valueCode": "next-review"},
            ],
        },
    ],
}
