"""An identifier system or value over 255 characters (the columns that hold them) is 422 naming
the element; it used to reach PostgreSQL and fail there with a 500."""

import pytest

from tests.security.bodies import REFERRAL_WRITE, issue, named, new_referral, posted


@pytest.mark.parametrize("element", ["system", "value"])
async def test_an_identifier_over_255_characters_is_422_naming_it(referral, element):
    body = new_referral()
    body["identifier"][0][element] = (
        "https://emis.example/" + "s" * 300 if element == "system" else "V" * 300
    )

    response = await posted(referral, "/fhir/ServiceRequest", body, REFERRAL_WRITE, 422)

    assert named(response) == f"ServiceRequest.identifier[0].{element}"
    assert issue(response)["code"] == "too-long"


async def test_an_identifier_of_255_characters_is_kept(referral):
    body = new_referral()
    body["identifier"][0]["value"] = "V" * 255

    await posted(referral, "/fhir/ServiceRequest", body, REFERRAL_WRITE, 201)
