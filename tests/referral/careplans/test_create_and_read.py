"""Creating, reading and updating a referral's care and support plan."""

import asyncio

import httpx
import pytest

from signpost_schemas import systems
from tests.referral.careplans.plans import STAFF, care_plan, issues, referral, review, review_due
from tests.referral.conftest import READ, WRITE
from tests.support.builders import NHS_NUMBERS

OUTCOME = {**WRITE, "Prefer": "return=OperationOutcome"}


async def _plans(client: httpx.AsyncClient, **params: str) -> list[dict]:
    response = await client.get("/fhir/CarePlan", params=params, headers=READ)
    assert response.status_code == 200, response.text
    return [entry["resource"] for entry in response.json().get("entry", [])]


async def test_a_plan_is_stored_with_the_referral_person_and_review_due(client):
    referral_id = await referral(client, "CP-1")
    response = await client.post("/fhir/CarePlan", json=care_plan(referral_id), headers=WRITE)
    assert response.status_code == 201, response.text
    plan = response.json()
    assert response.headers["Location"].endswith(f"/fhir/CarePlan/{plan['id']}/_history/1")
    assert response.headers["ETag"] == 'W/"1"'
    assert plan["meta"]["profile"] == [
        "https://signpost.nhs.example/StructureDefinition/SignpostCarePlan"
    ]
    assert plan["basedOn"] == [
        {"reference": f"ServiceRequest/{referral_id}", "type": "ServiceRequest"}
    ]
    assert plan["subject"]["identifier"] == {
        "system": systems.NHS_NUMBER,
        "value": NHS_NUMBERS[0],
    }
    assert plan["contained"][0]["subject"] == plan["subject"]
    assert plan["description"] == "My garden, and getting out to see people."
    assert plan["activity"][0]["detail"]["status"] == "scheduled"
    assert review_due(plan) == ("2027-04-01", "next-review")
    read = await client.get(f"/fhir/CarePlan/{plan['id']}", headers=READ)
    assert read.status_code == 200
    assert read.json() == plan


@pytest.mark.parametrize(
    ("created", "review_parts", "expected"),
    [
        ("2026-02-10T09:00:00Z", {}, ("2027-02-10", "created")),
        ("2024-02-29", {}, ("2025-02-28", "created")),
        ("2026-02-10", {"lastReviewed": "2026-06-30"}, ("2027-06-30", "last-review")),
        (
            "2026-02-10",
            {"lastReviewed": "2026-06-30", "nextReview": "2026-09-01"},
            ("2026-09-01", "next-review"),
        ),
    ],
)
async def test_the_review_is_due_twelve_months_on_when_no_review_date_is_given(
    client, created, review_parts, expected
):
    referral_id = await referral(client, "CP-2")
    body = care_plan(referral_id, created=created, extension=[review(**review_parts)])
    response = await client.post("/fhir/CarePlan", json=body, headers=WRITE)
    assert response.status_code == 201, response.text
    assert review_due(response.json()) == expected
    due = expected[0]
    assert [p["id"] for p in await _plans(client, **{"review-due": due})] == [response.json()["id"]]


async def test_a_plan_without_created_is_due_twelve_months_after_it_was_stored(client):
    referral_id = await referral(client, "CP-3")
    body = care_plan(referral_id, extension=[])
    del body["created"]
    del body["description"]
    response = await client.post("/fhir/CarePlan", json=body, headers=OUTCOME)
    assert response.status_code == 201, response.text
    assert ("warning", "CarePlan.created") in issues(response.json())
    assert ("warning", "CarePlan.description") in issues(response.json())
    plan = await client.get(response.headers["Location"].split("/_history")[0], headers=READ)
    stored = plan.json()
    stored_on = stored["meta"]["lastUpdated"][:10]
    year, rest = stored_on.split("-", 1)
    due, basis = review_due(stored)
    assert basis == "created"
    assert stored["created"][:10] == stored_on
    assert due in (f"{int(year) + 1}-{rest}", f"{int(year) + 1}-02-28")


