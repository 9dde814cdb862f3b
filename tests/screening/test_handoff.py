"""The referral hand-off: delivery to a real referral-api, retries, idempotency, read-back."""

import asyncio
import json
import socket
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import text

from referral_api.config import ReferralSettings
from referral_api.main import create_app as create_referral_app
from screening_api.handoff.client import DeliveryError, ReferralApi, TokenProvider
from screening_api.handoff.referral import message_id
from screening_api.handoff.repository import HandoffRepository
from screening_api.handoff.worker import HandoffWorker, referral_progress
from signpost_platform.outbox import backoff
from signpost_schemas.fhir import profiles
from tests.screening.builders import barts_answers, outcome_of, screening_response
from tests.screening.conftest import READ, REFERRAL_READ, WRITE, screening_settings
from tests.support.clients import bearer, running
from tests.support.rows import fetch_rows

REFERRAL_WRITE = bearer("referral:write", "referral:read", "referral:all-organisations")
SCREENING_ID = "https://signpost.nhs.example/Id/screening-response"
ODS = "https://fhir.nhs.uk/Id/ods-organization-code"


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _submit(client, **changes):
    answers = barts_answers(**changes) | {"7": "yes"}
    response = await client.post(
        "/fhir/QuestionnaireResponse", json=screening_response(answers), headers=WRITE
    )
    assert response.status_code == 201
    return response.json()["id"]


async def _referrals(referral_client, response_id):
    search = await referral_client.get(
        "/fhir/ServiceRequest",
        params={"identifier": f"{SCREENING_ID}|{response_id}"},
        headers=REFERRAL_READ,
    )
    return [entry["resource"] for entry in search.json().get("entry", [])]


def _down_worker(app) -> HandoffWorker:
    settings = screening_settings(
        app.state.settings.database_url,
        referral_api_url=f"http://127.0.0.1:{_closed_port()}",
        referral_api_timeout_seconds=2,
    )
    return HandoffWorker(app.state.database, settings, ReferralApi(settings))


async def test_delivery_creates_the_referral_in_referral_api(client, worker, referral_client):
    response_id = await _submit(client, item_1="yes", item_3="no", item_5="yes")

    await worker.deliver_due()

    [referral] = await _referrals(referral_client, response_id)
    assert referral["performerType"]["coding"][0]["code"] == "social-prescribing-link-worker"
    assert [r["coding"][0]["code"] for r in referral["reasonCode"]] == [
        "160932005",
        "105531004",
        "personal-safety-concern",
    ]
    assert referral["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] == (
        "social-welfare-screening"
    )
    assert referral["subject"]["identifier"]["value"] == "9434765919"
    assert referral["requester"]["identifier"]["value"] == "R1H12"
    assert referral["identifier"] == [{"system": SCREENING_ID, "value": response_id}]
    # Routed to the clinic's social-prescribing team; item 5 ("feel unsafe") flagged: urgent.
    assert referral["performer"][0]["identifier"] == {"system": ODS, "value": "F84001"}
    assert referral["priority"] == "urgent"
    assert referral["authoredOn"] == "2026-11-02T09:30:00Z"


async def test_delivered_referral_shows_in_the_outcome(client, worker, referral_client):
    response_id = await _submit(client, item_2="yes")
    await worker.deliver_due()

    body = (await client.get(f"/fhir/QuestionnaireResponse/{response_id}", headers=READ)).json()

    [referral] = await _referrals(referral_client, response_id)
    assert outcome_of(body)["referral"] == {
        "state": "sent",
        "serviceRequest": {
            "reference": f"http://referral.test/fhir/ServiceRequest/{referral['id']}",
            "type": "ServiceRequest",
        },
        "attempts": 1,
    }


async def test_referral_api_down_leaves_the_handoff_failing_with_its_error(
    client, screening_app, referral_client
):
    response_id = await _submit(client, item_1="yes")

    await _down_worker(screening_app).deliver_due()

    [row] = await fetch_rows(
        screening_app, "SELECT state, attempts, last_error, referral_id FROM referral_handoff"
    )
    assert row["state"] == "failing"
    assert row["attempts"] == 1
    assert row["last_error"] == "referral-api unreachable: ConnectError"
    assert row["referral_id"] is None
    assert await _referrals(referral_client, response_id) == []
    outcome = outcome_of(
        (await client.get(f"/fhir/QuestionnaireResponse/{response_id}", headers=READ)).json()
    )
    assert outcome["referral"] == {
        "state": "failing",
        "attempts": 1,
        "lastError": "referral-api unreachable: ConnectError",
    }


async def test_failed_handoff_waits_for_its_backoff_then_is_delivered_once(
    client, screening_app, worker, referral_client
):
    response_id = await _submit(client, item_1="yes")
    await _down_worker(screening_app).deliver_due()

    await worker.deliver_due()  # not yet due: the backoff holds it
    assert await _referrals(referral_client, response_id) == []

    worker.clock = lambda: datetime.now(UTC) + timedelta(minutes=10)
    await worker.deliver_due()

    assert len(await _referrals(referral_client, response_id)) == 1
    [row] = await fetch_rows(
        screening_app, "SELECT state, attempts, last_error FROM referral_handoff"
    )
    assert row == {"state": "sent", "attempts": 2, "last_error": None}


