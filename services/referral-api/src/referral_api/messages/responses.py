"""The response message `$process-message` answers with (stored for replays).

Its OperationOutcome entry (the MessageHeader's `response.details`) says what was done, then
gives one `warning` issue per data gap found in the message (`signpost_schemas.fhir.gaps`).
"""

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson

from signpost_platform.errors import SignpostError
from signpost_platform.fhir.responses import instant
from signpost_schemas.fhir import profiles

if TYPE_CHECKING:
    from referral_api.messages.bundle import ReadMessage
    from referral_api.messages.service import Applied


def _response_bundle(
    message: "ReadMessage",
    now: datetime,
    code: str,
    focus: str | None,
    issues: list[dict[str, Any]],
) -> str:
    header_id = str(uuid.uuid4())
    header: dict[str, Any] = {
        "resourceType": "MessageHeader",
        "id": header_id,
        "eventCoding": {"system": profiles.BARS_MESSAGE_EVENTS, "code": "servicerequest-response"},
        "source": {"endpoint": "urn:signpost:referral-api", "software": "Signpost referral-api"},
        "response": {"identifier": message.bundle.id, "code": code},
    }
    if focus:
        header["focus"] = [{"reference": focus}]
    outcome = {"resourceType": "OperationOutcome", "id": str(uuid.uuid4()), "issue": issues}
    header["response"]["details"] = {"reference": f"urn:uuid:{outcome['id']}"}
    return orjson.dumps(
        {
            "resourceType": "Bundle",
            "id": str(uuid.uuid4()),
            "meta": {"profile": [profiles.MESSAGE_PROFILE]},
            "type": "message",
            "timestamp": instant(now),
            "entry": [
                {"fullUrl": f"urn:uuid:{header_id}", "resource": header},
                {"fullUrl": f"urn:uuid:{outcome['id']}", "resource": outcome},
            ],
        }
    ).decode()


def ok_response(message: "ReadMessage", applied: "Applied", base_url: str, now: datetime) -> str:
    """`ok`, with what was applied and what was older than the state held."""
    summary = "; ".join(
        f"{resource_type}: " + ", ".join(f"{count} {what}" for what, count in outcomes.items())
        for resource_type, outcomes in applied.counts.items()
    )
    issues = [
        {
            "severity": "information",
            "code": "informational",
            "diagnostics": f"message {message.bundle.id} applied to ServiceRequest/"
            f"{applied.referral_id} ({summary}); 'superseded' means a newer version was "
            "already held",
        }
    ]
    if message.ignored:
        issues.append(
            {
                "severity": "information",
                "code": "informational",
                "diagnostics": "not kept by Signpost: " + ", ".join(sorted(set(message.ignored))),
            }
        )
    issues.extend(gap.issue() for gap in message.warnings)
    return _response_bundle(
        message, now, "ok", f"{base_url}/fhir/ServiceRequest/{applied.referral_id}", issues
    )


def held_response(message: "ReadMessage", now: datetime) -> str:
    """Accepted and held: the update names a referral not received yet."""
    system, value = message.identifiers[0]
    return _response_bundle(
        message,
        now,
        "ok",
        None,
        [
            {
                "severity": "information",
                "code": "informational",
                "diagnostics": f"message {message.bundle.id} is an update for the referral "
                f"{system}|{value}, which has not been received yet: it is held and will be "
                "applied when the referral's 'new' message arrives",
            },
            *(gap.issue() for gap in message.warnings),
        ],
    )


def rejected_response(error: SignpostError) -> str:
    """The OperationOutcome of a held message found invalid when its referral arrived."""
    return orjson.dumps(
        {
            "resourceType": "OperationOutcome",
            "issue": [
                {
                    "severity": i.severity,
                    "code": i.code,
                    "diagnostics": i.diagnostics,
                    **({"expression": i.expression} if i.expression else {}),
                }
                for i in error.issues
            ],
        }
    ).decode()


def expired_response(
    bundle_id: str, identifier: tuple[str, str], retention_days: int, now: datetime
) -> str:
    """The OperationOutcome of a held message whose referral did not arrive in time."""
    system, value = identifier
    return orjson.dumps(
        {
            "resourceType": "OperationOutcome",
            "issue": [
                {
                    "severity": "error",
                    "code": "not-found",
                    "diagnostics": f"message {bundle_id} was an update for the referral "
                    f"{system}|{value}, which had not been received {retention_days} days after "
                    f"the update was; it expired on {now.date().isoformat()} and was not "
                    "applied. Send the referral, then the update again under a new Bundle.id",
                    "expression": ["MessageHeader.focus"],
                }
            ],
        }
    ).decode()
