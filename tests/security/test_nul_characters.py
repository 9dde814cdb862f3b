"""A NUL character in any stored string is refused at the edge, naming the element, by every
service. PostgreSQL text cannot hold one: it used to surface as a 500 (and SQLite stored it)."""

from tests.directory.builders import organization
from tests.screening.builders import screening_response
from tests.security.bodies import (
    DIRECTORY_WRITE,
    REFERRAL_WRITE,
    SCREENING_WRITE,
    named,
    new_referral,
    posted,
    referral_message,
)
from tests.support.builders import reason


async def test_a_nul_in_a_referral_identifier_is_400_naming_it(referral):
    body = new_referral()
    body["identifier"][0]["value"] = "EMIS\u00001"

    response = await posted(referral, "/fhir/ServiceRequest", body, REFERRAL_WRITE, 400)

    assert named(response) == "ServiceRequest.identifier[0].value"


async def test_a_nul_in_a_reason_text_is_400_naming_it(referral):
    body = new_referral(reasons=[reason("105531004", text="Damp\u0000flat")])

    response = await posted(referral, "/fhir/ServiceRequest", body, REFERRAL_WRITE, 400)

    assert named(response) == "ServiceRequest.reasonCode[0].text"


async def test_a_nul_in_a_message_bundle_id_is_400_naming_it(referral):
    body = referral_message()
    body["id"] = "bundle\u0000id"

    response = await posted(referral, "/fhir/$process-message", body, REFERRAL_WRITE, 400)

    assert named(response) == "Bundle.id"


async def test_a_nul_in_a_directory_organisation_name_is_400_naming_it(directory):
    body = organization(name="Forest Gate\u0000Trust")

    response = await posted(directory, "/organizations", body, DIRECTORY_WRITE, 400)

    assert named(response) == "name"


async def test_a_nul_in_a_screening_response_is_400_naming_it(screening):
    body = screening_response(pathway="cardiology\u0000outpatient")

    response = await posted(screening, "/fhir/QuestionnaireResponse", body, SCREENING_WRITE, 400)

    assert named(response).startswith("QuestionnaireResponse.")


async def test_a_raw_nul_byte_in_any_body_is_400(directory):
    response = await directory.post(
        "/organizations",
        content=b'{"name": "a\x00b"}',
        headers={**DIRECTORY_WRITE, "Content-Type": "application/json"},
    )

    assert response.status_code == 400
