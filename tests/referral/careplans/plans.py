"""Builders of care and support plans for the tests (synthetic people and staff only)."""

import copy
from typing import Any

import httpx

from signpost_schemas import systems
from signpost_schemas.fhir import profiles
from tests.referral.conftest import WRITE
from tests.support.builders import service_request

STAFF = "https://emis.example/Id/staff"
LINK_WORKERS = "Y02001"
COACHES = "Y02002"


def performer(ods: str) -> list[dict[str, Any]]:
    return [
        {"type": "Organization", "identifier": {"system": systems.ODS_ORGANIZATION, "value": ods}}
    ]


async def referral(
    client: httpx.AsyncClient,
    identifier: str,
    *,
    receiver: str = LINK_WORKERS,
    role: str = "social-prescribing-link-worker",
    **extra: Any,
) -> str:
    body = service_request(identifier=identifier, performer=performer(receiver), role=role, **extra)
    response = await client.post("/fhir/ServiceRequest", json=body, headers=WRITE)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def review(**parts: str) -> dict[str, Any]:
    return {
        "url": profiles.CARE_PLAN_REVIEW_EXTENSION,
        "extension": [{"url": url, "valueDate": value} for url, value in parts.items()],
    }


def care_plan(referral_id: str, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": "CarePlan",
        "contained": [
            {
                "resourceType": "Goal",
                "id": "goal-1",
                "lifecycleStatus": "active",
                "description": {
                    "coding": [{"system": systems.SNOMED, "code": "422650009"}],
                    "text": "See friends every week",
                },
            }
        ],
        "extension": [
            review(nextReview="2027-04-01"),
            {
                "url": profiles.AUTHOR_ROLE_EXTENSION,
                "valueCoding": {
                    "system": systems.PERSONALISED_CARE_ROLE,
                    "code": "social-prescribing-link-worker",
                },
            },
        ],
        "basedOn": [{"reference": f"ServiceRequest/{referral_id}"}],
        "status": "active",
        "intent": "plan",
        "description": "My garden, and getting out to see people.",
        "created": "2026-12-01T10:00:00Z",
        "period": {"start": "2026-12-01"},
        "author": {"type": "Practitioner", "identifier": {"system": STAFF, "value": "LW-0042"}},
        "goal": [{"reference": "#goal-1"}],
        "activity": [
            {
                "detail": {
                    "code": {
                        "coding": [
                            {"system": systems.SUPPORT_OFFERED, "code": "community-group-activity"}
                        ]
                    },
                    "status": "scheduled",
                    "scheduledPeriod": {"start": "2026-12-08"},
                    "description": "Tuesday walking group",
                }
            }
        ],
    }
    body.update(copy.deepcopy(changes))
    return body


def review_due(plan: dict[str, Any]) -> tuple[str, str]:
    """(due, dueBasis) of a served plan."""
    (extension,) = [e for e in plan["extension"] if e["url"] == profiles.CARE_PLAN_REVIEW_EXTENSION]
    parts = {part["url"]: part for part in extension["extension"]}
    return parts["due"]["valueDate"], parts["dueBasis"]["valueCode"]


def issues(outcome: dict[str, Any]) -> list[tuple[str, str]]:
    """(severity, first expression) of each issue of an OperationOutcome."""
    return [(i["severity"], (i.get("expression") or [""])[0]) for i in outcome["issue"]]
