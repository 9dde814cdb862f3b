"""The hot paths of referral-api never leave the event loop: no dependency, endpoint, middleware
or exception handler runs in the thread pool (a plain `def` there costs a thread hand-off on
every request, and under load the pool's 40 threads become the limit)."""

import anyio.to_thread
import pytest
from starlette.middleware.base import BaseHTTPMiddleware

from tests.referral.conftest import READ, WRITE
from tests.support.builders import service_request
from tests.support.messages import contact, emis_patient, emis_service_request, message


@pytest.fixture
def thread_hops(monkeypatch):
    """The functions sent to the thread pool (`anyio.to_thread.run_sync`) while the test runs."""
    sent = []
    run_sync = anyio.to_thread.run_sync

    async def recording(function, *args, **kwargs):
        called = getattr(function, "func", function)  # run_in_threadpool sends a partial
        sent.append(getattr(called, "__qualname__", repr(called)))
        return await run_sync(function, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", recording)
    return sent


async def test_create_read_update_and_search_stay_on_the_event_loop(client, thread_hops):
    created = await client.post("/fhir/ServiceRequest", json=service_request(), headers=WRITE)
    referral_id = created.json()["id"]
    read = await client.get(f"/fhir/ServiceRequest/{referral_id}", headers=READ)
    updated = await client.put(
        f"/fhir/ServiceRequest/{referral_id}",
        json={**read.json(), "priority": "urgent"},
        headers={**WRITE, "If-Match": read.headers["etag"]},
    )
    found = await client.get("/fhir/ServiceRequest?identifier=EMIS-0001", headers=READ)
    missing = await client.get("/fhir/ServiceRequest/no-such-referral", headers=READ)

    assert [r.status_code for r in (created, read, updated, found, missing)] == [
        201,
        200,
        200,
        200,
        404,
    ]
    assert thread_hops == []


async def test_messages_stay_on_the_event_loop(client, thread_hops):
    request = emis_service_request("EMIS-HOPS-1")
    new = message(
        request,
        reason_code="new",
        patient=emis_patient(),
        timestamp="2026-10-01T09:05:00Z",
        bundle_id="hops-new",
    )
    update = message(
        request,
        contact("contact-hops-1", "2026-10-05T10:00:00Z"),
        timestamp="2026-10-05T12:00:00Z",
        bundle_id="hops-update",
    )

    responses = [
        await client.post("/fhir/$process-message", json=body, headers=WRITE)
        for body in (new, update)
    ]

    assert [r.status_code for r in responses] == [200, 200]
    assert thread_hops == []


def test_every_middleware_is_pure_asgi(referral_app):
    """`BaseHTTPMiddleware` runs the rest of the app in a task of its own and streams its answer
    through a memory channel on every request; each middleware here is a plain ASGI callable."""
    base = [m.cls for m in referral_app.user_middleware if issubclass(m.cls, BaseHTTPMiddleware)]

    assert referral_app.user_middleware
    assert base == []
