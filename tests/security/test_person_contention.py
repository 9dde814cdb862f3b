"""Many writes for one person at once: every one succeeds, none deadlocks.

Writes for one person (REST creates and `$process-message`) relink the person's referrals; they
are serialised per person (a transaction-scoped advisory lock on PostgreSQL), so 50 concurrent
writes for one NHS number all succeed and every referral ends up linked.
"""

import asyncio
import uuid

import pytest

from signpost_schemas.fhir import profiles
from tests.security.bodies import REFERRAL_WRITE, new_referral
from tests.support.builders import fresh_nhs_number
from tests.support.messages import message

ROLES = ["social-prescribing-link-worker", "health-and-wellbeing-coach"]
WRITES = 50


@pytest.mark.postgres_only
async def test_fifty_concurrent_writes_for_one_person_all_succeed_and_are_linked(referral):
    nhs_number = fresh_nhs_number()

    async def write(index: int):
        body = new_referral(nhs_number=nhs_number, role=ROLES[index % 2])
        if index % 2:
            return await referral.post("/fhir/ServiceRequest", json=body, headers=REFERRAL_WRITE)
        bundle = message(
            body, reason_code="new", timestamp="2026-10-01T10:00:00Z", bundle_id=str(uuid.uuid4())
        )
        return await referral.post("/fhir/$process-message", json=bundle, headers=REFERRAL_WRITE)

    responses = await asyncio.gather(*(write(index) for index in range(WRITES)))

    assert [r.status_code for r in responses if r.status_code not in (200, 201)] == []
    found = await referral.get(
        "/fhir/ServiceRequest",
        params={"patient.identifier": nhs_number, "_count": "100"},
        headers=REFERRAL_WRITE,
    )
    assert found.status_code == 200, found.text
    referrals = [entry["resource"] for entry in found.json()["entry"]]
    assert len(referrals) == WRITES
    for resource in referrals:
        links = [
            e
            for e in resource.get("extension", [])
            if e["url"] == profiles.LINKED_REFERRAL_EXTENSION
        ]
        assert len(links) == WRITES // 2, resource["id"]


class _Deadlock(Exception):
    sqlstate = "40P01"


async def test_a_deadlock_left_after_the_retries_is_503_with_retry_after_never_500():
    from fastapi import FastAPI
    from httpx import ASGITransport, AsyncClient
    from sqlalchemy.exc import DBAPIError

    from signpost_platform.errors import install_error_handlers

    app = FastAPI()
    install_error_handlers(app)

    @app.post("/fhir/ServiceRequest")
    async def write() -> None:
        raise DBAPIError("UPDATE referral", None, _Deadlock("deadlock detected"))

    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
        response = await client.post("/fhir/ServiceRequest")

    assert response.status_code == 503, response.text
    assert int(response.headers["Retry-After"]) > 0
    assert response.json()["issue"][0]["code"] == "transient"
