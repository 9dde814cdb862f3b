"""Updates held for a referral not received yet: applied from their reduced copy exactly as on
arrival, released when the referral is created through REST as when a `new` message creates
it, and expired, reported and answered once held past the retention."""

import asyncio
import json
import logging
from datetime import UTC, datetime

import sqlalchemy

from referral_api.messages import expire
from referral_api.messages.models import ProcessedMessage
from signpost_platform.logging import JsonFormatter
from signpost_schemas.fhir import profiles
from tests.referral.conftest import READ, WRITE, send
from tests.support.builders import NHS_NUMBERS, service_request
from tests.support.messages import contact, emis_patient, message, task
from tests.support.rows import count_rows, fetch_rows

REQUEST = service_request(identifier="HELD-0001")
CLOSED = (profiles.REFERRAL_CLOSURE_REASON, "needs-met")
CONDITION = {
    "fullUrl": "urn:uuid:5b0f4f2e-9c1e-4a57-8f43-2c1f6a0d9e11",
    "resource": {"resourceType": "Condition", "id": "cond-1", "code": {"text": "Synthetic"}},
}


def _update(*resources, timestamp="2026-10-02T10:00:00Z", **changes):
    return message(REQUEST, *resources, timestamp=timestamp, **changes)


async def _create(client, **headers):
    return await client.post("/fhir/ServiceRequest", json=REQUEST, headers={**WRITE, **headers})


async def _lifecycle(app):
    [row] = await fetch_rows(app, "SELECT status, contact_count FROM referral_lifecycle")
    return row


async def _outcomes(app):
    rows = await fetch_rows(
        app, "SELECT bundle_id, outcome, response_status FROM processed_message ORDER BY bundle_id"
    )
    return {row["bundle_id"]: (row["outcome"], row["response_status"]) for row in rows}


async def test_a_released_update_gives_the_person_and_warnings_it_gave_on_arrival(
    client, referral_app
):
    update = _update(patient=emis_patient(postcode="E15 1DA", birth_date="1961-04-12"))
    update["entry"].insert(2, CONDITION)  # the Patient is entry 3 as sent, 2 as held
    assert (await send(client, update)).status_code == 202

    created = message(REQUEST, reason_code="new", timestamp="2026-10-01T09:05:00Z")
    assert (await send(client, created)).status_code == 200

    [person] = await fetch_rows(
        referral_app,
        "SELECT postcode_district, lsoa_code, lsoa_status, birth_year FROM referral_person",
    )
    assert person == {
        "postcode_district": "E15",
        "lsoa_code": "E01033011",
        "lsoa_status": "derived",
        "birth_year": 1961,
    }
    gaps = await fetch_rows(referral_app, "SELECT element FROM referral_gap")
    assert {"element": "Patient.name"} in gaps
    resend = await send(client, update)
    assert resend.status_code == 200
    issues = resend.json()["entry"][1]["resource"]["issue"]
    expressions = [issue.get("expression", [None])[0] for issue in issues]
    assert "Bundle.entry[3].resource.name" in expressions
    assert any(issue["diagnostics"] == "not kept by Signpost: Condition" for issue in issues)


async def test_a_rest_create_releases_the_updates_held_for_it(client, referral_app):
    accepted = _update(task("t1", "accepted", accepted="2026-10-02"))
    assert (await send(client, accepted)).status_code == 202

    response = await _create(client)

    assert response.status_code == 201, response.text
    assert await count_rows(referral_app, "held_message") == 0
    assert (await _lifecycle(referral_app))["status"] == "accepted"
    assert await _outcomes(referral_app) == {accepted["id"]: ("applied", 200)}
    # The answer is the referral as the release left it, and its version is the current one.
    served = await client.get(f"/fhir/ServiceRequest/{response.json()['id']}", headers=READ)
    assert response.headers["ETag"] == served.headers["ETag"] == 'W/"2"'
    assert response.json()["meta"] == served.json()["meta"]
    resend = await send(client, accepted)
    assert resend.status_code == 200
    assert "applied to ServiceRequest" in resend.text


