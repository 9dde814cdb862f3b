"""What a care and support plan refuses (nothing is written) and what it keeps with a warning."""

import httpx
import pytest

from signpost_schemas import systems
from tests.referral.careplans.plans import care_plan, issues, referral
from tests.referral.conftest import READ, WRITE, send_raw
from tests.support.builders import NHS_NUMBERS

OUTCOME = {**WRITE, "Prefer": "return=OperationOutcome"}


async def _count(client: httpx.AsyncClient) -> int:
    response = await client.get("/fhir/CarePlan", params={"_summary": "count"}, headers=READ)
    return int(response.json()["total"])


def _action(code: dict) -> list[dict]:
    return [{"detail": {"code": code, "status": "not-started"}}]


REFUSED = [
    ({"intent": "order"}, 422, "CarePlan.intent"),
    ({"basedOn": [{"reference": "Patient/abc"}]}, 422, "CarePlan.basedOn[0]"),
    ({"basedOn": []}, 400, "CarePlan.basedOn"),
    ({"status": "finished"}, 422, "CarePlan.status"),
    ({"period": {"start": "2026-12-01", "end": "2026-11-01"}}, 422, "CarePlan.period"),
    ({"goal": [{"reference": "#missing"}]}, 422, "CarePlan.goal[0]"),
    (
        {
            "activity": _action(
                {"coding": [{"system": "https://example.org/other", "code": "walk"}]}
            )
        },
        422,
        "CarePlan.activity[0].detail.code",
    ),
    (
        {"activity": _action({"coding": [{"system": systems.SNOMED, "code": "12345"}]})},
        422,
        "CarePlan.activity[0].detail.code.coding[0].code",
    ),
    (
        {
            "extension": [
                {
                    "url": "https://signpost.nhs.example/StructureDefinition/"
                    "Extension-Signpost-AuthorRole",
                    "valueCoding": {
                        "system": systems.PERSONALISED_CARE_ROLE,
                        "code": "astronaut",
                    },
                }
            ]
        },
        422,
        "CarePlan.extension[0].valueCoding",
    ),
    ({"modifierExtension": [{"url": "https://example.org/x", "valueBoolean": True}]}, 422, None),
]


@pytest.mark.parametrize(("changes", "status", "expression"), REFUSED)
async def test_what_cannot_be_stored_safely_is_refused_and_nothing_is_written(
    client, changes, status, expression
):
    referral_id = await referral(client, "BAD-1")
    response = await client.post(
        "/fhir/CarePlan", json=care_plan(referral_id, **changes), headers=WRITE
    )
    assert response.status_code == status, response.text
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    if expression:
        assert any(expression in issue.get("expression", []) for issue in outcome["issue"]), outcome
    assert await _count(client) == 0


async def test_a_plan_for_an_unknown_referral_or_another_person_is_refused(client):
    referral_id = await referral(client, "BAD-2")
    unknown = await client.post(
        "/fhir/CarePlan", json=care_plan("0e4f8e1c-0000-4000-8000-000000000000"), headers=WRITE
    )
    assert unknown.status_code == 422
    assert unknown.json()["issue"][0]["expression"] == ["CarePlan.basedOn[0]"]
    other_person = care_plan(
        referral_id, subject={"identifier": {"system": systems.NHS_NUMBER, "value": NHS_NUMBERS[1]}}
    )
    refused = await client.post("/fhir/CarePlan", json=other_person, headers=WRITE)
    assert refused.status_code == 422
    assert refused.json()["issue"][0]["expression"] == ["CarePlan.subject.identifier"]
    assert await _count(client) == 0


@pytest.mark.parametrize("body", [b"{not json", b'{"resourceType": "Goal"}'])
async def test_a_body_that_is_not_a_care_plan_is_400(client, body):
    response = await send_raw(client, "/fhir/CarePlan", body)
    assert response.status_code == 400
    assert response.json()["resourceType"] == "OperationOutcome"
    assert await _count(client) == 0


async def test_unknown_codes_are_kept_with_a_warning(client):
    referral_id = await referral(client, "BAD-3")
    body = care_plan(
        referral_id,
        activity=[
            *_action({"coding": [{"system": systems.SNOMED, "code": "229065009"}]}),
            *_action({"text": "Cook together on Fridays"}),
        ],
    )
    body["contained"][0]["description"] = {"text": "Feel less alone"}
    response = await client.post("/fhir/CarePlan", json=body, headers=OUTCOME)
    assert response.status_code == 201, response.text
    found = issues(response.json())
    assert ("warning", "CarePlan.activity[0].detail.code") in found
    assert ("warning", "CarePlan.activity[1].detail.code") in found
    assert ("warning", "CarePlan.contained[0].description") in found
    assert await _count(client) == 1


async def test_elements_outside_the_profile_are_kept_and_named(client):
    referral_id = await referral(client, "BAD-4")
    body = care_plan(referral_id, addresses=[{"reference": "Condition/1"}])
    response = await client.post("/fhir/CarePlan", json=body, headers=OUTCOME)
    assert response.status_code == 201, response.text
    assert ("warning", "CarePlan.addresses") in issues(response.json()) or any(
        "addresses" in where for _, where in issues(response.json())
    )