async def test_redelivery_after_a_lost_acknowledgement_never_duplicates(
    client, screening_app, worker, referral_client
):
    response_id = await _submit(client, item_6="yes")
    await worker.deliver_due()
    # As if the process died after referral-api answered but before the row was marked sent.
    async with screening_app.state.database.sessionmaker() as session, session.begin():
        await HandoffRepository(session).mark_failed(
            response_id, "lost", datetime.now(UTC) - timedelta(seconds=1)
        )

    await worker.deliver_due()

    referrals = await _referrals(referral_client, response_id)
    assert len(referrals) == 1
    [row] = await fetch_rows(screening_app, "SELECT state, referral_id FROM referral_handoff")
    assert row == {"state": "sent", "referral_id": referrals[0]["id"]}


async def test_a_claimed_row_is_not_claimed_again_during_its_lease(client, screening_app):
    await _submit(client, item_1="yes")
    await _submit(client, item_2="yes")
    now = datetime.now(UTC)
    lease = timedelta(seconds=60)

    async def claim():
        async with screening_app.state.database.sessionmaker() as session, session.begin():
            return await HandoffRepository(session).claim_due(now, 10, lease)

    first, second = await asyncio.gather(claim(), claim())

    claimed = sorted(h.response_id for h in [*first, *second])
    assert len(claimed) == 2 and len(set(claimed)) == 2


@pytest.mark.postgres_only
async def test_two_replicas_skip_rows_the_other_has_locked(client, screening_app, backend):
    if backend != "postgresql":
        pytest.skip("row locks are a PostgreSQL feature; SQLite has one writer")
    await _submit(client, item_1="yes")
    await _submit(client, item_2="yes")
    now = datetime.now(UTC)
    lease = timedelta(seconds=60)
    database = screening_app.state.database
    async with database.sessionmaker() as first, first.begin():
        taken = await HandoffRepository(first).claim_due(now, 1, lease)
        # While the first replica's transaction holds its row, the second gets the other one.
        async with database.sessionmaker() as second, second.begin():
            other = await HandoffRepository(second).claim_due(now, 10, lease)
    assert len(taken) == 1 and len(other) == 1
    assert taken[0].response_id != other[0].response_id


async def test_status_is_read_back_from_referral_api(
    client, screening_app, worker, referral_client
):
    response_id = await _submit(client, item_1="yes")
    await worker.deliver_due()
    [referral] = await _referrals(referral_client, response_id)
    referral["status"] = "completed"
    updated = await referral_client.put(
        f"/fhir/ServiceRequest/{referral['id']}",
        json=referral,
        headers={**REFERRAL_WRITE, "If-Match": 'W/"1"'},
    )
    assert updated.status_code == 200

    worker.clock = lambda: datetime.now(UTC) + timedelta(days=1)
    await worker.refresh_statuses()

    [row] = await fetch_rows(
        screening_app,
        "SELECT referral_status, referral_accepted, referral_closed FROM referral_handoff",
    )
    assert row == {
        "referral_status": "completed",
        "referral_accepted": True,
        "referral_closed": True,
    }


async def test_handoff_listing_shows_failing_rows_with_their_error(client, screening_app):
    response_id = await _submit(client, item_1="yes")
    await _down_worker(screening_app).deliver_due()

    listing = await client.get("/referral-handoffs", params={"state": "failing"}, headers=READ)

    assert listing.status_code == 200
    [item] = listing.json()["items"]
    assert item["response_id"] == response_id
    assert item["state"] == "failing"
    assert item["last_error"] == "referral-api unreachable: ConnectError"
    single = await client.get(f"/referral-handoffs/{response_id}", headers=READ)
    assert single.json()["attempts"] == 1


async def test_handoff_listing_refuses_an_unknown_state(client):
    response = await client.get("/referral-handoffs", params={"state": "lost"}, headers=READ)

    assert response.status_code == 400
    assert response.json()["errors"][0]["parameter"] == "state"


async def test_handoff_listing_refuses_an_offset_no_database_can_hold(client):
    response = await client.get(
        "/referral-handoffs", params={"offset": 10**21, "limit": 5}, headers=READ
    )
    furthest = await client.get(
        "/referral-handoffs", params={"offset": 10_000_000, "limit": 5}, headers=READ
    )

    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["parameter"] == "offset"
    assert furthest.status_code == 200, furthest.text
    assert furthest.json()["items"] == []


def test_backoff_doubles_and_is_capped():
    delays = [backoff(attempt, 2.0, 60.0) for attempt in (1, 2, 3, 10)]

    assert 1.6 <= delays[0] <= 2.4
    assert 3.2 <= delays[1] <= 4.8
    assert 6.4 <= delays[2] <= 9.6
    assert 48 <= delays[3] <= 72


