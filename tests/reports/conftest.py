"""Report tests: the referral-api of tests/referral, with the synthetic report lookups loaded."""

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.referral import conftest as referral_fixtures
from tests.support import history_loading
from tests.support.clients import bearer
from tests.support.history_loading import LoadedHistory, load_lookups
from tests.support.reports import Dataset

REPORTS = bearer("reports:read")
UNSUPPRESSED = bearer("reports:read", "reports:unsuppressed")

Fetch = Callable[..., Awaitable[dict[str, Any]]]

# referral-api on a migrated database per backend, emptied before each test (tests/referral).
referral_database = referral_fixtures.referral_database
referral_service = referral_fixtures.referral_service
referral_app = referral_fixtures.referral_app
client = referral_fixtures.client


@pytest.fixture
async def lookups(referral_app: FastAPI) -> FastAPI:
    """Tables are emptied before each test; load the synthetic IMD and list-size samples."""
    await load_lookups(referral_app)
    return referral_app


@pytest.fixture
async def load(lookups: FastAPI) -> Callable[[Dataset], Awaitable[None]]:
    """Write a dataset into the emptied database."""

    async def write(dataset: Dataset) -> None:
        await dataset.write(lookups)

    return write


@pytest.fixture
def report(client: httpx.AsyncClient) -> Fetch:
    """GET /reports/<name> as JSON; fails the test on anything but 200."""

    async def fetch(name: str, unsuppressed: bool = False, **params: Any) -> dict[str, Any]:
        response = await client.get(
            f"/reports/{name}", params=params, headers=UNSUPPRESSED if unsuppressed else REPORTS
        )
        assert response.status_code == 200, response.text
        return response.json()

    return fetch


# One synthetic history per backend, loaded once through the history import -------------------


@pytest.fixture(scope="session")
async def loaded_history(backend: str, session_tmp: Path) -> AsyncIterator[LoadedHistory]:
    """Shared by the tests that only read reports: never write to it."""
    async with history_loading.loaded_history(backend, session_tmp) as loaded:
        yield loaded
