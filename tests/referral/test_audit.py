"""Every read and change of a referral, and every search, leaves an audit event."""

from tests.referral.conftest import READ, WRITE
from tests.support.builders import NHS_NUMBERS, service_request
from tests.support.clients import bearer

AUDITOR = bearer("audit:read", "audit:all-organisations")


async def test_create_read_update_and_search_are_audited(client):
    created = (
        await client.post("/fhir/ServiceRequest", json=service_request(), headers=WRITE)
    ).json()
    referral_id = created["id"]
    await client.get(f"/fhir/ServiceRequest/{referral_id}", headers=READ)
    body = {**service_request(status="on-hold"), "id": referral_id}
    await client.put(
        f"/fhir/ServiceRequest/{referral_id}", json=body, headers={**WRITE, "If-Match": 'W/"1"'}
    )
    await client.get(f"/fhir/ServiceRequest?patient.identifier={NHS_NUMBERS[0]}", headers=READ)

    audit = await client.get("/audit", headers=AUDITOR)

    events = list(reversed(audit.json()["events"]))
    assert [(e["action"], e.get("resource_id")) for e in events] == [
        ("create", referral_id),
        ("read", referral_id),
        ("update", referral_id),
        ("search", None),
    ]
    assert events[3]["returned_ids"] == [referral_id]
    assert {e["resource_type"] for e in events} == {"ServiceRequest"}
    assert NHS_NUMBERS[0] not in audit.text


async def test_a_failed_write_leaves_no_audit_event(client):
    await client.post(
        "/fhir/ServiceRequest", json=service_request(nhs_number="9434765918"), headers=WRITE
    )

    assert (await client.get("/audit", headers=AUDITOR)).json()["events"] == []
