"""Every read and change of a screening response or its Observations is audited."""

from tests.screening.builders import NHS_NUMBER, barts_answers, screening_response
from tests.screening.conftest import READ, WRITE
from tests.support.clients import bearer

AUDITOR = bearer("audit:read", "audit:all-organisations")


async def test_submission_reads_and_searches_leave_audit_events(client):
    created = await client.post(
        "/fhir/QuestionnaireResponse", json=screening_response(barts_answers()), headers=WRITE
    )
    response_id = created.json()["id"]
    await client.get(f"/fhir/QuestionnaireResponse/{response_id}", headers=READ)
    observations = await client.get(
        "/fhir/Observation",
        params={"derived-from": f"QuestionnaireResponse/{response_id}"},
        headers=READ,
    )
    returned = [e["resource"]["id"] for e in observations.json()["entry"]]
    await client.get("/referral-handoffs", params={"state": "pending"}, headers=READ)

    audit = await client.get("/audit", headers=AUDITOR)

    assert audit.status_code == 200
    events = list(reversed(audit.json()["events"]))
    assert [(e["action"], e["resource_type"]) for e in events] == [
        ("create", "QuestionnaireResponse"),
        ("read", "QuestionnaireResponse"),
        ("search", "Observation"),
        ("search", "ReferralHandoff"),
    ]
    assert events[0]["resource_id"] == response_id
    assert events[2]["returned_ids"] == returned
    assert all(e["subject"] == "dev-user" and e["correlation_id"] for e in events)
    assert NHS_NUMBER not in audit.text


async def test_audit_filters_by_record(client):
    first = (
        await client.post(
            "/fhir/QuestionnaireResponse", json=screening_response(barts_answers()), headers=WRITE
        )
    ).json()["id"]
    await client.get(f"/fhir/QuestionnaireResponse/{first}", headers=READ)

    audit = await client.get(
        "/audit", params={"resource_id": first, "action": "read"}, headers=AUDITOR
    )

    assert [e["resource_id"] for e in audit.json()["events"]] == [first]


async def test_audit_needs_its_own_scope(client):
    response = await client.get("/audit", headers=READ)

    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
