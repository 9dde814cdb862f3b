"""`identifier_sent`: the ServiceRequest identifier a message's first statement looks its referral
up by, read from the body as sent, before validation. It answers only when the message names one
referral by one identifier; otherwise the referral is looked up after validation."""

import copy

import pytest

from referral_api.messages.bundle import identifier_sent
from tests.referral.messages.conftest import NEW

SYSTEM = NEW["entry"][1]["resource"]["identifier"][0]["system"]
VALUE = NEW["entry"][1]["resource"]["identifier"][0]["value"]


def _with_identifiers(identifiers: object) -> dict:
    document = copy.deepcopy(NEW)
    document["entry"][1]["resource"]["identifier"] = identifiers
    return document


def test_the_one_identifier_of_the_one_service_request_trimmed_as_validation_trims_it() -> None:
    assert identifier_sent(NEW) == (SYSTEM, VALUE)
    padded = _with_identifiers([{"system": f" {SYSTEM}", "value": f"{VALUE}  "}])
    assert identifier_sent(padded) == (SYSTEM, VALUE)


@pytest.mark.parametrize(
    "identifiers",
    [
        [],
        [{"system": SYSTEM, "value": VALUE}, {"system": SYSTEM, "value": "other"}],
        [{"value": VALUE}],
        [{"system": SYSTEM}],
        [{"system": SYSTEM, "value": 12}],
        ["not an object"],
        {"system": SYSTEM, "value": VALUE},
        None,
    ],
)
def test_none_unless_one_identifier_with_a_system_and_a_value(identifiers: object) -> None:
    assert identifier_sent(_with_identifiers(identifiers)) is None


def test_none_for_two_service_requests_or_none() -> None:
    two = copy.deepcopy(NEW)
    two["entry"].append(copy.deepcopy(two["entry"][1]))
    assert identifier_sent(two) is None
    without = copy.deepcopy(NEW)
    without["entry"] = [
        e for e in without["entry"] if e["resource"]["resourceType"] != "ServiceRequest"
    ]
    assert identifier_sent(without) is None


@pytest.mark.parametrize("entries", [None, "entries", [None, 3, {"resource": []}]])
def test_none_for_entries_of_the_wrong_shape(entries: object) -> None:
    assert identifier_sent({"resourceType": "Bundle", "id": "m", "entry": entries}) is None
