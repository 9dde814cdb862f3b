"""End to end: referral-api and screening-api as real uvicorn processes on real databases.

referral-api is stopped while positive screens arrive and screening-api is restarted while it is
down; when referral-api comes back every expected referral is there exactly once, and the person
who said No to help has none.
"""

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.screening.builders import barts_answers, screening_response
from tests.support.clients import bearer
from tests.support.databases import drop_database, migrated_database
from tests.support.servers import Service, eventually

SCREENING = bearer("screening:write", "screening:read", "screening:all-organisations")
REFERRAL = bearer("referral:read", "referral:all-organisations")
SCREENING_ID = "https://signpost.nhs.example/Id/screening-response"


@pytest.fixture
async def services(backend: str, tmp_path: Path) -> AsyncIterator[tuple[Service, Service]]:
    referral_url = await migrated_database(backend, tmp_path, "referral")
    screening_url = await migrated_database(backend, tmp_path, "screening")
    referral = Service(
        "referral_api.main:create_app",
        {"REFERRAL_DATABASE_URL": referral_url},
        tmp_path / "referral.log",
    )
    screening = Service(
        "screening_api.main:create_app",
        {
            "SCREENING_DATABASE_URL": screening_url,
            "SCREENING_REFERRAL_API_URL": referral.url,
            "SCREENING_REFERRAL_API_TIMEOUT_SECONDS": "2",
            "SCREENING_HANDOFF_POLL_SECONDS": "0.2",
            "SCREENING_HANDOFF_BACKOFF_BASE_SECONDS": "0.2",
            "SCREENING_HANDOFF_BACKOFF_MAX_SECONDS": "1",
        },
        tmp_path / "screening.log",
    )
    try:
        yield referral, screening
    finally:
        for service in (screening, referral):
            if service.process is not None:
                await service.stop(kill=True)
        await drop_database(screening_url)
        await drop_database(referral_url)


async def test_referrals_survive_referral_api_down_and_a_screening_api_restart(services):
    referral, screening = services
    await referral.start()
    await screening.start()
    async with (
        httpx.AsyncClient(base_url=screening.url, headers=SCREENING, timeout=10) as front_end,
        httpx.AsyncClient(base_url=referral.url, headers=REFERRAL, timeout=10) as referrals,
    ):

        async def submit(answers: dict[str, str]) -> str:
            response = await front_end.post(
                "/fhir/QuestionnaireResponse", json=screening_response(answers)
            )
            assert response.status_code == 201, response.text
            return str(response.json()["id"])

        async def handoff_state(response_id: str) -> dict[str, object]:
            return (await front_end.get(f"/referral-handoffs/{response_id}")).json()

        wants_help = barts_answers(item_1="yes") | {"7": "yes"}
        before = [await submit(wants_help)]

        async def delivered(ids: list[str]) -> bool:
            states = [(await handoff_state(i)).get("state") for i in ids]
            return states == ["sent"] * len(ids)

        await eventually(lambda: delivered(before), "the first referral to be delivered")

        await referral.stop()
        during = [
            await submit(barts_answers(item_2="yes", item_4="no") | {"7": "yes"}) for _ in range(3)
        ]
        declined = await submit(barts_answers(item_3="no") | {"7": "no"})

        async def failing(ids: list[str]) -> bool:
            states = [(await handoff_state(i)).get("state") for i in ids]
            return states == ["failing"] * len(ids)

        await eventually(lambda: failing(during), "deliveries to fail while referral-api is down")
        [state] = [await handoff_state(during[0])]
        assert "referral-api unreachable" in str(state["last_error"])

        await screening.stop(kill=True)
        await screening.start()
        await referral.start()

        expected = before + during
        await eventually(lambda: delivered(expected), "every referral after the restarts")

        for response_id in expected:
            search = await referrals.get(
                "/fhir/ServiceRequest", params={"identifier": f"{SCREENING_ID}|{response_id}"}
            )
            assert search.json()["total"] == 1, response_id
        everything = await referrals.get("/fhir/ServiceRequest", params={"_count": 50})
        assert everything.json()["total"] == len(expected)
        assert (await front_end.get(f"/referral-handoffs/{declined}")).status_code == 404
        reasons = [
            [r["coding"][0]["code"] for r in e["resource"]["reasonCode"]]
            for e in everything.json()["entry"]
        ]
        assert sorted(reasons) == sorted(
            [["160932005"]] + [["733423003", "lack-of-social-support"]] * 3
        )
