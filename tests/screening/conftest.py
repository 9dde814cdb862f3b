"""screening-api under test, with a real referral-api in-process behind it; one per backend.

The hand-off worker does not run by itself here: tests call `deliver` to run one delivery pass,
so every test is deterministic and nothing sleeps.
"""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from screening_api.config import ScreeningSettings
from screening_api.handoff.worker import HandoffWorker
from screening_api.main import create_app
from tests.support.clients import bearer, running, running_referral_api
from tests.support.databases import empty_tables, migrated_database_fixture

WRITE = bearer("screening:write", "screening:read", "screening:all-organisations")
READ = bearer("screening:read", "screening:all-organisations")


async def update_version_1(
    client: httpx.AsyncClient, created: httpx.Response, body: dict[str, Any]
) -> httpx.Response:
    """PUT `body` over the QuestionnaireResponse `created` answered, as its version 1."""
    return await client.put(
        f"/fhir/QuestionnaireResponse/{created.json()['id']}",
        json=body,
        headers={**WRITE, "If-Match": 'W/"1"'},
    )


REPORTS = bearer("reports:read")
REFERRAL_READ = bearer("referral:read", "referral:all-organisations")


screening_database = migrated_database_fixture("screening", "screening_database")
screening_referral_database = migrated_database_fixture("referral", "screening_referral_database")


@pytest.fixture(scope="session")
async def referral_backend(
    screening_referral_database: str,
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The real referral-api, in-process, on its own migrated database."""
    async with running_referral_api(screening_referral_database) as service:
        yield service


def screening_settings(database_url: str, **overrides: object) -> ScreeningSettings:
    values: dict[str, object] = {
        "database_url": database_url,
        "environment": "test",
        "referral_api_url": "http://referral.test",
        "handoff_worker_enabled": False,
        "handoff_backoff_base_seconds": 30,
        # The builders' clinic refers to its social-prescribing team.
        "referral_routes": {"R1H12": "F84001"},
        **overrides,
    }
    return ScreeningSettings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
async def screening_service(
    screening_database: str, referral_backend: tuple[FastAPI, httpx.AsyncClient]
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    referral_app, _ = referral_backend
    app = create_app(
        screening_settings(screening_database),
        referral_transport=httpx.ASGITransport(app=referral_app),
    )
    async with running(app, "http://screening.test") as client:
        yield app, client


@pytest.fixture
async def screening_app(
    screening_service: tuple[FastAPI, httpx.AsyncClient],
    referral_backend: tuple[FastAPI, httpx.AsyncClient],
) -> FastAPI:
    """screening-api (and the referral-api behind it) with empty tables."""
    app, _ = screening_service
    await empty_tables(app.state.database.engine)
    await empty_tables(referral_backend[0].state.database.engine)
    return app


@pytest.fixture
async def client(
    screening_app: FastAPI, screening_service: tuple[FastAPI, httpx.AsyncClient]
) -> httpx.AsyncClient:
    return screening_service[1]


@pytest.fixture
def referral_client(referral_backend: tuple[FastAPI, httpx.AsyncClient]) -> httpx.AsyncClient:
    return referral_backend[1]


@pytest.fixture
def worker(screening_app: FastAPI) -> HandoffWorker:
    worker: HandoffWorker = screening_app.state.handoff_worker
    return worker
