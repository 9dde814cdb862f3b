"""A NUL character in any stored string is refused at the edge, naming the element, by every
service. PostgreSQL text cannot hold one: it used to surface as a 500 (and SQLite stored it).
A referral's free text is the exception: kept with the NUL replaced, and a warning."""

from tests.directory.builders import organization
from tests.screening.builders import screening_response
from tests.security.bodies import (
    DIRECTORY_WRITE,
    REFERRAL_WRITE,
    element_refused,
    new_referral,
    referral_message,
)
from tests.support.builders import reason


async def test_a_nul_in_a_referral_identifier_is_400_naming_it(referral):
    body = new_referral()
    body["identifier"][0]["value"] = "EMIS\u00001"

    assert (
        await element_refused(referral, "/fhir/ServiceRequest", body, 400)
        == "ServiceRequest.identifier[0].value"
    )


async def test_a_nul_in_a_reason_text_is_replaced_and_the_referral_kept(referral):
    """Free text keeps the referral: the NUL is stored as U+FFFD, with a warning."""
    body = new_referral(reasons=[reason("105531004", text="Damp\u0000flat")])
    prefer = {**REFERRAL_WRITE, "Prefer": "return=OperationOutcome"}

    created = await referral.post("/fhir/ServiceRequest", json=body, headers=prefer)

    assert created.status_code == 201, created.text
    assert [i["expression"] for i in created.json()["issue"]] == [
        ["ServiceRequest.reasonCode[0].text"]
    ]
    served = await referral.get(created.headers["Location"], headers=REFERRAL_WRITE)
    assert served.json()["reasonCode"][0]["text"] == "Damp\ufffdflat"


async def test_a_nul_in_a_message_bundle_id_is_400_naming_it(referral):
    body = referral_message()
    body["id"] = "bundle\u0000id"

    assert await element_refused(referral, "/fhir/$process-message", body, 400) == "Bundle.id"


async def test_a_nul_in_a_directory_organisation_name_is_400_naming_it(directory):
    body = organization(name="Forest Gate\u0000Trust")

    assert await element_refused(directory, "/organizations", body, 400) == "name"


async def test_a_nul_in_a_screening_response_is_400_naming_it(screening):
    body = screening_response(pathway="cardiology\u0000outpatient")

    element = await element_refused(screening, "/fhir/QuestionnaireResponse", body, 400)

    assert element.startswith("QuestionnaireResponse.")


async def test_a_raw_nul_byte_in_any_body_is_400(directory):
    response = await directory.post(
        "/organizations",
        content=b'{"name": "a\x00b"}',
        headers={**DIRECTORY_WRITE, "Content-Type": "application/json"},
    )

    assert response.status_code == 400
