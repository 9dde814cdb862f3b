"""SNOMED CT concept ids: shape, partition and Verhoeff check digit."""

import pytest

from signpost_schemas import codes, snomed, systems


@pytest.mark.parametrize(
    "code",
    ["366979004", "105529008", "129839007", "422650009", "160932005", "108161000000109"],
)
def test_well_formed_concept_ids_are_accepted(code):
    assert snomed.is_concept_id(code)
    assert snomed.concept_id_problem(code) is None


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        ("366979005", "check digit"),  # 366979004 with the last digit changed
        ("366979014", "partition identifier 01"),  # a description id's partition
        ("366979024", "partition identifier 02"),  # a relationship id's partition
        ("0366979004", "6 to 18 digits"),  # leading zero
        ("12345", "6 to 18 digits"),
        ("1234567890123456789", "6 to 18 digits"),
        ("36697900A", "6 to 18 digits"),
        ("", "6 to 18 digits"),
    ],
)
def test_malformed_ids_say_why(code, problem):
    assert not snomed.is_concept_id(code)
    assert problem in (snomed.concept_id_problem(code) or "")


def test_verhoeff_catches_every_single_digit_error():
    code = "422650009"
    for position in range(len(code)):
        for digit in "0123456789":
            if digit != code[position]:
                changed = code[:position] + digit + code[position + 1 :]
                assert not snomed.verhoeff_valid(changed)


def test_every_shipped_snomed_code_is_a_well_formed_concept_id():
    for name in ("referral-reasons", "source-of-referral", "referral-status-and-closure"):
        for concept in codes.code_list(name).in_system(systems.SNOMED):
            assert snomed.is_concept_id(concept.code), (name, concept.code)
