"""Messages back to the GP and referrer: written with the lifecycle change, carrying the GP-record
codes, delivered to the referrer's endpoint (a real in-process app), retried while it is down and
never delivered twice; a referrer with no endpoint is listed as undeliverable.

The worker does not run by itself: each test runs its delivery passes, with its clock moved on
past the backoff, so nothing sleeps.
"""

import copy
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import text

from referral_api.config import ReferralSettings
from referral_api.gp_messages import bundle as message_bundle
from referral_api.gp_messages import receiver
from referral_api.gp_messages.endpoints import EndpointDirectory
from referral_api.gp_messages.worker import GpMessageWorker
from referral_api.main import create_app
from referral_api.messages import service as messages
from referral_api.referrals.access import EVERY_ORGANISATION
from signpost_schemas import systems
from signpost_schemas.fhir import profiles
from tests.referral.conftest import READ, WRITE
from tests.support.clients import bearer, running
from tests.support.messages import (
    emis_service_request,
    journey,
    message,
    new_referral,
    task,
)
from tests.support.rows import fetch_rows

REFERRED = "871731000000106"
DECLINED = "871711000000103"
REFERRER = "F84001"
ENDPOINT = "http://gp.test/F84001/$process-message"
NO_ENDPOINT_REFERRER = "Y03001"


class Referrer:
    """The referrer's message endpoint (the development receiver, in process): up, down (503)
    or unreachable (the connection fails)."""

    def __init__(self) -> None:
        self.mode = "up"
        app = receiver.create_app()
        self.received: receiver.Received = app.state.received
        self.transport = httpx.ASGITransport(app=app)

    def reset(self) -> None:
        self.mode = "up"
        self.received.clear()

    def ids(self) -> list[str]:
        return [i for ods in self.received.messages for i in self.received.ids(ods)]


class SwitchableTransport(httpx.AsyncBaseTransport):
    def __init__(self, referrer: Referrer) -> None:
        self.referrer = referrer

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.referrer.mode == "unreachable":
            raise httpx.ConnectError("connection refused", request=request)
        self.referrer.received.up = self.referrer.mode == "up"
        assert request.headers["x-request-id"]
        return await self.referrer.transport.handle_async_request(request)


@pytest.fixture(scope="session")
def referrer_endpoint() -> Referrer:
    return Referrer()


