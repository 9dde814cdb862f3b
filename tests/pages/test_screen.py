"""A person answers the screen in the browser: one positive screen with help wanted (saved as a
draft, the page reloaded, the draft resumed, a refused NHS number corrected, then a double click
on submit), one negative; each sees the outcome, and the positive one's referral is in
referral-api."""

import re
from pathlib import Path

import httpx

from tests.pages.conftest import Services, axe_summary, drive, pytestmark  # noqa: F401
from tests.support.clients import bearer

YES, NO = "LA33-6", "LA32-8"
BARTS = "barts-social-welfare-screening-2023.1"
POSITIVE, NEGATIVE = "9434765919", "9434765870"
REFERRALS = bearer("referral:read", "referral:all-organisations")
SCREENS = bearer("screening:read", "screening:all-organisations")


async def test_a_person_screens_positive_and_negative_and_the_referral_reaches_referral_api(
    page_services: Services, tmp_path: Path, screenshots: Path
) -> None:
    scenario = {
        "base": page_services.screening,
        "people": [
            {
                "label": "positive",
                "questionnaire": BARTS,
                "nhsNumber": POSITIVE,
                # Money worries (item 1), saved as a draft after three answers, then finished.
                "answers": [["1", YES], ["2", NO], ["3", YES]],
                "draftAfter": [["4", YES], ["5", NO], ["6", NO], ["7", YES]],
                "refusedFirst": "9434765918",
                "waitFor": "sent",
                "screenshot": str(screenshots / "pages-screen.png"),
                "questionsScreenshot": str(screenshots / "pages-screen-questions.png"),
            },
            {
                "label": "negative",
                "questionnaire": BARTS,
                "nhsNumber": NEGATIVE,
                "answers": [["1", NO], ["2", NO], ["3", YES], ["4", YES], ["5", NO], ["6", NO]],
                "lostAnswer": True,
            },
        ],
    }

    result = await drive("screen", scenario, tmp_path)

    steps = result["steps"]
    # Signed in by keyboard alone, past the skip link.
    assert (steps["firstTab"], steps["secondTab"]) == ("nhsuk-skip-link", "dev-sign-in")
    assert "Enter the NHS number" in steps["missingNumber"]
    positive, negative = steps["positive"], steps["negative"]
    # Each screen starts empty but for the hidden NHS number item, holding that person's number:
    # nothing of the person screened before carries over to the next.
    assert positive["answersAtStart"] == [["nhs-number", POSITIVE]]
    assert negative["answersAtStart"] == [["nhs-number", NEGATIVE]]
    draft_id = positive["draft"].split("reference is ")[1].split(":")[0]
    assert positive["offered"] == draft_id
    assert positive["resumed"].startswith(f"Draft {draft_id} resumed")
    # The API's refusal in words, no stack trace; the answers were kept.
    assert "Modulus 11" in positive["refused"] and "Traceback" not in positive["refused"]
    assert positive["keptAfterRefusal"] == 8
    assert (positive["flags"], positive["screen"], positive["help"]) == (
        "Financial insecurity",
        "Positive",
        "Yes",
    )
    # The draft was completed in place: one response, whatever the double click did.
    assert positive["reference"] == draft_id
    assert "sent" in positive["referral"]
    [referral_id] = re.findall(r"Referral ([0-9a-f-]{36}) is in", positive["referral"])
    assert (negative["flags"], negative["screen"], negative["help"]) == (
        "None",
        "Negative",
        "Not asked",
    )
    assert negative["referral"] == "No referral needed: nothing was flagged."
    assert "could not be sent" in negative["lost"]
    assert len(axe_summary(result)) == 6

    async with httpx.AsyncClient() as client:
        referral = await client.get(
            f"{page_services.referral}/fhir/ServiceRequest/{referral_id}", headers=REFERRALS
        )
        found = {
            number: await client.get(
                f"{page_services.referral}/fhir/ServiceRequest",
                params={"subject:identifier": f"https://fhir.nhs.uk/Id/nhs-number|{number}"},
                headers=REFERRALS,
            )
            for number in (POSITIVE, NEGATIVE)
        }
        observations = await client.get(
            f"{page_services.screening}/fhir/Observation",
            params={"patient.identifier": f"https://fhir.nhs.uk/Id/nhs-number|{NEGATIVE}"},
            headers=SCREENS,
        )
    assert referral.status_code == 200, referral.text
    body = referral.json()
    assert body["subject"]["identifier"]["value"] == POSITIVE
    assert body["performer"][0]["identifier"]["value"] == "F84001"
    # One referral for the positive screen, whatever the double click did; none for the other.
    totals = {number: answer.json()["total"] for number, answer in found.items()}
    assert totals == {POSITIVE: 1, NEGATIVE: 0}
    # The negative screen was sent twice (its first answer lost) and stored once: its answers
    # were extracted from one response.
    assert observations.status_code == 200, observations.text
    sources = {
        reference["reference"]
        for entry in observations.json()["entry"]
        for reference in entry["resource"]["derivedFrom"]
    }
    assert sources == {f"QuestionnaireResponse/{negative['reference']}"}
