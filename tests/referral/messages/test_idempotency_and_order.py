"""Resends change nothing, a used id with other content is refused, older never beats newer,
and an update that arrives before its referral is held until the referral arrives."""

import asyncio
import copy

import pytest

from tests.referral.conftest import READ, send
from tests.referral.messages.conftest import NEW, REQUEST
from tests.support.conflicts import failing_once
from tests.support.messages import (
    contact,
    emis_patient,
    emis_service_request,
    journey,
    message,
    task,
)
from tests.support.rows import count_rows, fetch_rows


async def test_the_same_message_twice_changes_nothing(client, referral_app):
    first = await send(client, NEW)
    version = (await client.get("/fhir/ServiceRequest", headers=READ)).json()["entry"][0]
    again = await send(client, NEW)

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.content == first.content
    assert await count_rows(referral_app, "referral") == 1
    assert await count_rows(referral_app, "processed_message") == 1
    latest = (await client.get("/fhir/ServiceRequest", headers=READ)).json()["entry"][0]
    assert latest["resource"]["meta"] == version["resource"]["meta"]


async def test_a_resend_with_keys_in_another_order_is_the_same_message(client, referral_app):
    await send(client, NEW)
    reordered = dict(reversed(list(copy.deepcopy(NEW).items())))
    response = await send(client, reordered)

    assert response.status_code == 200
    assert await count_rows(referral_app, "processed_message") == 1


async def test_a_used_id_with_a_different_payload_is_a_conflict(client, referral_app):
    await send(client, NEW)
    changed = copy.deepcopy(NEW)
    changed["entry"][1]["resource"]["reasonCode"].pop()
    response = await send(client, changed)

    assert response.status_code == 409
    [issue] = response.json()["issue"]
    assert issue["code"] == "duplicate"
    assert issue["expression"] == ["Bundle.id"]
    assert await fetch_rows(
        referral_app, "SELECT reason_code FROM referral_reason ORDER BY rank"
    ) == [{"reason_code": "105531004"}, {"reason_code": "160932005"}]


async def test_concurrent_deliveries_of_one_message_create_one_referral(client, referral_app):
    responses = await asyncio.gather(*(send(client, NEW) for _ in range(5)))

    assert {r.status_code for r in responses} == {200}
    assert len({r.content for r in responses}) == 1
    assert await count_rows(referral_app, "referral") == 1
    assert await count_rows(referral_app, "processed_message") == 1


@pytest.mark.postgres_only
async def test_a_message_that_meets_a_write_conflict_is_run_again_and_applied_once(
    client, referral_app
):
    async with failing_once(referral_app, "referral", "INSERT") as attempts:
        response = await send(client, NEW)
        # The first attempt met the conflict and was rolled back; the second was stored.
        assert await attempts() == 2

    assert response.status_code == 200, response.text
    assert await count_rows(referral_app, "referral") == 1
    assert await count_rows(referral_app, "processed_message") == 1
    # Recorded once: a resend is answered as the first delivery was.
    assert (await send(client, NEW)).content == response.content


async def test_concurrent_updates_of_one_referral_count_every_contact(client, referral_app):
    await send(client, NEW)
    updates = [
        message(
            REQUEST,
            contact(f"c{n}", f"2026-10-0{n + 2}T10:00:00Z"),
            timestamp=f"2026-10-0{n + 2}T12:00:00Z",
            bundle_id=f"update-{n}",
        )
        for n in range(1, 7)
    ]
    responses = await asyncio.gather(*(send(client, update) for update in updates))

    assert {r.status_code for r in responses} == {200}
    assert await fetch_rows(referral_app, "SELECT contact_count FROM referral_lifecycle") == [
        {"contact_count": 6}
    ]
    served = (await client.get("/fhir/ServiceRequest", headers=READ)).json()["entry"][0]
    [lifecycle] = [
        e for e in served["resource"]["extension"] if e["url"].endswith("ReferralLifecycle")
    ]
    assert {"url": "contacts", "valueInteger": 6} in lifecycle["extension"]


