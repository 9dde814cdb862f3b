"""NHS number (Modulus 11) and postcode rules."""

import pytest

from signpost_schemas.geography import (
    InvalidPostcode,
    normalise_postcode,
    postcode_district,
    sample_postcode_lookup,
)
from signpost_schemas.nhs_number import InvalidNhsNumber, validate_nhs_number


@pytest.mark.parametrize("value", ["9434765919", "943 476 5919", "943-476-5919"])
def test_valid_nhs_numbers_are_normalised_to_ten_digits(value):
    assert validate_nhs_number(value) == "9434765919"


@pytest.mark.parametrize("value", ["9434765918", "943476591", "94347659190", "abcdefghij", ""])
def test_invalid_nhs_numbers_are_refused(value):
    with pytest.raises(InvalidNhsNumber):
        validate_nhs_number(value)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("e151da", "E15 1DA"), ("SW1A 1AA", "SW1A 1AA"), (" n16  0aa ", "N16 0AA")],
)
def test_postcodes_are_normalised(raw, expected):
    assert normalise_postcode(raw) == expected


@pytest.mark.parametrize("raw", ["E15", "E15 1D", "1234", "E15 1CA"])
def test_partial_or_malformed_postcodes_are_refused(raw):
    with pytest.raises(InvalidPostcode):
        normalise_postcode(raw)


def test_district_and_sample_lookup():
    assert postcode_district("e15 1da") == "E15"
    area = sample_postcode_lookup()["E15 1DA"]
    assert area.local_authority_name == "Newham"
    assert area.lsoa_code.startswith("E01")
