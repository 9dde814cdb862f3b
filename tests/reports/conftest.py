"""Report tests: the referral-api of tests/referral, with the synthetic report lookups loaded."""

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from referral_api.config import ReferralSettings
from referral_api.imports.runner import run_import
from referral_api.main import create_app
from referral_api.reports.load import (
    replace_imd,
    replace_list_sizes,
    sample_imd_rows,
    sample_list_size_rows,
)
from tests.referral import conftest as referral_fixtures
from tests.support.clients import bearer, running
from tests.support.databases import drop_database, migrated_database
from tests.support.report_history import History, history
from tests.support.report_reference import Reference
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
    async with referral_app.state.database.sessionmaker() as session, session.begin():
        await replace_imd(session, sample_imd_rows(), "sample", is_sample=True)
        await replace_list_sizes(session, sample_list_size_rows(), "sample", is_sample=True)
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


@dataclass
class LoadedHistory:
    """referral-api on its own database, holding `history()` as imported, with its truth
    (every `Truth` carrying the id Signpost gave it) and the reports recomputed from it."""

    app: FastAPI
    client: httpx.AsyncClient
    history: History
    reference: Reference


@pytest.fixture(scope="session")
async def loaded_history(backend: str, session_tmp: Path) -> AsyncIterator[LoadedHistory]:
    """Shared by the tests that only read reports: never write to it."""
    url = await migrated_database(backend, session_tmp, "referral")
    settings = ReferralSettings(database_url=url, environment="test")
    app = create_app(settings)
    made = history()
    async with running(app, "http://referral.test") as client:
        async with app.state.database.sessionmaker() as session, session.begin():
            await replace_imd(session, sample_imd_rows(), "sample", is_sample=True)
            await replace_list_sizes(session, sample_list_size_rows(), "sample", is_sample=True)
        for name, content in (("history.ndjson", made.ndjson()), ("history.csv", made.template)):
            path = session_tmp / f"{backend}-{name}"
            path.write_bytes(content if isinstance(content, bytes) else content.encode())
            errors = path.with_name(path.name + ".errors.csv")
            summary = await run_import(
                url,
                path,
                errors_path=errors,
                linkage_window_days=settings.linkage_window_days,
                progress=None,
            )
            assert summary.failed == 0, errors.read_text()
        ids = await _served_ids(client)
        for truth in made.referrals:
            truth.id = ids[truth.ident]
        reference = Reference(
            made.referrals,
            settings.pseudonym_key.get_secret_value(),
            settings.disclosure_key.get_secret_value(),
        )
        yield LoadedHistory(app, client, made, reference)
    await drop_database(url)


async def _served_ids(client: httpx.AsyncClient) -> dict[str, str]:
    """The sender's referral identifier -> Signpost's id, from the ServiceRequest search."""
    read = bearer("referral:read", "referral:all-organisations")
    ids: dict[str, str] = {}
    url: str | None = "/fhir/ServiceRequest?_count=100&_sort=authored&_elements=identifier"
    while url:
        response = await client.get(url, headers=read)
        assert response.status_code == 200, response.text
        page = response.json()
        for entry in page.get("entry", []):
            resource = entry["resource"]
            if resource.get("resourceType") == "ServiceRequest":
                ids[resource["identifier"][0]["value"]] = resource["id"]
        url = next(
            (link["url"] for link in page.get("link", []) if link["relation"] == "next"), None
        )
    return ids
