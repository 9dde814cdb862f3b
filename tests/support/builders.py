"""Builders for request bodies. Every person is synthetic; NHS numbers are valid test numbers."""

import copy
import uuid
from typing import Any

import nhs_number

from signpost_schemas import systems

# Published test numbers (NHS Digital examples and sandbox) and numbers from the range kept for
# testing (999 000 0000 onwards), each valid under Modulus 11: no real person's.
NHS_NUMBERS = ["9434765919", "9000000009", "9990000018", "9990000026", "9990000034"]

SNOMED_REASONS = {
    "housing": "105531004",
    "homeless": "32911000",
    "finance": "160932005",
    "isolation": "422650009",
    "food": "733423003",
    "unemployed": "73438004",
}


def reason(code: str, system: str = systems.SNOMED, text: str | None = None) -> dict[str, Any]:
    concept: dict[str, Any] = {"coding": [{"system": system, "code": code}]}
    if text:
        concept["text"] = text
    return concept


def reasons_or_default(
    reasons: list[dict[str, Any]] | None, *more: dict[str, Any]
) -> list[dict[str, Any]]:
    """A copy of `reasons`; without them, a damp flat and a financial problem, then `more`."""
    if reasons is not None:
        return copy.deepcopy(reasons)
    return [
        reason(SNOMED_REASONS["housing"], text="Damp flat"),
        reason(SNOMED_REASONS["finance"]),
        *more,
    ]


def coded_extension(url: str, system: str, code: str) -> dict[str, Any]:
    """An extension whose value is a CodeableConcept of one coding."""
    return {"url": url, "valueCodeableConcept": {"coding": [{"system": system, "code": code}]}}


def service_request(
    *,
    identifier: str | None = "EMIS-0001",
    identifier_system: str = "https://emis.example/referral-id",
    nhs_number: str = NHS_NUMBERS[0],
    role: str = "social-prescribing-link-worker",
    requester: str = "F84001",
    source: tuple[str, str] = (systems.SNOMED, "108161000000109"),
    reasons: list[dict[str, Any]] | None = None,
    authored: str = "2026-10-01T10:00:00Z",
    status: str = "active",
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "extension": [coded_extension(systems.SOURCE_OF_SERVICE_REQUEST_EXTENSION, *source)],
        "status": status,
        "intent": "order",
        "subject": {"identifier": {"system": systems.NHS_NUMBER, "value": nhs_number}},
        "authoredOn": authored,
        "requester": {"identifier": {"system": systems.ODS_ORGANIZATION, "value": requester}},
        "performerType": {"coding": [{"system": systems.PERSONALISED_CARE_ROLE, "code": role}]},
        "reasonCode": reasons_or_default(reasons, reason(SNOMED_REASONS["isolation"])),
    }
    if identifier:
        body["identifier"] = [{"system": identifier_system, "value": identifier}]
    body.update(extra)
    return body


def with_check_digit(stem: str) -> str | None:
    """The NHS number of the nine digits `stem` and their Modulus 11 check digit (as the
    `nhs-number` package computes it); None when no check digit makes them valid."""
    check = nhs_number.calculate_checksum(stem)
    return None if check is None or check == 10 else f"{stem}{check}"


def fresh_nhs_number() -> str:
    """A valid synthetic NHS number (999 test range) no other test uses."""
    while True:
        if number := with_check_digit(f"999{uuid.uuid4().int % 1_000_000:06d}"):
            return number
