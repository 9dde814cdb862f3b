"""The message back to the GP and referrer: a BaRS-shaped FHIR message Bundle.

PRSB's Social Prescribing Information Standard has a "message back to GP and referrer" view,
and GP practices record social prescribing with national SNOMED CT codes (where national
figures come from). One message is written per event:

- accepted: Task `accepted`; GP-record entry 871731000000106 "Referral to social prescribing
  service".
- declined: Task `rejected`, `statusReason` the rejection or closure reason; GP-record entry
  871711000000103 "Social prescribing declined" only when the person declined (closure reason
  `person-declined`), none when the service declined the referral (rejection reason 01
  duplicate, 02 inappropriate, 03 incomplete).
- closed: Task `completed`, `statusReason` the closure reason (its group is the outcome);
  871711000000103 when the outcome is `declined` (the person declined after acceptance), no
  GP-record entry otherwise (there is no national code for the other outcomes).
- cancelled: Task `cancelled`, when the service cancelled the referral (its Task cancelled
  with no closure reason); no GP-record entry. A referral the referrer cancelled (its
  ServiceRequest revoked) is not reported back: the referrer did it.

NHS England's rule is that 871731000000106 is recorded only once the person accepts, so it is
carried by the acceptance message and by no other. The codes and their displays are read from
the code list (`referral-status-and-closure.csv`), never retyped, and a code the list marks
`unverified` (871691000000100 "Social prescribing offered") is never sent.

The Bundle: `MessageHeader` (BaRS `servicerequest-response`, reason `update`, `focus` the
Task, `destination` the referrer by ODS code, `sender` the receiving organisation), the
referral `Task` (status, reason, dates), the `ServiceRequest` as Signpost serves it (its
`fullUrl` where Signpost serves it; its lifecycle extension has the acceptance, decline,
closure reason and outcome), and the GP-record entry
`Observation` when the event has a national code (GP Connect files coded entries as
uncategorised Observations). The person is named by identifier only. Every id is derived from
the message id, so the content is the same whenever it is built and sent.
"""

import uuid
from datetime import datetime
from typing import Any, Final, Literal

from signpost_platform.fhir.responses import instant
from signpost_schemas import codes, systems
from signpost_schemas.codes import Concept, Confidence
from signpost_schemas.fhir import profiles

Event = Literal["accepted", "declined", "closed", "cancelled"]

# Message ids: derived from (referral, event, event date), so an event makes one message.
_NAMESPACE: Final = uuid.UUID("0d3c5e7a-91b2-4f4e-8a51-6c2f7e9b1d30")

# The GP-record codes (SNOMED CT) for social prescribing; displays come from the code list.
REFERRED: Final = "871731000000106"
DECLINED: Final = "871711000000103"
# The closure outcome (the closure reason's group) that means the person declined.
PERSON_DECLINED_OUTCOME: Final = "declined"

_TASK_STATUS: Final = {
    "accepted": "accepted",
    "declined": "rejected",
    "closed": "completed",
    "cancelled": "cancelled",
}
# The events that end the referral: their date is the Task's executionPeriod.end.
_ENDING: Final = ("declined", "closed", "cancelled")


def message_id(referral_id: str, event: Event, at: datetime | None) -> str:
    """The stable id of the message reporting `event` of a referral (its Bundle.id)."""
    moment = instant(at) if at is not None else "undated"
    return str(uuid.uuid5(_NAMESPACE, f"{referral_id}/{event}/{moment}"))


def gp_record_concept(code: str) -> Concept:
    """The GP-record concept `code` from the code list; never one marked unverified."""
    concept = codes.referral_status_and_closure().get(systems.SNOMED, code)
    if concept is None or concept.confidence == Confidence.UNVERIFIED:
        raise LookupError(f"{code} is not a GP-record code that may be sent")
    return concept


def reason_of(event: Event, summary: dict[str, Any]) -> Concept | None:
    """The decline or closure reason the summary records, as listed."""
    if event == "declined" and summary.get("decline_reason_code"):
        return codes.referral_status_and_closure().get(
            summary["decline_reason_system"], summary["decline_reason_code"]
        )
    if event == "closed" and summary.get("closure_reason_code"):
        return codes.referral_status_and_closure().get(
            profiles.REFERRAL_CLOSURE_REASON, summary["closure_reason_code"]
        )
    return None


def gp_record_code(event: Event, reason: Concept | None) -> Concept | None:
    """The national code the GP record needs for `event`, if there is one."""
    if event == "accepted":
        return gp_record_concept(REFERRED)
    if reason is not None and reason.group == PERSON_DECLINED_OUTCOME:
        return gp_record_concept(DECLINED)
    return None


