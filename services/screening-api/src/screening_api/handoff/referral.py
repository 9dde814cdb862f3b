"""The referral a positive screen raises, as the message screening-api sends referral-api.

A BaRS-shaped `$process-message` Bundle (event servicerequest-request, reason new), because a
message is how referral-api takes the person's demographics (a Patient) with the referral:

- the ServiceRequest: role social prescribing link worker; source of referral "social welfare
  screening"; one reason per flagged domain in question order (via the referral-reason code
  list); requester the clinic; performer the clinic's social-prescribing team (the receiving
  organisation, from `SCREENING_REFERRAL_ROUTES`), when the clinic has a route; `authoredOn`
  when the screen was given; priority urgent, with the safety-concern category, when an urgent
  item flagged (item 5, "Do you ever feel unsafe?"), else routine;
- the Patient the front end gave (gender, birth date, postcode, ethnic category), if any.

Its identifier and the Bundle id are derived from the response, and the message is built once
and stored in the outbox, so every delivery is the same message: referral-api answers a resend
with its first answer and can never make a second referral.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from screening_api.questionnaires.tools import Screen
from signpost_platform.fhir.responses import instant
from signpost_schemas import codes, systems
from signpost_schemas.codes import Concept
from signpost_schemas.fhir import profiles
from signpost_schemas.fhir.message import MessageBundle, MessageHeader
from signpost_schemas.fhir.patient import MessagePatient
from signpost_schemas.fhir.service_request import ServiceRequest

SCREENING_REFERRAL_IDENTIFIER = systems.SCREENING_RESPONSE
RECEIVING_ROLE = (systems.PERSONALISED_CARE_ROLE, "social-prescribing-link-worker")
SOURCE_OF_REFERRAL = (systems.SOURCE_OF_REFERRAL, "social-welfare-screening")
SOCIAL_SERVICE_PROCEDURE = (systems.SNOMED, "410606002")
# The flag a receiving team searches for (with priority=urgent): the person said they feel unsafe.
REFERRAL_FLAG_SYSTEM = f"{systems.LOCAL_BASE}/CodeSystem/referral-flag"
SAFETY_CONCERN = {
    "system": REFERRAL_FLAG_SYSTEM,
    "code": "safety-concern",
    "display": "Safety concern raised at screening",
}
SOURCE = {
    "endpoint": "urn:signpost:screening-api",
    "name": "Signpost screening-api",
    "software": "Signpost screening-api",
}


def _coding(concept: Concept | None, what: str) -> dict[str, str]:
    assert concept is not None, f"{what} is missing from the shared code lists"
    return concept.coding()


def message_id(response_id: str) -> str:
    """The Bundle id of a response's referral message: the same for every delivery."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{SCREENING_REFERRAL_IDENTIFIER}|{response_id}"))


@dataclass(frozen=True, slots=True)
class PositiveScreen:
    """A completed response whose screen raises a referral: the response, the person, the clinic
    that screened them and the team it refers to (None: the clinic has no route), the scored
    screen, and when it was given."""

    response_id: str
    nhs_number: str
    clinic_ods: str
    receiver_ods: str | None
    screen: Screen
    screened_at: datetime


def referral_request(positive: PositiveScreen) -> dict[str, Any]:
    """The ServiceRequest of a positive screen, checked against our profile."""
    response_id, screen = positive.response_id, positive.screen
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
    category: list[dict[str, Any]] = [
        {"coding": [_coding(codes.screening_answers().get(*SOCIAL_SERVICE_PROCEDURE), "category")]}
    ]
    if screen.urgent:
        category.append({"coding": [SAFETY_CONCERN], "text": SAFETY_CONCERN["display"]})
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
        "category": category,
        "priority": "urgent" if screen.urgent else "routine",
        "subject": {"identifier": {"system": systems.NHS_NUMBER, "value": positive.nhs_number}},
        "authoredOn": instant(positive.screened_at),
        "requester": {
            "identifier": {"system": systems.ODS_ORGANIZATION, "value": positive.clinic_ods}
        },
        "performerType": {
            "coding": [_coding(codes.personalised_care_roles().get(*RECEIVING_ROLE), "role")]
        },
        "reasonCode": reasons,
    }
    if positive.receiver_ods is not None:
        body["performer"] = [
            {
                "type": "Organization",
                "identifier": {"system": systems.ODS_ORGANIZATION, "value": positive.receiver_ods},
            }
        ]
    ServiceRequest.model_validate(body)  # our own output must meet the profile referral-api checks
    return body


def referral_message(
    positive: PositiveScreen, *, patient: MessagePatient | None, sent_at: datetime
) -> tuple[str, str]:
    """The message Bundle JSON to send and the referral's identifier value."""
    request = referral_request(positive)
    bundle_id = message_id(positive.response_id)
    request_url = f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, bundle_id + '/ServiceRequest')}"
    header = {
        "resourceType": "MessageHeader",
        "eventCoding": {"system": profiles.BARS_MESSAGE_EVENTS, "code": "servicerequest-request"},
        "reason": {"coding": [{"system": profiles.BARS_MESSAGE_REASON, "code": "new"}]},
        "sender": {
            "identifier": {"system": systems.ODS_ORGANIZATION, "value": positive.clinic_ods}
        },
        "source": SOURCE,
        "focus": [{"reference": request_url}],
    }
    MessageHeader.model_validate(header)
    entries: list[dict[str, Any]] = [
        {
            "fullUrl": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, bundle_id + '/header')}",
            "resource": header,
        },
        {"fullUrl": request_url, "resource": request},
    ]
    if patient is not None:
        person = patient.to_fhir()
        person.pop("id", None)
        entries.append(
            {
                "fullUrl": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, bundle_id + '/Patient')}",
                "resource": person,
            }
        )
    bundle = {
        "resourceType": "Bundle",
        "id": bundle_id,
        "meta": {"profile": [profiles.MESSAGE_PROFILE]},
        "type": "message",
        "timestamp": instant(sent_at),
        "entry": entries,
    }
    MessageBundle.model_validate(bundle)
    return orjson.dumps(bundle).decode(), positive.response_id
