"""Every read and change of a referral, and every search, leaves an audit event."""

import pytest
from sqlalchemy import text

from referral_api.audit import trail
from signpost_platform.auth import Caller
from tests.referral.conftest import READ, WRITE
from tests.support.builders import NHS_NUMBERS, service_request
from tests.support.clients import bearer
from tests.support.messages import contact, emis_service_request, message, new_referral

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


async def test_a_message_that_changes_a_referral_is_audited_and_a_resend_or_held_one_is_not(
    client,
):
    created = await client.post(
        "/fhir/$process-message", json=new_referral(timestamp="2026-10-02T09:00:00Z"), headers=WRITE
    )
    update = message(
        emis_service_request(),
        contact("contact-1", "2026-10-03T10:00:00Z"),
        timestamp="2026-10-03T11:00:00Z",
    )
    first = await client.post("/fhir/$process-message", json=update, headers=WRITE)
    resent = await client.post("/fhir/$process-message", json=update, headers=WRITE)
    held = await client.post(
        "/fhir/$process-message",
        json=message(
            emis_service_request(identifier="EMIS-UNKNOWN-1"), timestamp="2026-10-04T09:00:00Z"
        ),
        headers=WRITE,
    )
    assert [r.status_code for r in (created, first, resent, held)] == [200, 200, 200, 202]
    found = await client.get("/fhir/ServiceRequest?identifier=EMIS-2026-0001", headers=READ)
    [referral_id] = [e["resource"]["id"] for e in found.json()["entry"]]

    events = (await client.get("/audit?action=process", headers=AUDITOR)).json()["events"]

    assert [(e["resource_type"], e["resource_id"]) for e in events] == [
        ("ServiceRequest", referral_id),
        ("ServiceRequest", referral_id),
    ]
    assert events[0]["correlation_id"] == first.headers["x-correlation-id"]


async def test_a_failed_write_leaves_no_audit_event(client):
    await client.post(
        "/fhir/ServiceRequest", json=service_request(nhs_number="9434765918"), headers=WRITE
    )

    assert (await client.get("/audit", headers=AUDITOR)).json()["events"] == []


async def test_the_audit_event_of_a_read_is_recorded(client):
    created = (
        await client.post("/fhir/ServiceRequest", json=service_request(), headers=WRITE)
    ).json()
    read = await client.get(f"/fhir/ServiceRequest/{created['id']}", headers=READ)

    audit = await client.get("/audit?action=read", headers=AUDITOR)

    [event] = audit.json()["events"]
    assert (event["action"], event["resource_type"], event["resource_id"]) == (
        "read",
        "ServiceRequest",
        created["id"],
    )
    assert event["correlation_id"] == read.headers["x-correlation-id"]


def _auditor_caller() -> Caller:
    return Caller("reader-1", "client-1", "F84001", frozenset({"referral:read"}))


@pytest.mark.postgres_only
async def test_a_read_audit_event_leaves_its_connection_durable(referral_app):
    """The event of a read is written without waiting for a WAL flush, for its own transaction
    only: the connection goes back to the pool with synchronous_commit on."""
    database = referral_app.state.database
    async with database.read_sessionmaker() as session:
        await trail.record(session, _auditor_caller(), "read", "ServiceRequest", "ref-1")
        setting = (await session.execute(text("SHOW synchronous_commit"))).scalar_one()
    async with database.engine.connect() as other:
        stored = (await other.execute(text("SELECT action, resource_id FROM audit_event"))).all()

    assert setting == "on"
    assert [tuple(row) for row in stored] == [("read", "ref-1")]


@pytest.mark.postgres_only
async def test_the_audit_event_of_a_write_commits_durably_with_the_write(referral_app):
    database = referral_app.state.database
    async with database.sessionmaker() as session:
        await trail.record(session, _auditor_caller(), "read", "ServiceRequest", "ref-1")
        setting = (await session.execute(text("SHOW synchronous_commit"))).scalar_one()
        await session.rollback()

    assert setting == "on"


async def test_the_audit_event_of_a_search_names_the_ids_of_its_page_in_order(client):
    """Each page's event names what that page returned, as the page lists it; a page past the
    last match, or a count, names none, and every search is recorded once."""
    for index in range(3):
        body = service_request(identifier=f"P{index}", authored=f"2026-0{index + 1}-10T09:00:00Z")
        assert (
            await client.post("/fhir/ServiceRequest", json=body, headers=WRITE)
        ).status_code == 201
    pages = []
    for query in ("_sort=authored&_count=2", "_sort=authored&_count=2&_offset=2"):
        pages.append((await client.get(f"/fhir/ServiceRequest?{query}", headers=READ)).json())
    past = (await client.get("/fhir/ServiceRequest?_count=2&_offset=4", headers=READ)).json()
    counted = (await client.get("/fhir/ServiceRequest?_summary=count", headers=READ)).json()

    events = list(
        reversed((await client.get("/audit?action=search", headers=AUDITOR)).json()["events"])
    )

    assert [e.get("returned_ids") for e in events] == [
        [entry["resource"]["id"] for entry in pages[0]["entry"]],
        [entry["resource"]["id"] for entry in pages[1]["entry"]],
        None,
        None,
    ]
    assert [len(page["entry"]) for page in pages] == [2, 1]
    assert (past["total"], past.get("entry", [])) == (3, [])
    assert counted["total"] == 3
