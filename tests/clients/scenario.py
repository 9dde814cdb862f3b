"""What the third-party client flows send: referrals and a message built by the shared test
builders (synthetic people only), and the searches with the answers they are owed.

Every flow files its referrals under its own person, so the flows of one run cannot see each
other's referrals in their searches.
"""

from typing import Any

from tests.support.builders import NHS_NUMBERS, SNOMED_REASONS, reason, service_request
from tests.support.clients import bearer
from tests.support.messages import emis_patient, emis_service_request, message

EMIS_ID = "https://emis.example/referral-id"
NHS_NUMBER = "https://fhir.nhs.uk/Id/nhs-number"
TOKEN = bearer("referral:write", "referral:read", "referral:all-organisations")["Authorization"]
PAGE_SIZE = 2
PAGED = 5


def referral(identifier: str, nhs_number: str = NHS_NUMBERS[0], **changes: Any) -> dict[str, Any]:
    return service_request(identifier=identifier, nhs_number=nhs_number, **changes)


def searched() -> list[dict[str, Any]]:
    """Three referrals of one person; the food-insecurity search matches the first two."""
    food, housing = SNOMED_REASONS["food"], SNOMED_REASONS["housing"]
    return [
        referral("SEARCH-1", NHS_NUMBERS[1], reasons=[reason(food), reason(housing)]),
        referral("SEARCH-2", NHS_NUMBERS[1], reasons=[reason(food)]),
        referral("SEARCH-3", NHS_NUMBERS[1], reasons=[reason(housing)]),
    ]


SEARCH = {"reason-code": SNOMED_REASONS["food"], "patient.identifier": NHS_NUMBERS[1]}
SEARCH_MATCHES = ["SEARCH-1", "SEARCH-2"]


def paged() -> list[dict[str, Any]]:
    """More referrals of one person than fit on one page."""
    return [referral(f"PAGED-{n}", NHS_NUMBERS[2]) for n in range(PAGED)]


PAGING = {"patient.identifier": f"{NHS_NUMBER}|{NHS_NUMBERS[2]}"}


def counted() -> list[dict[str, Any]]:
    """Three referrals of one person, two of them active."""
    return [
        referral("COUNT-1", NHS_NUMBERS[3]),
        referral("COUNT-2", NHS_NUMBERS[3]),
        referral("COUNT-3", NHS_NUMBERS[3], status="on-hold"),
    ]


COUNT = {"patient.identifier": NHS_NUMBERS[3], "status": "active"}
COUNT_TOTAL = 2


def new_referral_message() -> dict[str, Any]:
    """A BaRS new-referral message as EMIS sends it."""
    return message(
        emis_service_request("MESSAGE-1", nhs_number=NHS_NUMBERS[4]),
        reason_code="new",
        patient=emis_patient(NHS_NUMBERS[4]),
        timestamp="2026-10-01T09:05:00Z",
    )


def for_node() -> dict[str, Any]:
    """Everything the fhir-kit-client flows send and expect, as one JSON document."""
    return {
        "token": TOKEN,
        "emisId": EMIS_ID,
        "created": referral("CREATE-1"),
        "conditional": referral("CONDITIONAL-1"),
        "read": referral("READ-1"),
        "updated": referral("UPDATE-1"),
        "stale": referral("STALE-1"),
        "searched": searched(),
        "search": SEARCH,
        "searchMatches": SEARCH_MATCHES,
        "paged": paged(),
        "paging": PAGING,
        "pageSize": PAGE_SIZE,
        "counted": counted(),
        "count": COUNT,
        "countTotal": COUNT_TOTAL,
        "message": new_referral_message(),
    }
