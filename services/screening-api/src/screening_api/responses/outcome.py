"""The screening outcome told to the front end, as an extension on the served response.

`https://signpost.nhs.example/StructureDefinition/screening-outcome` with parts:
`flag` (valueCoding, one per flagged domain), `screenPositive` (valueBoolean), `wantsHelp`
(valueBoolean, absent when not asked or not answered) and `referral` (`state` valueCode:
not-needed | declined | not-requested | pending | sent | failing; `serviceRequest`
valueReference once sent; `attempts` valueInteger; `lastError` valueString when failing).
It is computed when the response is served, so it always shows the hand-off's current state.
"""

from dataclasses import dataclass
from typing import Any

import orjson

from screening_api.handoff.repository import FAILING, Handoff
from signpost_schemas import systems

SCREENING_OUTCOME_EXTENSION = f"{systems.LOCAL_BASE}/StructureDefinition/screening-outcome"
SCREENING_DOMAIN_SYSTEM = f"{systems.LOCAL_BASE}/CodeSystem/screening-domain"

NOT_NEEDED = "not-needed"  # no flag: nothing to refer
DECLINED = "declined"  # flagged, and said No to help (counted, never referred)
NOT_REQUESTED = "not-requested"  # flagged, help question not answered Yes or No


@dataclass(frozen=True, slots=True)
class Outcome:
    flags: tuple[str, ...]
    screen_positive: bool
    wants_help: bool | None
    referral_state: str
    referral_id: str | None = None
    attempts: int = 0
    last_error: str | None = None


def outcome_of(flags: tuple[str, ...], wants_help: bool | None, handoff: Handoff | None) -> Outcome:
    """The outcome of a completed response from its flags, help answer and hand-off."""
    if handoff is not None:
        return Outcome(
            flags,
            True,
            wants_help,
            handoff.state,
            handoff.referral_id,
            handoff.attempts,
            handoff.last_error if handoff.state == FAILING else None,
        )
    if not flags:
        state = NOT_NEEDED
    elif wants_help is False:
        state = DECLINED
    else:
        state = NOT_REQUESTED
    return Outcome(flags, bool(flags), wants_help, state)


def outcome_extension(outcome: Outcome, referral_api_url: str) -> dict[str, Any]:
    parts: list[dict[str, Any]] = [
        {"url": "flag", "valueCoding": {"system": SCREENING_DOMAIN_SYSTEM, "code": domain}}
        for domain in outcome.flags
    ]
    parts.append({"url": "screenPositive", "valueBoolean": outcome.screen_positive})
    if outcome.wants_help is not None:
        parts.append({"url": "wantsHelp", "valueBoolean": outcome.wants_help})
    referral: list[dict[str, Any]] = [{"url": "state", "valueCode": outcome.referral_state}]
    if outcome.referral_id:
        referral.append(
            {
                "url": "serviceRequest",
                "valueReference": {
                    "reference": f"{referral_api_url.rstrip('/')}/fhir/ServiceRequest/"
                    f"{outcome.referral_id}",
                    "type": "ServiceRequest",
                },
            }
        )
    if outcome.referral_state in ("pending", "sent", "failing"):
        referral.append({"url": "attempts", "valueInteger": outcome.attempts})
    if outcome.last_error:
        referral.append({"url": "lastError", "valueString": outcome.last_error})
    parts.append({"url": "referral", "extension": referral})
    return {"url": SCREENING_OUTCOME_EXTENSION, "extension": parts}


def with_outcome(resource_json: str, outcome: Outcome | None, referral_api_url: str) -> bytes:
    """The stored response with the outcome extension added (drafts have none)."""
    if outcome is None:
        return resource_json.encode()
    document = orjson.loads(resource_json)
    document.setdefault("extension", []).append(outcome_extension(outcome, referral_api_url))
    return orjson.dumps(document)