def _full_url(identifier: str) -> str:
    return f"urn:uuid:{identifier}"


def build(
    *,
    identifier: str,
    event: Event,
    event_at: datetime,
    created_at: datetime,
    referral: dict[str, Any],
    summary: dict[str, Any],
    requester_ods: str,
    receiver_ods: str | None,
    source_endpoint: str | None,
) -> dict[str, Any]:
    """The message Bundle reporting `event` of `referral` (its served JSON) to its requester."""

    def part(kind: str) -> str:
        return str(uuid.uuid5(uuid.UUID(identifier), kind))

    header_id, task_id, record_id = part("MessageHeader"), part("Task"), part("Observation")
    referral_url = (
        f"{source_endpoint}/ServiceRequest/{referral['id']}"
        if source_endpoint
        else _full_url(referral["id"])  # referral ids are UUIDs
    )
    referral_reference = {"reference": referral_url, "type": "ServiceRequest"}
    subject = referral.get("subject", {}).get("identifier")
    person = {"type": "Patient", "identifier": subject} if subject else None
    reason = reason_of(event, summary)
    record = gp_record_code(event, reason)

    task: dict[str, Any] = {
        "resourceType": "Task",
        "id": task_id,
        "meta": {"profile": [profiles.TASK_PROFILE]},
        "basedOn": [referral_reference],
        "status": _TASK_STATUS[event],
        "businessStatus": {
            "coding": [{"system": profiles.REFERRAL_LIFECYCLE_STATUS, "code": event}]
        },
        "intent": "order",
        "code": {"coding": [{"system": profiles.TASK_CODE, "code": "fulfill"}]},
        "focus": referral_reference,
        "authoredOn": instant(created_at),
        "lastModified": instant(event_at),
        "requester": {"identifier": {"system": systems.ODS_ORGANIZATION, "value": requester_ods}},
    }
    if person:
        task["for"] = person
    if summary.get("accepted_at") or event in _ENDING:
        period: dict[str, str] = {}
        if summary.get("accepted_at"):
            period["start"] = instant(summary["accepted_at"])
        if event in _ENDING:
            period["end"] = instant(event_at)
        task["executionPeriod"] = period
    if reason is not None:
        task["statusReason"] = {"coding": [reason.coding()], "text": reason.display}
    if receiver_ods:
        task["owner"] = {"identifier": {"system": systems.ODS_ORGANIZATION, "value": receiver_ods}}

    header: dict[str, Any] = {
        "resourceType": "MessageHeader",
        "id": header_id,
        "eventCoding": {
            "system": profiles.BARS_MESSAGE_EVENTS,
            "code": "servicerequest-response",
        },
        "reason": {"coding": [{"system": profiles.BARS_MESSAGE_REASON, "code": "update"}]},
        "destination": [
            {
                "endpoint": f"{systems.ODS_ORGANIZATION}|{requester_ods}",
                "receiver": {
                    "identifier": {"system": systems.ODS_ORGANIZATION, "value": requester_ods}
                },
            }
        ],
        "source": {
            "name": "Signpost referral-api",
            "software": "Signpost",
            "endpoint": source_endpoint or "urn:signpost:referral-api",
        },
        "focus": [{"reference": _full_url(task_id), "type": "Task"}],
    }
    if receiver_ods:
        header["sender"] = {
            "identifier": {"system": systems.ODS_ORGANIZATION, "value": receiver_ods}
        }

    served = {key: value for key, value in referral.items() if key != "meta"}
    entries: list[dict[str, Any]] = [
        {"fullUrl": _full_url(header_id), "resource": header},
        {"fullUrl": _full_url(task_id), "resource": task},
        {"fullUrl": referral_url, "resource": served},
    ]
    if record is not None:
        observation: dict[str, Any] = {
            "resourceType": "Observation",
            "id": record_id,
            "meta": {"profile": [profiles.GP_RECORD_ENTRY_PROFILE]},
            "status": "final",
            "code": {"coding": [record.coding()], "text": record.display},
            "basedOn": [referral_reference],
            "effectiveDateTime": instant(event_at),
        }
        if person:
            observation["subject"] = person
        entries.append({"fullUrl": _full_url(record_id), "resource": observation})
    return {
        "resourceType": "Bundle",
        "id": identifier,
        "meta": {"profile": [profiles.REFERRER_MESSAGE_PROFILE]},
        "type": "message",
        "timestamp": instant(created_at),
        "entry": entries,
    }
