"""The Patient of a referral message: its GP practice must be an ODS code (3 to 10 letters or
digits; longer codes used to reach a 10-character column), and a malformed `identifier` is 400."""

import pytest

from tests.security.bodies import REFERRAL_WRITE, element_refused, referral_message

PATIENT = 2  # MessageHeader, ServiceRequest, Patient


@pytest.mark.parametrize("code", ["ABCDEFGHIJKLMN", "F8", "F84-01"])
async def test_a_gp_practice_that_is_not_an_ods_code_is_422_naming_it(referral, code):
    body = referral_message()
    body["entry"][PATIENT]["resource"]["generalPractitioner"][0]["identifier"]["value"] = code

    assert await element_refused(referral, "/fhir/$process-message", body, 422) == (
        f"Bundle.entry[{PATIENT}].resource.generalPractitioner[0].identifier.value"
    )


async def test_a_valid_gp_practice_is_accepted(referral):
    response = await referral.post(
        "/fhir/$process-message", json=referral_message(), headers=REFERRAL_WRITE
    )

    assert response.status_code in (200, 201, 202), response.text


async def test_patient_identifier_given_as_a_string_is_400(referral):
    body = referral_message()
    body["entry"][PATIENT]["resource"]["identifier"] = "9434765919"

    assert (
        await element_refused(referral, "/fhir/$process-message", body, 400)
        == f"Bundle.entry[{PATIENT}].resource.identifier"
    )