@pytest.fixture(scope="session")
async def gp_service(
    referral_database: str, referrer_endpoint: Referrer
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """referral-api with F84001's endpoint configured, delivering to the in-process referrer."""
    settings = ReferralSettings(
        database_url=referral_database,
        environment="test",
        gp_message_endpoints={REFERRER: ENDPOINT},
        gp_message_worker_enabled=False,
        gp_message_backoff_base_seconds=30,
    )
    app = create_app(settings, gp_message_transport=SwitchableTransport(referrer_endpoint))
    async with running(app, "http://referral.test") as client:
        yield app, client


class Clock:
    def __init__(self) -> None:
        self.shift = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.shift


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def gp(
    referral_app: FastAPI,
    gp_service: tuple[FastAPI, httpx.AsyncClient],
    referrer_endpoint: Referrer,
    clock: Clock,
) -> Iterator[tuple[httpx.AsyncClient, GpMessageWorker, Referrer]]:
    """A client and the worker of the referral-api above (tables emptied by `referral_app`)."""
    app, client = gp_service
    worker: GpMessageWorker = app.state.gp_message_worker
    worker.clock = clock
    endpoints = worker.endpoints
    referrer_endpoint.reset()
    yield client, worker, referrer_endpoint
    worker.endpoints = endpoints


def referral(identifier: str, requester: str = REFERRER) -> dict[str, Any]:
    request = emis_service_request(identifier)
    request["requester"]["identifier"]["value"] = requester
    return request


async def send_all(client: httpx.AsyncClient, bundles: list[dict[str, Any]]) -> None:
    for bundle in bundles:
        response = await client.post("/fhir/$process-message", json=bundle, headers=WRITE)
        assert response.status_code in (200, 202), response.text


def new(request: dict[str, Any]) -> dict[str, Any]:
    return new_referral(request=request, timestamp="2026-10-01T09:05:00Z")


async def send_new_then(
    client: httpx.AsyncClient, request: dict[str, Any], resource: dict[str, Any], timestamp: str
) -> None:
    """Send `request` as new, then a message carrying `resource` at `timestamp`."""
    await send_all(client, [new(request), message(request, resource, timestamp=timestamp)])


async def listed(client: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    response = await client.get("/gp-messages", params=params, headers=READ)
    assert response.status_code == 200, response.text
    return response.json()


async def the_message(client: httpx.AsyncClient, event: str) -> dict[str, Any]:
    found = [
        item
        for item in (await listed(client, state=["pending", "sent", "failing", "undeliverable"]))[
            "items"
        ]
        if item["event"] == event
    ]
    assert len(found) == 1, found
    response = await client.get(f"/gp-messages/{found[0]['id']}", headers=READ)
    assert response.status_code == 200, response.text
    return response.json()


def resources(bundle: dict[str, Any], resource_type: str) -> list[dict[str, Any]]:
    return [
        entry["resource"]
        for entry in bundle["entry"]
        if entry["resource"]["resourceType"] == resource_type
    ]


def gp_record_codes(bundle: dict[str, Any]) -> list[str]:
    return [
        coding["code"]
        for observation in resources(bundle, "Observation")
        for coding in observation["code"]["coding"]
        if coding["system"] == systems.SNOMED
    ]


def check_shape(bundle: dict[str, Any], event: str, task_status: str) -> dict[str, Any]:
    """A BaRS-shaped message Bundle that fhir.resources parses; its Task."""
    Bundle.model_validate(bundle)
    assert bundle["type"] == "message"
    header = bundle["entry"][0]["resource"]
    assert header["resourceType"] == "MessageHeader"
    assert header["eventCoding"] == {
        "system": profiles.BARS_MESSAGE_EVENTS,
        "code": "servicerequest-response",
    }
    assert header["destination"][0]["receiver"]["identifier"]["value"] in (
        REFERRER,
        NO_ENDPOINT_REFERRER,
    )
    [task_resource] = resources(bundle, "Task")
    assert header["focus"][0]["reference"] == bundle["entry"][1]["fullUrl"]
    assert task_resource["status"] == task_status
    assert task_resource["businessStatus"]["coding"][0]["code"] == event
    [service_request] = resources(bundle, "ServiceRequest")
    assert task_resource["focus"]["reference"].endswith(f"ServiceRequest/{service_request['id']}")
    return task_resource


async def test_acceptance_carries_the_referral_code_and_is_delivered_once(gp):
    client, worker, referrer = gp
    request = referral("EMIS-GP-1")
    accepted = task("t1", "accepted", accepted="2026-10-02", last_modified="2026-10-02T10:00:00Z")
    await send_all(client, [new(request)])
    assert (await listed(client))["total"] == 0  # a referral received is no event for the GP
    await send_all(client, [message(request, accepted, timestamp="2026-10-02T10:01:00Z")])

    pending = await listed(client)
    assert pending["total"] == 1
    [item] = pending["items"]
    assert (item["event"], item["state"], item["attempts"], item["requester"]) == (
        "accepted",
        "pending",
        0,
        REFERRER,
    )
    shown = await the_message(client, "accepted")
    bundle = shown["message"]
    task_resource = check_shape(bundle, "accepted", "accepted")
    assert task_resource["executionPeriod"] == {"start": "2026-10-02T00:00:00.000Z"}
    assert gp_record_codes(bundle) == [REFERRED]
    [observation] = resources(bundle, "Observation")
    assert observation["code"]["coding"][0]["display"] == "Referral to social prescribing service"
    assert observation["subject"]["identifier"]["system"] == systems.NHS_NUMBER

    assert await worker.deliver_due() is False
    assert referrer.ids() == [bundle["id"]]
    # The Bundle as stored, the same content.
    assert referrer.received.messages[REFERRER][bundle["id"]] == bundle
    await worker.deliver_due()
    assert referrer.received.attempts == [bundle["id"]]  # never twice
    assert referrer.received.repeats == 0
    sent = await the_message(client, "accepted")
    assert (sent["state"], sent["attempts"], sent["endpoint"]) == ("sent", 1, ENDPOINT)
    assert "sent_at" in sent and "next_attempt_at" not in sent
    assert (await listed(client))["total"] == 0
    assert (await listed(client, state="sent"))["total"] == 1

    # A replay of the accepting message, or a later update that changes nothing, writes no more.
    await send_all(client, [message(request, accepted, timestamp="2026-10-02T10:01:00Z")])
    await send_all(client, [message(request, accepted, timestamp="2026-10-03T10:01:00Z")])
    assert (await listed(client, state="sent"))["total"] == 1
    assert (await listed(client))["total"] == 0


async def test_a_person_declining_carries_the_declined_code_never_the_referral_code(gp):
    client, _, _ = gp
    request = referral("EMIS-GP-2")
    declined = task(
        "t1",
        "rejected",
        ended="2026-10-02",
        reason=(profiles.REFERRAL_CLOSURE_REASON, "person-declined"),
    )
    await send_new_then(client, request, declined, "2026-10-02T10:01:00Z")

    bundle = (await the_message(client, "declined"))["message"]
    task_resource = check_shape(bundle, "declined", "rejected")
    assert task_resource["statusReason"]["coding"] == [
        {
            "system": profiles.REFERRAL_CLOSURE_REASON,
            "code": "person-declined",
            "display": "Person declined support",
        }
    ]
    assert gp_record_codes(bundle) == [DECLINED]
    assert REFERRED not in str(bundle)
    assert (await listed(client))["total"] == 1


async def test_a_referral_the_service_declines_carries_its_rejection_reason_and_no_gp_code(gp):
    client, _, _ = gp
    request = referral("EMIS-GP-3")
    rejected = task(
        "t1", "rejected", ended="2026-10-02", reason=(profiles.REFERRAL_REJECTION_REASON, "02")
    )
    await send_new_then(client, request, rejected, "2026-10-02T10:01:00Z")

    bundle = (await the_message(client, "declined"))["message"]
    task_resource = check_shape(bundle, "declined", "rejected")
    assert task_resource["statusReason"]["coding"][0]["code"] == "02"
    assert task_resource["statusReason"]["coding"][0]["display"] == "Inappropriate"
    assert gp_record_codes(bundle) == []
    assert REFERRED not in str(bundle)


async def test_a_closed_journey_sends_the_acceptance_then_the_closure_with_its_outcome(gp):
    client, worker, referrer = gp
    await send_all(client, journey("emis"))

    accepted = (await the_message(client, "accepted"))["message"]
    assert gp_record_codes(accepted) == [REFERRED]
    closed = (await the_message(client, "closed"))["message"]
    task_resource = check_shape(closed, "closed", "completed")
    assert task_resource["statusReason"]["coding"][0]["code"] == "needs-met"
    assert task_resource["executionPeriod"] == {
        "start": "2026-10-02T00:00:00.000Z",
        "end": "2026-11-20T00:00:00.000Z",
    }
    assert gp_record_codes(closed) == []  # needs met: no national code; the outcome is coded
    [service_request] = resources(closed, "ServiceRequest")
    assert service_request["status"] == "completed"
    [lifecycle] = [
        e for e in service_request["extension"] if e["url"] == profiles.REFERRAL_LIFECYCLE_EXTENSION
    ]
    parts = {p["url"]: p for p in lifecycle["extension"]}
    assert parts["closureOutcome"]["valueCode"] == "completed"
    assert accepted["id"] != closed["id"]

    await worker.deliver_due()
    assert sorted(referrer.received.attempts) == sorted([accepted["id"], closed["id"]])


async def test_a_closure_as_the_person_declined_carries_the_declined_code(gp):
    client, _, _ = gp
    request = referral("EMIS-GP-4")
    closed = task(
        "t1",
        "cancelled",
        accepted="2026-10-02",
        ended="2026-10-09",
        reason=(profiles.REFERRAL_CLOSURE_REASON, "person-declined"),
    )
    await send_new_then(client, request, closed, "2026-10-09T10:01:00Z")
    # Accepted and closed in one message: both events, each with its own code.
    assert gp_record_codes((await the_message(client, "accepted"))["message"]) == [REFERRED]
    closing = (await the_message(client, "closed"))["message"]
    assert gp_record_codes(closing) == [DECLINED]


async def test_a_referral_the_service_cancels_is_reported_with_no_gp_code(gp):
    client, _, _ = gp
    request = referral("EMIS-GP-5")
    accepted = task("t1", "accepted", accepted="2026-10-02", last_modified="2026-10-02T10:00:00Z")
    cancelled = task(
        "t1",
        "cancelled",
        accepted="2026-10-02",
        ended="2026-10-06",
        last_modified="2026-10-06T10:00:00Z",
    )
    await send_all(
        client,
        [
            new(request),
            message(request, accepted, timestamp="2026-10-02T10:01:00Z"),
            message(request, cancelled, timestamp="2026-10-06T10:01:00Z"),
        ],
    )

    bundle = (await the_message(client, "cancelled"))["message"]
    task_resource = check_shape(bundle, "cancelled", "cancelled")
    assert task_resource["executionPeriod"] == {
        "start": "2026-10-02T00:00:00.000Z",
        "end": "2026-10-06T00:00:00.000Z",
    }
    assert "statusReason" not in task_resource
    assert gp_record_codes(bundle) == []
    assert sorted(item["event"] for item in (await listed(client))["items"]) == [
        "accepted",
        "cancelled",
    ]


async def test_a_referral_the_referrer_cancels_is_not_reported_back_to_it(gp):
    client, _, _ = gp
    request = referral("EMIS-GP-6")
    revoked = copy.deepcopy(request)
    revoked["status"] = "revoked"
    revoked["meta"] = {"lastUpdated": "2026-10-03T09:00:00Z"}
    await send_all(client, [new(request), message(revoked, timestamp="2026-10-03T09:01:00Z")])

    found = await client.get(
        "/fhir/ServiceRequest",
        params={"identifier": "https://emis.example/referral-id|EMIS-GP-6"},
        headers=READ,
    )
    [entry] = found.json()["entry"]
    assert entry["resource"]["status"] == "revoked"  # cancelled, as the referrer asked
    assert (await listed(client))["total"] == 0


async def test_the_services_cancellation_is_reported_once_the_referrer_takes_back_its_own(gp):
    """The referrer revokes, the service cancels too, then the referrer re-activates: the
    cancellation that stands is the service's, and the referrer is told of it."""
    client, _, _ = gp
    request = referral("EMIS-GP-7")
    revoked = copy.deepcopy(request)
    revoked["status"] = "revoked"
    revoked["meta"] = {"lastUpdated": "2026-10-03T09:00:00Z"}
    reactivated = copy.deepcopy(request)
    reactivated["meta"] = {"lastUpdated": "2026-10-08T09:00:00Z"}
    cancelled = task("t1", "cancelled", ended="2026-10-06", last_modified="2026-10-06T10:00:00Z")
    await send_all(
        client,
        [
            new(request),
            message(revoked, timestamp="2026-10-03T09:01:00Z"),
            message(revoked, cancelled, timestamp="2026-10-06T10:01:00Z"),
        ],
    )
    assert (await listed(client))["total"] == 0  # the referrer's own cancellation

    await send_all(client, [message(reactivated, cancelled, timestamp="2026-10-08T09:01:00Z")])

    bundle = (await the_message(client, "cancelled"))["message"]
    task_resource = check_shape(bundle, "cancelled", "cancelled")
    assert task_resource["executionPeriod"]["end"] == "2026-10-06T00:00:00.000Z"
    assert [item["event"] for item in (await listed(client))["items"]] == ["cancelled"]


@pytest.mark.parametrize("outage", ["down", "unreachable"])
async def test_a_message_is_retried_while_the_endpoint_is_down_and_delivered_once_it_is_up(
    gp, clock, outage
):
    client, worker, referrer = gp
    request = referral(f"EMIS-GP-5-{outage}")
    accepted = task("t1", "accepted", accepted="2026-10-02", last_modified="2026-10-02T10:00:00Z")
    await send_new_then(client, request, accepted, "2026-10-02T10:01:00Z")
    referrer.mode = outage

    await worker.deliver_due()
    failing = await the_message(client, "accepted")
    assert (failing["state"], failing["attempts"]) == ("failing", 1)
    expected = "answered 503" if outage == "down" else "unreachable: ConnectError"
    assert expected in failing["last_error"]
    assert failing["endpoint"] == ENDPOINT
    assert (await listed(client, state="failing"))["total"] == 1

    await worker.deliver_due()  # not due again before its backoff
    assert (await the_message(client, "accepted"))["attempts"] == 1
    clock.shift = timedelta(hours=1)
    await worker.deliver_due()  # due, and still down
    assert (await the_message(client, "accepted"))["attempts"] == 2

    referrer.mode = "up"
    clock.shift = timedelta(hours=3)
    await worker.deliver_due()
    sent = await the_message(client, "accepted")
    assert (sent["state"], sent["attempts"]) == ("sent", 3)
    assert "last_error" not in sent
    assert referrer.ids() == [sent["id"]]
    if outage == "down":  # every attempt carried the same message id
        assert referrer.received.attempts == [sent["id"]] * 3
    clock.shift = timedelta(days=1)
    await worker.deliver_due()
    assert referrer.ids() == [sent["id"]]  # delivered once, never again
    assert referrer.received.repeats == 0


async def test_a_referrer_without_an_endpoint_is_listed_undeliverable_until_one_is_configured(
    gp, clock
):
    client, worker, referrer = gp
    request = referral("EMIS-GP-6", requester=NO_ENDPOINT_REFERRER)
    accepted = task("t1", "accepted", accepted="2026-10-02", last_modified="2026-10-02T10:00:00Z")
    await send_new_then(client, request, accepted, "2026-10-02T10:01:00Z")

    await worker.deliver_due()
    undeliverable = await listed(client, state="undeliverable")
    assert undeliverable["total"] == 1
    [item] = undeliverable["items"]
    assert item["requester"] == NO_ENDPOINT_REFERRER
    assert item["last_error"] == f"no endpoint is configured for {NO_ENDPOINT_REFERRER}"
    # Listed among the undelivered by default, and by its referrer.
    assert [i["id"] for i in (await listed(client))["items"]] == [item["id"]]
    assert (await listed(client, requester=NO_ENDPOINT_REFERRER.lower()))["total"] == 1
    assert (await listed(client, requester=REFERRER))["total"] == 0
    assert referrer.received.attempts == []

    # An endpoint is configured; a retry asked for now delivers it at the next pass.
    worker.endpoints = EndpointDirectory(
        {REFERRER: ENDPOINT, NO_ENDPOINT_REFERRER: "http://gp.test/Y03001/$process-message"}
    )
    response = await client.post(f"/gp-messages/{item['id']}/retry", headers=WRITE)
    assert response.status_code == 200, response.text
    assert response.json()["state"] == "undeliverable"
    await worker.deliver_due()
    assert referrer.ids() == [item["id"]]
    assert (await the_message(client, "accepted"))["state"] == "sent"

    again = await client.post(f"/gp-messages/{item['id']}/retry", headers=WRITE)
    assert again.status_code == 409
    await worker.deliver_due()
    assert referrer.received.attempts == [item["id"]]
    assert referrer.received.ids(NO_ENDPOINT_REFERRER) == [item["id"]]


async def test_messages_are_seen_only_by_the_organisations_of_their_referral(gp):
    client, _, _ = gp
    request = referral("EMIS-GP-7")
    accepted = task("t1", "accepted", accepted="2026-10-02", last_modified="2026-10-02T10:00:00Z")
    await send_new_then(client, request, accepted, "2026-10-02T10:01:00Z")
    [item] = (await listed(client))["items"]
    own = bearer("referral:read", ods=REFERRER)
    other = bearer("referral:read", "referral:write", ods="Y09999")
    assert (await client.get("/gp-messages", headers=own)).json()["total"] == 1
    assert (await client.get("/gp-messages", headers=other)).json()["total"] == 0
    assert (await client.get(f"/gp-messages/{item['id']}", headers=other)).status_code == 404
    assert (await client.post(f"/gp-messages/{item['id']}/retry", headers=other)).status_code == 404
    assert (
        await client.get("/gp-messages", params={"state": "lost"}, headers=READ)
    ).status_code == 400
    assert (await client.get("/gp-messages")).status_code == 401


async def test_a_lifecycle_change_that_is_rolled_back_leaves_no_message(gp, referral_app):
    client, _, _ = gp
    request = referral("EMIS-GP-8")
    await send_all(client, [new(request)])
    accepted = task("t1", "accepted", accepted="2026-10-02", last_modified="2026-10-02T10:00:00Z")
    body = message(request, accepted, timestamp="2026-10-02T10:01:00Z")
    settings = messages.Settings(90, "http://referral.test")

    class Failed(Exception):
        pass

    with pytest.raises(Failed):
        async with referral_app.state.database.sessionmaker() as session, session.begin():
            result = await messages.process(
                session,
                httpx.Request("POST", "/", json=body).read(),
                settings,
                reach=EVERY_ORGANISATION,
            )
            assert result.status_code == 200
            # Within the transaction, the change and its message are both there ...
            seen = (await session.execute(text("SELECT count(*) FROM gp_message"))).scalar_one()
            assert seen == 1
            raise Failed  # ... and the transaction fails after the change.

    assert await fetch_rows(referral_app, "SELECT id FROM gp_message") == []
    [lifecycle] = await fetch_rows(referral_app, "SELECT status FROM referral_lifecycle")
    assert lifecycle["status"] == "received"
    assert (await listed(client))["total"] == 0

    # A message refused as a whole (a contact dated before the referral) writes none either.
    refused = message(
        request,
        task("t1", "accepted", accepted="2026-09-01", last_modified="2026-10-02T10:00:00Z"),
        timestamp="2026-10-02T11:01:00Z",
    )
    response = await client.post("/fhir/$process-message", json=refused, headers=WRITE)
    assert response.status_code == 422
    assert await fetch_rows(referral_app, "SELECT id FROM gp_message") == []


def test_a_code_the_list_marks_unverified_is_never_sent():
    assert (
        message_bundle.gp_record_concept(REFERRED).display
        == "Referral to social prescribing service"
    )
    with pytest.raises(LookupError):
        message_bundle.gp_record_concept(
            "871691000000100"
        )  # "Social prescribing offered": unverified


def test_endpoints_come_from_the_settings_and_a_csv_file(tmp_path):
    listed_file = tmp_path / "endpoints.csv"
    listed_file.write_text(
        "ods_code,endpoint\r\nf84001,https://file.example/a\r\nY03001,https://file.example/b\r\n",
        encoding="utf-8",
    )
    settings = ReferralSettings(
        gp_message_endpoints="F84001=https://settings.example/a",
        gp_message_endpoints_file=str(listed_file),
    )
    directory = EndpointDirectory.from_settings(settings)
    assert directory.endpoint_for("F84001") == "https://settings.example/a"  # settings win
    assert directory.endpoint_for("y03001") == "https://file.example/b"
    assert directory.endpoint_for("A81001") is None
    with pytest.raises(ValueError, match="not an http"):
        ReferralSettings(gp_message_endpoints={"F84001": "ftp://x.example"})
    listed_file.write_text("ods_code,endpoint\r\nF8,https://x.example\r\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 2"):
        EndpointDirectory.from_settings(settings)


async def test_the_list_refuses_an_offset_no_database_can_hold(gp):
    client, _, _ = gp

    response = await client.get("/gp-messages", params={"offset": 10**21}, headers=READ)

    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["parameter"] == "offset"
    assert (await listed(client, offset=10_000_000))["items"] == []


async def test_the_development_receiver_lists_what_a_gp_system_would_file(gp):
    client, worker, referrer = gp
    await send_all(client, journey("emis"))
    await worker.deliver_due()
    async with httpx.AsyncClient(
        transport=referrer.transport, base_url="http://gp.test"
    ) as endpoint:
        filed = (await endpoint.get(f"/{REFERRER}/messages")).json()
    assert sorted(
        (m["event"], m["task_status"], m["reason"], tuple(m["gp_record_codes"]))
        for m in filed["messages"]
    ) == [("accepted", "accepted", None, (REFERRED,)), ("closed", "completed", "needs-met", ())]
    assert filed["repeats_recognised"] == 0


async def test_a_delivered_message_forgets_its_bundle_after_the_retention_and_is_not_sent_again(
    gp, clock, referral_app
):
    client, worker, referrer = gp
    request = referral("EMIS-GP-9")
    accepted = task("t1", "accepted", accepted="2026-10-02", last_modified="2026-10-02T10:00:00Z")
    await send_new_then(client, request, accepted, "2026-10-02T10:01:00Z")
    await worker.deliver_due()
    assert await worker.forget_delivered() == 0  # within the retention: kept
    assert "message" in await the_message(client, "accepted")

    clock.shift = timedelta(days=31)
    assert await worker.forget_delivered() == 1
    kept = await the_message(client, "accepted")
    assert kept["state"] == "sent" and "message" not in kept
    assert await fetch_rows(referral_app, "SELECT id FROM gp_message") != []
    await send_all(client, [message(request, accepted, timestamp="2026-10-05T10:01:00Z")])
    await worker.deliver_due()
    assert len(referrer.received.attempts) == 1