async def test_an_update_naming_its_referral_with_spaces_around_the_identifier_updates_it(
    client, referral_app
):
    await send(client, NEW)
    padded = copy.deepcopy(REQUEST)
    identifier = padded["identifier"][0]
    identifier["system"], identifier["value"] = (
        f" {identifier['system']}",
        f"{identifier['value']} ",
    )
    update = message(
        padded,
        contact("c1", "2026-10-03T10:00:00Z"),
        timestamp="2026-10-03T12:00:00Z",
        bundle_id="update-padded",
    )

    response = await send(client, update)

    assert response.status_code == 200
    assert await count_rows(referral_app, "referral") == 1
    assert await fetch_rows(referral_app, "SELECT contact_count FROM referral_lifecycle") == [
        {"contact_count": 1}
    ]
    again = await send(client, update)
    assert (again.status_code, again.content) == (200, response.content)
    assert await count_rows(referral_app, "contact") == 1


async def test_an_older_contact_update_does_not_overwrite_a_newer_one(client, referral_app):
    await send(client, NEW)
    newer = message(
        REQUEST,
        contact("c1", "2026-10-03T10:00:00Z", attendance="3"),
        timestamp="2026-10-03T12:00:00Z",
    )
    older = message(
        REQUEST,
        contact("c1", "2026-10-03T10:00:00Z", attendance="0"),
        timestamp="2026-10-02T12:00:00Z",
    )
    await send(client, newer)
    response = await send(client, older)

    assert response.status_code == 200
    assert "1 superseded" in response.text
    assert await fetch_rows(referral_app, "SELECT attendance_outcome FROM contact") == [
        {"attendance_outcome": "dna"}
    ]


async def test_a_late_acceptance_does_not_reopen_a_closed_referral(client, referral_app):
    messages = journey("emis")
    for item in [messages[0], messages[-1], messages[1]]:  # new, closed, then accepted (older)
        assert (await send(client, item)).status_code == 200

    [row] = await fetch_rows(
        referral_app, "SELECT status, closure_reason_code FROM referral_lifecycle"
    )
    assert row == {"status": "closed", "closure_reason_code": "needs-met"}


async def test_an_older_service_request_does_not_replace_newer_content(client, referral_app):
    await send(client, NEW)
    newer = emis_service_request(
        reasons=[{"coding": [{"system": "http://snomed.info/sct", "code": "733423003"}]}]
    )
    await send(client, message(newer, timestamp="2026-10-05T09:00:00Z"))
    await send(client, message(REQUEST, timestamp="2026-10-04T09:00:00Z"))

    assert await fetch_rows(referral_app, "SELECT reason_code FROM referral_reason") == [
        {"reason_code": "733423003"}
    ]


async def test_an_update_before_its_referral_is_held_then_applied(client, referral_app):
    accepted = message(
        REQUEST, task("t1", "accepted", accepted="2026-10-02"), timestamp="2026-10-02T10:00:00Z"
    )
    held = await send(client, accepted)

    assert held.status_code == 202
    assert "held" in held.text
    assert await count_rows(referral_app, "referral") == 0
    assert await count_rows(referral_app, "held_message") == 1

    assert (await send(client, NEW)).status_code == 200
    assert await count_rows(referral_app, "held_message") == 0
    assert await fetch_rows(referral_app, "SELECT status FROM referral_lifecycle") == [
        {"status": "accepted"}
    ]
    resend = await send(client, accepted)
    assert resend.status_code == 200
    assert "applied to ServiceRequest" in resend.text


async def test_a_held_update_that_breaks_the_referral_dates_is_rejected_alone(client, referral_app):
    early = message(
        REQUEST, contact("c1", "2026-09-20T10:00:00Z"), timestamp="2026-09-20T12:00:00Z"
    )
    assert (await send(client, early)).status_code == 202
    assert (await send(client, NEW)).status_code == 200

    assert await count_rows(referral_app, "contact") == 0
    assert await count_rows(referral_app, "referral") == 1
    [row] = await fetch_rows(
        referral_app,
        "SELECT outcome, response_status FROM processed_message WHERE outcome <> 'applied'",
    )
    assert row == {"outcome": "rejected", "response_status": 422}
    again = await send(client, early)
    assert again.status_code == 422
    assert again.json()["issue"][0]["expression"] == ["Bundle.entry[2].resource.period.start"]


async def test_held_messages_keep_no_names_or_address_lines(client, referral_app):
    update = message(REQUEST, patient=emis_patient(), timestamp="2026-10-02T10:00:00Z")
    assert (await send(client, update)).status_code == 202

    [held] = await fetch_rows(referral_app, "SELECT body FROM held_message")
    assert "Synthetic" not in held["body"]
    assert "07700900000" not in held["body"]
