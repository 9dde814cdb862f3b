"""referral-api under test: the real app on a migrated database, one per backend."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from referral_api.export.worker import ExportWorker
from tests.support.clients import bearer, running_referral_api
from tests.support.databases import empty_tables, migrated_database_fixture
from tests.support.statements import sent  # noqa: F401  (a fixture for the tests here)

READ = bearer("referral:read", "referral:all-organisations")
WRITE = bearer("referral:write", "referral:read", "referral:all-organisations")


referral_database = migrated_database_fixture("referral", "referral_database")


async def send(client: httpx.AsyncClient, message: dict[str, Any]) -> httpx.Response:
    """Send a message Bundle to `$process-message`, as a sender with write scope."""
    return await client.post("/fhir/$process-message", json=message, headers=WRITE)


async def send_raw(
    client: httpx.AsyncClient,
    path: str,
    content: bytes,
    content_type: str = "application/fhir+json",
) -> httpx.Response:
    """POST `content` to `path` as it is, as a sender with write scope, labelled `content_type`."""
    return await client.post(path, content=content, headers={**WRITE, "Content-Type": content_type})


@pytest.fixture(scope="session")
async def referral_service(
    referral_database: str,
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    async with running_referral_api(referral_database) as service:
        yield service


@pytest.fixture
async def referral_app(referral_service: tuple[FastAPI, httpx.AsyncClient]) -> FastAPI:
    app, _ = referral_service
    await empty_tables(app.state.database.engine)
    return app


@pytest.fixture
async def client(
    referral_app: FastAPI, referral_service: tuple[FastAPI, httpx.AsyncClient]
) -> httpx.AsyncClient:
    """A client of a referral-api whose tables are empty."""
    return referral_service[1]


@pytest.fixture
def worker(referral_app: FastAPI) -> ExportWorker:
    """The bulk export worker (the app's own is off in tests), writing parts of two lines so
    every file has several parts."""
    settings = referral_app.state.settings.model_copy(update={"export_batch_size": 2})
    return ExportWorker(referral_app.state.database, settings)