async def test_names_are_removed_and_the_author_kept_by_staff_identifier(client):
    referral_id = await referral(client, "CP-4")
    body = care_plan(
        referral_id,
        author={
            "type": "Practitioner",
            "identifier": {"system": STAFF, "value": "LW-0042"},
            "display": "Alex Example",
        },
        note=[{"text": "Lives with a daughter"}],
        subject={
            "identifier": {"system": systems.NHS_NUMBER, "value": NHS_NUMBERS[0]},
            "display": "Sam Example",
        },
    )
    response = await client.post("/fhir/CarePlan", json=body, headers=OUTCOME)
    assert response.status_code == 201, response.text
    found = issues(response.json())
    assert ("warning", "CarePlan.author.display") in found or any(
        "author.display" in where for _, where in found
    )
    plan = (
        await client.get(response.headers["Location"].split("/_history")[0], headers=READ)
    ).json()
    assert plan["author"] == {
        "type": "Practitioner",
        "identifier": {"system": STAFF, "value": "LW-0042"},
    }
    assert "note" not in plan
    assert "display" not in plan["subject"]
    assert "Alex Example" not in str(plan) and "Sam Example" not in str(plan)


async def test_a_second_plan_for_a_referral_is_refused_and_nothing_duplicates(client):
    referral_id = await referral(client, "CP-5")
    first = await client.post("/fhir/CarePlan", json=care_plan(referral_id), headers=WRITE)
    assert first.status_code == 201
    again = await client.post("/fhir/CarePlan", json=care_plan(referral_id), headers=WRITE)
    assert again.status_code == 409
    assert first.json()["id"] in again.json()["issue"][0]["diagnostics"]
    assert [p["id"] for p in await _plans(client, **{"based-on": referral_id})] == [
        first.json()["id"]
    ]


async def test_update_replaces_the_plan_version_aware(client):
    referral_id = await referral(client, "CP-6")
    created = (
        await client.post("/fhir/CarePlan", json=care_plan(referral_id), headers=WRITE)
    ).json()
    plan_id = created["id"]
    changed = {**created, "status": "completed", "extension": [review(nextReview="2027-01-15")]}
    response = await client.put(
        f"/fhir/CarePlan/{plan_id}", json=changed, headers={**WRITE, "If-Match": 'W/"1"'}
    )
    assert response.status_code == 200, response.text
    assert response.json()["meta"]["versionId"] == "2"
    assert response.json()["status"] == "completed"
    assert review_due(response.json()) == ("2027-01-15", "next-review")
    # The served plan, sent back as it is (meta.versionId names the version replaced).
    again = await client.put(f"/fhir/CarePlan/{plan_id}", json=response.json(), headers=WRITE)
    assert again.status_code == 200, again.text
    assert again.json()["meta"]["versionId"] == "3"
    stale = await client.put(
        f"/fhir/CarePlan/{plan_id}", json=changed, headers={**WRITE, "If-Match": 'W/"1"'}
    )
    assert stale.status_code == 412
    unversioned = {k: v for k, v in changed.items() if k != "meta"}
    assert (
        await client.put(f"/fhir/CarePlan/{plan_id}", json=unversioned, headers=WRITE)
    ).status_code == 428
    other = await referral(client, "CP-6b", nhs_number=NHS_NUMBERS[1])
    moved = {**changed, "basedOn": [{"reference": f"ServiceRequest/{other}"}]}
    refused = await client.put(
        f"/fhir/CarePlan/{plan_id}", json=moved, headers={**WRITE, "If-Match": 'W/"3"'}
    )
    assert refused.status_code == 422
    assert refused.json()["issue"][0]["expression"] == ["CarePlan.basedOn[0]"]
    assert (await client.get(f"/fhir/CarePlan/{plan_id}", headers=READ)).json()["meta"][
        "versionId"
    ] == "3"


async def test_unknown_plan_is_404(client):
    response = await client.get("/fhir/CarePlan/no-such-plan", headers=READ)
    assert response.status_code == 404
    assert response.json()["resourceType"] == "OperationOutcome"


async def test_a_personal_health_budget_can_be_an_action_of_the_plan(client):
    referral_id = await referral(client, "CP-7")
    action = {
        "detail": {
            "code": {
                "coding": [{"system": systems.SUPPORT_OFFERED, "code": "personal-health-budget"}]
            },
            "status": "in-progress",
            "scheduledString": "Agree the budget at the next meeting",
        }
    }
    body = care_plan(referral_id, activity=[action])
    response = await client.post("/fhir/CarePlan", json=body, headers=OUTCOME)
    assert response.status_code == 201, response.text
    assert not [i for i in response.json()["issue"] if i["severity"] != "information"]


async def test_plans_sent_at_the_same_moment_for_one_referral_make_one(client):
    referral_id = await referral(client, "CP-8")
    responses = await asyncio.gather(
        *(
            client.post("/fhir/CarePlan", json=care_plan(referral_id), headers=WRITE)
            for _ in range(4)
        )
    )
    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409]
    assert len(await _plans(client, **{"based-on": referral_id})) == 1
