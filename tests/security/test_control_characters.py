"""A control character (below U+0020, but tab, carriage return and line feed) in a JSON string
is refused at the edge, naming the element: FHIR strings cannot hold one, and everything stored
is served as FHIR somewhere. Tab, carriage return and line feed are kept as sent.

Free text of a referral (a reason's text, a display) is the exception: a referral is kept with
the character replaced and a `replaced-characters` warning (tests/referral/messages for
messages)."""

import pytest

from tests.directory.builders import organization
from tests.screening.builders import screening_response
from tests.security.bodies import (
    REFERRAL_WRITE,
    element_refused,
    named,
    new_referral,
    posted,
)
from tests.support.builders import reason


@pytest.mark.parametrize("character", ["\u0001", "\u000b", "\u001f", "\u0008"])
async def test_a_control_character_in_a_referral_identifier_is_400_naming_it(referral, character):
    body = new_referral()
    body["identifier"][0]["value"] = f"EMIS{character}1"

    response = await posted(referral, "/fhir/ServiceRequest", body, REFERRAL_WRITE, 400)

    assert named(response) == "ServiceRequest.identifier[0].value"
    assert "control character" in response.json()["issue"][0]["diagnostics"]


async def test_tab_carriage_return_and_line_feed_are_kept(referral):
    text = "Damp flat\r\n\tmould in two rooms"
    body = new_referral(reasons=[reason("105531004", text=text)])

    created = await referral.post("/fhir/ServiceRequest", json=body, headers=REFERRAL_WRITE)

    assert created.status_code == 201, created.text
    assert created.json()["reasonCode"][0]["text"] == text


async def test_a_control_character_in_a_screening_identifier_is_400_naming_it(screening):
    body = screening_response()
    body["identifier"] = {"system": "https://example.org/screens", "value": "s-1\u001b"}

    assert (
        await element_refused(screening, "/fhir/QuestionnaireResponse", body, 400)
        == "QuestionnaireResponse.identifier.value"
    )


async def test_a_control_character_in_a_directory_name_is_400_naming_it(directory):
    body = organization(name="Forest Gate\u0007Trust")

    assert await element_refused(directory, "/organizations", body, 400) == "name"


@pytest.mark.parametrize(
    ("character", "kept_as"),
    [("\u0001", "\ufffd"), ("\u001f", "\ufffd"), ("\u000b", "\n"), ("\u000c", "\n")],
)
async def test_a_control_character_in_a_reason_text_is_replaced_with_a_warning(
    referral, character, kept_as
):
    """Free text is kept, not refused: a referral is not lost for a character pasted into it."""
    body = new_referral(reasons=[reason("105531004", text=f"Damp flat{character}mould")])
    prefer = {**REFERRAL_WRITE, "Prefer": "return=OperationOutcome"}

    created = await referral.post("/fhir/ServiceRequest", json=body, headers=prefer)

    assert created.status_code == 201, created.text
    [replaced] = [
        issue
        for issue in created.json()["issue"]
        if issue["details"]["coding"][0]["code"] == "replaced-characters"
    ]
    assert replaced["severity"] == "warning"
    assert replaced["expression"] == ["ServiceRequest.reasonCode[0].text"]
    served = await referral.get(created.headers["Location"], headers=REFERRAL_WRITE)
    assert served.json()["reasonCode"][0]["text"] == f"Damp flat{kept_as}mould"


async def test_a_control_character_in_a_directory_description_is_still_refused(directory):
    """Only the routes that read referrals leniently keep free text; the directory refuses."""
    body = organization(name="Forest Gate Trust")
    body["description"] = "Advice\u0007line"

    assert await element_refused(directory, "/organizations", body, 400) == "description"