async def test_a_conditional_create_releases_held_updates_in_order_and_once(client, referral_app):
    first = _update(contact("c1", "2026-10-02T10:00:00Z"), timestamp="2026-10-02T12:00:00Z")
    accepted = _update(
        task("t1", "accepted", accepted="2026-10-02"), timestamp="2026-10-03T10:00:00Z"
    )
    closed = _update(
        task("t1", "completed", accepted="2026-10-02", ended="2026-10-04", reason=CLOSED),
        timestamp="2026-10-04T10:00:00Z",
    )
    for update in (closed, first, accepted):  # arriving out of order
        assert (await send(client, update)).status_code == 202
    condition = {"If-None-Exist": f"identifier={REQUEST['identifier'][0]['system']}|HELD-0001"}

    created, again = await _create(client, **condition), await _create(client, **condition)

    assert (created.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == created.json()["id"]
    assert await _lifecycle(referral_app) == {"status": "closed", "contact_count": 1}
    assert set((await _outcomes(referral_app)).values()) == {("applied", 200)}
    # Released oldest first: the closing update was applied last, over the acceptance.
    [row] = await fetch_rows(referral_app, "SELECT status FROM referral_task")
    assert row == {"status": "completed"}


async def test_concurrent_holds_and_a_rest_create_leave_nothing_held(client, referral_app):
    updates = [
        _update(
            contact(f"c{n}", f"2026-10-0{n + 1}T10:00:00Z"), timestamp=f"2026-10-0{n + 1}T12:00:00Z"
        )
        for n in range(1, 5)
    ]
    responses = await asyncio.gather(
        *(send(client, update) for update in updates[:2]),
        _create(client),
        *(send(client, update) for update in updates[2:]),
    )

    assert {r.status_code for r in responses} <= {200, 201, 202}
    assert await count_rows(referral_app, "held_message") == 0
    assert (await _lifecycle(referral_app))["contact_count"] == 4


RECEIVED = {
    "old": datetime(2026, 1, 5, 9, tzinfo=UTC),
    "recent": datetime(2026, 2, 1, 9, tzinfo=UTC),
}
NOW = datetime(2026, 2, 10, 3, tzinfo=UTC)  # 36 and 9 days after


async def _hold_two(client, referral_app):
    old = _update(
        contact("c1", "2026-10-02T10:00:00Z"),
        bundle_id="held-old",
        patient=emis_patient(NHS_NUMBERS[0], postcode="E15 1DA"),
    )
    recent = _update(task("t1", "accepted", accepted="2026-10-02"), bundle_id="held-recent")
    for update in (old, recent):
        assert (await send(client, update)).status_code == 202
    async with referral_app.state.database.sessionmaker() as session, session.begin():
        for key, received in RECEIVED.items():
            await session.execute(_received(received, f"held-{key}"))
    return old, recent


def _received(received_at, bundle_id):
    """Set when a message was received: the retention runs from then."""
    return (
        sqlalchemy.update(ProcessedMessage)
        .where(ProcessedMessage.bundle_id == bundle_id)
        .values(received_at=received_at)
    )


async def test_held_messages_past_the_retention_expire_and_are_reported(
    client, referral_app, caplog
):
    old, _ = await _hold_two(client, referral_app)
    caplog.set_level(logging.INFO, logger="signpost.messages.expire")

    async with referral_app.state.database.sessionmaker() as session, session.begin():
        expired = await expire.expire_held(session, now=NOW, retention_days=30)

    assert [item.bundle_id for item in expired] == ["held-old"]
    assert await fetch_rows(referral_app, "SELECT bundle_id FROM held_message") == [
        {"bundle_id": "held-recent"}
    ]
    assert await _outcomes(referral_app) == {
        "held-old": ("expired", 422),
        "held-recent": ("held", 202),
    }
    lines = [json.loads(JsonFormatter("referral-api").format(r)) for r in caplog.records]
    [line] = [line for line in lines if line.get("bundle_id") == "held-old"]
    assert (line["source_system"], line["sender_endpoint"], line["requester_ods"]) == (
        "emis",
        "https://emis.example/bars",
        "F84001",
    )
    [summary] = [line for line in lines if "expired" in line and line["expired"] == 1]
    assert summary["by_source_system"] == {"emis": 1}
    logged = " ".join(json.dumps(line) for line in lines)
    for personal in (NHS_NUMBERS[0], "E15 1DA", "E15", "HELD-0001"):
        assert personal not in logged

    resend = await send(client, old)
    assert resend.status_code == 422
    assert resend.json()["issue"][0]["code"] == "not-found"
    assert (await _create(client)).status_code == 201
    assert (await _lifecycle(referral_app)) == {"status": "accepted", "contact_count": 0}
    assert (await _outcomes(referral_app))["held-old"] == ("expired", 422)


async def test_a_message_expires_once_held_longer_than_the_retention(client, referral_app):
    await _hold_two(client, referral_app)
    found = {}
    for days in (40, 30):  # the old one was received 36 days before NOW
        async with referral_app.state.database.sessionmaker() as session, session.begin():
            expired = await expire.expire_held(session, now=NOW, retention_days=days)
        found[days] = [item.bundle_id for item in expired]

    assert found == {40: [], 30: ["held-old"]}


async def test_the_expire_command_expires_by_the_configured_retention(
    client, referral_app, referral_database, monkeypatch
):
    await _hold_two(client, referral_app)
    # Received long ago, and not yet (by any clock this runs under): only the first expires.
    async with referral_app.state.database.sessionmaker() as session, session.begin():
        await session.execute(_received(datetime(2000, 1, 1, tzinfo=UTC), "held-old"))
        await session.execute(_received(datetime(2999, 1, 1, tzinfo=UTC), "held-recent"))
    monkeypatch.setenv("REFERRAL_HELD_MESSAGE_RETENTION_DAYS", "30")

    status = await asyncio.to_thread(expire.main, ["--database-url", referral_database])

    assert status == 0
    assert await fetch_rows(referral_app, "SELECT bundle_id FROM held_message") == [
        {"bundle_id": "held-recent"}
    ]
