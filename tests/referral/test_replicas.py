"""Two replicas of referral-api on one database behave as one service."""

import asyncio

import pytest

from referral_api.config import ReferralSettings
from referral_api.main import create_app
from tests.referral.conftest import WRITE
from tests.support.builders import service_request
from tests.support.clients import running
from tests.support.rows import count_rows

IDENTIFIER = "https://emis.example/referral-id|EMIS-0001"


@pytest.fixture
async def second_replica(referral_app, referral_database):
    """Another referral-api process: its own app, engine and pool, on the same database."""
    app = create_app(ReferralSettings(database_url=referral_database, environment="test"))
    async with running(app, "http://replica-2.test") as client:
        yield client


async def test_fifty_concurrent_conditional_creates_across_two_replicas_make_one_referral(
    client, second_replica, referral_app
):
    headers = {**WRITE, "If-None-Exist": f"identifier={IDENTIFIER}"}
    replicas = [client, second_replica]

    responses = await asyncio.gather(
        *(
            replicas[i % 2].post("/fhir/ServiceRequest", json=service_request(), headers=headers)
            for i in range(50)
        )
    )

    statuses = [r.status_code for r in responses]
    assert statuses.count(201) == 1, statuses
    assert statuses.count(200) == 49
    assert len({r.json()["id"] for r in responses}) == 1
    assert await count_rows(referral_app, "referral") == 1
    assert await count_rows(referral_app, "referral_identifier") == 1
    assert await count_rows(referral_app, "referral_reason") == 3