def test_referral_progress_reads_acceptance_and_closure():
    assert referral_progress({"status": "active"}) == ("active", False, False)
    assert referral_progress({"status": "active", "performer": [{"display": "x"}]}) == (
        "active",
        True,
        False,
    )
    assert referral_progress({"status": "revoked"}) == ("revoked", False, True)


def test_the_receiving_organisation_the_handoff_names_is_not_acceptance():
    team = {"type": "Organization", "identifier": {"system": ODS, "value": "F84001"}}
    accepted = {
        "url": profiles.REFERRAL_LIFECYCLE_EXTENSION,
        "extension": [
            {"url": "status", "valueCode": "accepted"},
            {"url": "acceptedOn", "valueDateTime": "2026-11-03T10:00:00Z"},
        ],
    }

    assert referral_progress({"status": "active", "performer": [team]}) == (
        "active",
        False,
        False,
    )
    assert referral_progress(
        {"status": "active", "performer": [team], "extension": [accepted]}
    ) == ("active", True, False)


async def test_a_handoff_written_as_a_service_request_is_still_delivered(
    client, screening_app, worker, referral_client
):
    """Rows written before hand-offs became messages hold a plain ServiceRequest: they are
    delivered by conditional create, as they were."""
    response_id = await _submit(client, item_1="yes")
    [row] = await fetch_rows(screening_app, "SELECT request FROM referral_handoff")
    message = json.loads(row["request"])
    [request] = [
        e["resource"] for e in message["entry"] if e["resource"]["resourceType"] == "ServiceRequest"
    ]
    async with screening_app.state.database.engine.begin() as connection:
        await connection.execute(
            text("UPDATE referral_handoff SET request = :request"),
            {"request": json.dumps(request)},
        )

    await worker.deliver_due()

    [referral] = await _referrals(referral_client, response_id)
    [row] = await fetch_rows(screening_app, "SELECT state, referral_id FROM referral_handoff")
    assert row == {"state": "sent", "referral_id": referral["id"]}


async def test_the_handoff_is_a_message_with_a_stable_id(client, screening_app):
    response_id = await _submit(client, item_1="yes")

    [row] = await fetch_rows(screening_app, "SELECT request FROM referral_handoff")
    message = json.loads(row["request"])
    assert message["type"] == "message"
    assert message["id"] == message_id(response_id)
    header = message["entry"][0]["resource"]
    assert header["eventCoding"]["code"] == "servicerequest-request"
    assert header["focus"] == [{"reference": message["entry"][1]["fullUrl"]}]


async def test_production_without_credentials_reports_a_clear_error(screening_app):
    settings = screening_settings(
        "sqlite+aiosqlite:///unused.db",
        environment="production",
        auth_mode="jwt",
        jwks_url="https://idp.example/jwks",
        disclosure_key="a-production-disclosure-key-from-the-secret-store",
    )
    api = ReferralApi(settings)
    try:
        with pytest.raises(DeliveryError, match="no credentials for referral-api"):
            await TokenProvider(settings, api.http).token()
    finally:
        await api.close()


async def test_a_configured_token_is_used_as_it_is(screening_app):
    settings = screening_settings("sqlite+aiosqlite:///unused.db", referral_api_token="abc")
    api = ReferralApi(settings)
    try:
        assert await TokenProvider(settings, api.http).token() == "abc"
    finally:
        await api.close()


async def test_a_throttled_handoff_comes_back_after_retry_after_not_the_error_backoff(
    client, screening_app, screening_referral_database
):
    """referral-api over its rate limit answers 429 with Retry-After: the hand-off is retried
    then (about 10 s here), not after the doubling backoff meant for errors (30 s here)."""
    # One token every 10 s: however slow the machine, the bucket does not refill mid-test.
    strict = create_referral_app(
        ReferralSettings(
            database_url=screening_referral_database,
            environment="test",
            rate_limit_per_minute=6,
            rate_limit_burst=1,
        )
    )
    first, second = await _submit(client, item_1="yes"), await _submit(client, item_2="yes")
    async with running(strict, "http://referral.test"):
        settings = screening_settings(screening_app.state.settings.database_url)
        api = ReferralApi(settings, transport=httpx.ASGITransport(app=strict))
        before = datetime.now(UTC)
        await HandoffWorker(screening_app.state.database, settings, api).deliver_due()
        await api.close()

    rows = await fetch_rows(
        screening_app,
        "SELECT response_id, state, last_error, next_attempt_at FROM referral_handoff",
    )
    states = {row["response_id"]: row for row in rows}
    assert {row["state"] for row in rows} == {"sent", "failing"}
    [throttled] = [row for row in rows if row["state"] == "failing"]
    assert throttled["response_id"] in (first, second)
    assert throttled["last_error"].startswith("referral-api answered 429")
    wait = _aware(throttled["next_attempt_at"]) - before
    assert timedelta(seconds=5) <= wait <= timedelta(seconds=20)
    assert len(states) == 2


def _aware(value):
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)
