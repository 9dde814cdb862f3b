"""Dates are strict: a Unix number (or a string of digits) is refused rather than read as a Unix
time, a date no calendar has (year 0, 30 February) is 400 naming it, and a dateTime that cannot be
expressed in UTC is 422 naming it, not a 500."""

import pytest

from tests.screening.builders import screening_response
from tests.security.bodies import (
    REFERRAL_WRITE,
    SCREENING_WRITE,
    element_refused,
    issue,
    named,
    new_referral,
    posted,
    referral_message,
)


@pytest.mark.parametrize("authored", [1790000000, 1790000000.5, "1790000000"])
async def test_authored_on_as_a_unix_time_is_400(referral, authored):
    body = new_referral()
    body["authoredOn"] = authored

    assert (
        await element_refused(referral, "/fhir/ServiceRequest", body, 400)
        == "ServiceRequest.authoredOn"
    )


async def test_a_date_in_year_one_with_a_positive_offset_is_422_naming_it(referral):
    body = new_referral(authored="0001-01-01T00:30:00+01:00")

    response = await posted(referral, "/fhir/ServiceRequest", body, REFERRAL_WRITE, 422)

    assert named(response) == "ServiceRequest.authoredOn"
    assert issue(response)["code"] == "value"


async def test_a_message_timestamp_in_year_one_with_a_positive_offset_is_422(referral):
    body = referral_message()
    body["timestamp"] = "0001-01-01T00:00:00+05:00"

    assert (
        await element_refused(referral, "/fhir/$process-message", body, 422) == "Bundle.timestamp"
    )


@pytest.mark.parametrize("authored", ["0001-01-01T00:00:00+14:00", "0001-01-01T00:30:00+01:00"])
async def test_a_screening_response_authored_before_year_one_in_utc_is_422_naming_it(
    screening, authored
):
    body = screening_response(authored=authored)

    response = await posted(screening, "/fhir/QuestionnaireResponse", body, SCREENING_WRITE, 422)

    assert named(response) == "QuestionnaireResponse.authored"
    assert issue(response)["code"] == "value"


@pytest.mark.parametrize(
    "authored", ["0000-01-01", "2026-02-30", "2026-13", "2026-11-02T24:30:00Z", "0000"]
)
async def test_a_screening_response_authored_on_no_real_day_is_400_naming_it(screening, authored):
    body = screening_response(authored=authored)

    assert (
        await element_refused(screening, "/fhir/QuestionnaireResponse", body, 400)
        == "QuestionnaireResponse.authored"
    )
