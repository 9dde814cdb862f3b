"""Searching care and support plans, and a team's worklist of overdue reviews."""

import httpx
import pytest

from signpost_schemas import systems
from tests.referral.careplans.plans import COACHES, LINK_WORKERS, care_plan, referral, review
from tests.referral.conftest import READ, WRITE
from tests.support.builders import NHS_NUMBERS
from tests.support.clients import bearer


async def _ids(client: httpx.AsyncClient, headers=READ, **params: str) -> list[str]:
    response = await client.get("/fhir/CarePlan", params=params, headers=headers)
    assert response.status_code == 200, response.text
    bundle = response.json()
    assert bundle["total"] == len(bundle.get("entry", []))
    return [entry["resource"]["id"] for entry in bundle.get("entry", [])]


@pytest.fixture
async def plans(client: httpx.AsyncClient) -> dict[str, str]:
    """Four plans: two of the link workers (one overdue), one of the coaches (overdue), one
    completed."""
    specs = {
        "overdue": dict(
            nhs=NHS_NUMBERS[0], receiver=LINK_WORKERS, created="2025-06-01", next_review=None
        ),
        "due_later": dict(
            nhs=NHS_NUMBERS[1],
            receiver=LINK_WORKERS,
            created="2026-06-01",
            next_review="2027-03-01",
        ),
        "coach_overdue": dict(
            nhs=NHS_NUMBERS[2],
            receiver=COACHES,
            created="2026-01-15",
            next_review="2026-07-01",
            role="health-and-wellbeing-coach",
        ),
        "completed": dict(
            nhs=NHS_NUMBERS[3],
            receiver=LINK_WORKERS,
            created="2025-01-10",
            next_review=None,
            status="completed",
        ),
    }
    ids = {}
    for name, spec in specs.items():
        referral_id = await referral(
            client,
            f"S-{name}",
            receiver=spec["receiver"],
            role=spec.get("role", "social-prescribing-link-worker"),
            nhs_number=spec["nhs"],
        )
        extension = [review(nextReview=spec["next_review"])] if spec["next_review"] else []
        body = care_plan(
            referral_id,
            created=spec["created"],
            period={"start": spec["created"]},
            extension=extension,
            status=spec.get("status", "active"),
        )
        response = await client.post("/fhir/CarePlan", json=body, headers=WRITE)
        assert response.status_code == 201, response.text
        ids[name] = response.json()["id"]
        ids[f"{name}_referral"] = referral_id
    return ids


async def test_search_by_referral_person_status_and_date(client, plans):
    assert await _ids(client, **{"based-on": f"ServiceRequest/{plans['due_later_referral']}"}) == [
        plans["due_later"]
    ]
    assert await _ids(
        client, **{"patient.identifier": f"{systems.NHS_NUMBER}|{NHS_NUMBERS[2]}"}
    ) == [plans["coach_overdue"]]
    assert await _ids(client, **{"patient:identifier": NHS_NUMBERS[3]}) == [plans["completed"]]
    assert set(await _ids(client, status="completed")) == {plans["completed"]}
    assert set(await _ids(client, status="active,completed")) == {
        plans[n] for n in ("overdue", "due_later", "coach_overdue", "completed")
    }
    # Plans whose period starts on or before the end of 2025.
    assert set(await _ids(client, date="le2025-12-31")) == {plans["overdue"], plans["completed"]}
    assert set(await _ids(client, date="ge2026-01-01")) == {
        plans[n] for n in ("overdue", "due_later", "coach_overdue", "completed")
    }


async def test_review_due_search_sorted_earliest_first(client, plans):
    # Due: completed 2026-01-10, overdue 2026-06-01, coach 2026-07-01, due_later 2027-03-01.
    assert await _ids(client, **{"review-due": "lt2026-12-04"}) == [
        plans["completed"],
        plans["overdue"],
        plans["coach_overdue"],
    ]
    assert await _ids(client, **{"review-due": "ge2026-07-01", "_sort": "-review-due"}) == [
        plans["due_later"],
        plans["coach_overdue"],
    ]
    assert await _ids(client, **{"review-due": "2026-06-01"}) == [plans["overdue"]]


async def test_a_teams_overdue_reviews(client, plans):
    worklist = {"review-due": "lt2026-12-04", "status": "active"}
    assert await _ids(
        client, **worklist, **{"based-on.performer": f"Organization/{LINK_WORKERS}"}
    ) == [plans["overdue"]]
    assert await _ids(
        client, **worklist, **{"based-on.performer-type": "health-and-wellbeing-coach"}
    ) == [plans["coach_overdue"]]
    # The team's own token: its worklist without naming itself, and nothing of other teams.
    team = bearer("referral:read", ods=COACHES)
    assert await _ids(client, team, **worklist) == [plans["coach_overdue"]]
    assert await _ids(client, team, **{"based-on.performer": LINK_WORKERS}) == []


async def test_access_by_organisation_applies_to_read_and_write(client, plans):
    outsider = bearer("referral:read", "referral:write", ods="Y09999")
    assert (
        await client.get(f"/fhir/CarePlan/{plans['overdue']}", headers=outsider)
    ).status_code == 404
    assert await _ids(client, outsider) == []
    coaches = bearer("referral:read", "referral:write", ods=COACHES)
    referral_id = await referral(
        client, "S-other", receiver=LINK_WORKERS, nhs_number=NHS_NUMBERS[4]
    )
    refused = await client.post("/fhir/CarePlan", json=care_plan(referral_id), headers=coaches)
    assert refused.status_code == 422
    assert refused.json()["issue"][0]["expression"] == ["CarePlan.basedOn[0]"]
    link_workers = bearer("referral:read", "referral:write", ods=LINK_WORKERS)
    allowed = await client.post("/fhir/CarePlan", json=care_plan(referral_id), headers=link_workers)
    assert allowed.status_code == 201, allowed.text


async def test_bad_search_values_are_400_and_unknown_parameters_ignored(client, plans):
    for params in ({"review-due": "soon"}, {"status": "finished"}, {"based-on": "Patient/1"}):
        response = await client.get("/fhir/CarePlan", params=params, headers=READ)
        assert response.status_code == 400, params
        assert response.json()["resourceType"] == "OperationOutcome"
    lenient = await client.get("/fhir/CarePlan", params={"colour": "blue"}, headers=READ)
    assert lenient.status_code == 200
    strict = await client.get(
        "/fhir/CarePlan", params={"colour": "blue"}, headers={**READ, "Prefer": "handling=strict"}
    )
    assert strict.status_code == 400
