"""The referral a positive screen raises: a Signpost ServiceRequest for referral-api.

Role social prescribing link worker; source of referral "social welfare screening"; one reason
per flagged domain in question order (via the referral-reason code list); requester the clinic.
Its identifier is derived from the response, so every retry is the same conditional create.
"""

from datetime import datetime
from typing import Any

import orjson

from screening_api.questionnaires.tools import Screen
from signpost_platform.fhir.responses import instant
from signpost_schemas import codes, systems
from signpost_schemas.codes import Concept
from signpost_schemas.fhir.service_request import ServiceRequest

SCREENING_REFERRAL_IDENTIFIER = systems.SCREENING_RESPONSE
RECEIVING_ROLE = (systems.PERSONALISED_CARE_ROLE, "social-prescribing-link-worker")
SOURCE_OF_REFERRAL = (systems.SOURCE_OF_REFERRAL, "social-welfare-screening")
SOCIAL_SERVICE_PROCEDURE = (systems.SNOMED, "410606002")


def _coding(concept: Concept | None, what: str) -> dict[str, str]:
    assert concept is not None, f"{what} is missing from the shared code lists"
    return {"system": concept.system, "code": concept.code, "display": concept.display}


def referral_request(
    *, response_id: str, nhs_number: str, clinic_ods: str, screen: Screen, completed_at: datetime
) -> tuple[str, str]:
    """The ServiceRequest JSON to send and its identifier value, checked against our profile."""
    reasons: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for flag in screen.flags:
        if flag.referral_reason is None:
            continue
        key = (flag.referral_reason.system, flag.referral_reason.code)
        if key in seen:
            continue
        seen.add(key)
        reasons.append({"coding": [_coding(flag.referral_reason, "reason")], "text": flag.text})
    body: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "extension": [
            {
                "url": systems.SOURCE_OF_SERVICE_REQUEST_EXTENSION,
                "valueCodeableConcept": {
                    "coding": [
                        _coding(codes.sources_of_referral().get(*SOURCE_OF_REFERRAL), "source")
                    ]
                },
            }
        ],
        "identifier": [{"system": SCREENING_REFERRAL_IDENTIFIER, "value": response_id}],
        "status": "active",
        "intent": "order",
        "category": [
            {
                "coding": [
                    _coding(codes.screening_answers().get(*SOCIAL_SERVICE_PROCEDURE), "category")
                ]
            }
        ],
        "subject": {"identifier": {"system": systems.NHS_NUMBER, "value": nhs_number}},
        "authoredOn": instant(completed_at),
        "requester": {"identifier": {"system": systems.ODS_ORGANIZATION, "value": clinic_ods}},
        "performerType": {
            "coding": [_coding(codes.personalised_care_roles().get(*RECEIVING_ROLE), "role")]
        },
        "reasonCode": reasons,
    }
    ServiceRequest.model_validate(body)  # our own output must meet the profile referral-api checks
    return orjson.dumps(body).decode(), response_id
