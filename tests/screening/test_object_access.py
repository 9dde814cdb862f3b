"""Object-level authorisation: a clinic sees and changes only the screening responses given at
that clinic, with their Observations and referral hand-offs; others answer 404 or are left out."""

import httpx

from tests.screening.builders import barts_answers, invitation, screening_response
from tests.screening.conftest import READ, WRITE
from tests.support.clients import bearer

CLINIC = "R1H12"  # the builders' clinic
OTHER_CLINIC = "RQM01"


def clinic(ods: str) -> dict[str, str]:
    return bearer("screening:read", "screening:write", ods=ods)


async def _submit(client: httpx.AsyncClient, headers: dict[str, str], **options) -> httpx.Response:
    return await client.post(
        "/fhir/QuestionnaireResponse",
        json=screening_response(barts_answers(item_1="yes") | {"7": "yes"}, **options),
        headers=headers,
    )


async def test_a_clinic_reads_only_its_own_responses_and_what_came_of_them(client, worker):
    own = await _submit(client, clinic(CLINIC))
    other = await _submit(client, WRITE, clinic=OTHER_CLINIC, nhs_number="9000000009")
    assert (own.status_code, other.status_code) == (201, 201)
    await worker.deliver_due()
    own_id, other_id = own.json()["id"], other.json()["id"]

    mine = clinic(CLINIC)
    assert (
        await client.get(f"/fhir/QuestionnaireResponse/{own_id}", headers=mine)
    ).status_code == 200
    hidden = await client.get(f"/fhir/QuestionnaireResponse/{other_id}", headers=mine)
    assert hidden.status_code == 404
    assert hidden.json()["issue"][0]["code"] == "not-found"

    observations = (await client.get("/fhir/Observation", headers=mine)).json()
    everyone = (await client.get("/fhir/Observation", headers=READ)).json()
    derived = {e["resource"]["derivedFrom"][0]["reference"] for e in observations["entry"]}
    assert derived == {f"QuestionnaireResponse/{own_id}"}
    assert 0 < observations["total"] < everyone["total"]
    theirs = next(
        e["resource"]["id"]
        for e in everyone["entry"]
        if e["resource"]["derivedFrom"][0]["reference"].endswith(other_id)
    )
    assert (await client.get(f"/fhir/Observation/{theirs}", headers=mine)).status_code == 404

    handoffs = (
        await client.get("/referral-handoffs", params={"state": "sent"}, headers=mine)
    ).json()
    assert [item["response_id"] for item in handoffs["items"]] == [own_id]
    assert handoffs["total"] == 1
    assert (await client.get(f"/referral-handoffs/{other_id}", headers=mine)).status_code == 404


async def test_a_clinic_submits_only_in_its_own_name(client):
    refused = await _submit(client, clinic(OTHER_CLINIC))
    invited = await client.post("/fhir/Task", json=invitation(), headers=clinic(OTHER_CLINIC))

    assert refused.status_code == 403
    assert refused.json()["issue"][0]["expression"][0].startswith("QuestionnaireResponse.extension")
    assert invited.status_code == 403
    assert invited.json()["issue"][0]["expression"] == ["Task.requester"]
    assert (await client.get("/fhir/Observation", headers=READ)).json()["total"] == 0


async def test_another_clinic_cannot_complete_a_draft(client):
    draft = await _submit(client, clinic(CLINIC), status="in-progress")
    assert draft.status_code == 201
    body = {**screening_response(barts_answers()), "id": draft.json()["id"]}

    response = await client.put(
        f"/fhir/QuestionnaireResponse/{draft.json()['id']}",
        json=body,
        headers={**clinic(OTHER_CLINIC), "If-Match": 'W/"1"'},
    )

    assert response.status_code == 404
    stored = await client.get(f"/fhir/QuestionnaireResponse/{draft.json()['id']}", headers=READ)
    assert stored.json()["status"] == "in-progress"


async def test_a_retry_does_not_reveal_another_clinics_response(client):
    first = await _submit(client, clinic(CLINIC), identifier="visit-9")
    retry = await client.post(
        "/fhir/QuestionnaireResponse",
        json=screening_response(barts_answers(), clinic=OTHER_CLINIC, identifier="visit-9"),
        headers={
            **clinic(OTHER_CLINIC),
            "If-None-Exist": "identifier=https://clinic-portal.example/response|visit-9",
        },
    )

    assert first.status_code == 201
    assert retry.status_code == 409
    assert first.json()["id"] not in retry.text


async def test_a_token_without_a_clinic_is_refused(client):
    no_clinic = bearer("screening:read", "screening:write")

    assert (await client.get("/fhir/Observation", headers=no_clinic)).status_code == 403
    assert (await _submit(client, no_clinic)).status_code == 403


async def test_a_response_naming_two_clinics_is_refused(client):
    body = screening_response(barts_answers())
    [context] = body["extension"]
    clinic_part = next(part for part in context["extension"] if part["url"] == "clinic")
    other = {
        "url": "clinic",
        "valueIdentifier": {**clinic_part["valueIdentifier"], "value": OTHER_CLINIC},
    }
    context["extension"].insert(0, other)

    response = await client.post("/fhir/QuestionnaireResponse", json=body, headers=clinic(CLINIC))

    assert response.status_code == 422
    assert "more than once" in response.json()["issue"][0]["diagnostics"]
