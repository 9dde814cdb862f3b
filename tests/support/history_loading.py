"""referral-api on a database of its own, holding the reference history as imported.

`loaded_history` migrates a new database, imports `report_history.history()` through the
history import (NDJSON messages and the CSV template, the public paths) with the synthetic IMD
and list-size samples, and yields the app, a client, the history (every `Truth` carrying the
id Signpost gave it) and the reports recomputed from it. Loading takes a minute or two, so the
report tests share one per backend (`tests/reports/conftest.py`) and never write to it.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from fastapi import FastAPI
from pydantic import SecretStr

from referral_api.config import ReferralSettings
from referral_api.imports.runner import run_import
from referral_api.main import create_app
from referral_api.reports.facts import rebuild
from referral_api.reports.load import (
    replace_imd,
    replace_list_sizes,
    sample_imd_rows,
    sample_list_size_rows,
)
from tests.support.clients import bearer, running
from tests.support.databases import drop_database, migrated_database
from tests.support.report_history import History, history
from tests.support.report_reference import Reference


@dataclass
class LoadedHistory:
    """referral-api on its own database, holding `history()` as imported, with its truth
    (every `Truth` carrying the id Signpost gave it) and the reports recomputed from it."""

    app: FastAPI
    client: httpx.AsyncClient
    history: History
    reference: Reference


async def load_lookups(app: FastAPI) -> None:
    """The synthetic IMD and list-size samples."""
    async with app.state.database.sessionmaker() as session, session.begin():
        await replace_imd(session, sample_imd_rows(), "sample", is_sample=True)
        await replace_list_sizes(session, sample_list_size_rows(), "sample", is_sample=True)


@asynccontextmanager
async def loaded_history(backend: str, folder: Path) -> AsyncIterator[LoadedHistory]:
    """The history imported into a new database on `backend` (dropped afterwards)."""
    url = await migrated_database(backend, folder, "referral")
    settings = ReferralSettings(database_url=url, environment="test")
    app = create_app(settings)
    made = history()
    async with running(app, "http://referral.test") as client:
        await load_lookups(app)
        for name, content in (("history.ndjson", made.ndjson()), ("history.csv", made.template)):
            path = folder / f"{backend}-{name}"
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


async def rekey(app: FastAPI, disclosure_key: str) -> None:
    """Serve `app`'s reports under another disclosure key: the facts derived again with it
    (`python -m referral_api.reports.facts rekey`) and the setting changed."""
    settings = app.state.settings
    key = SecretStr(disclosure_key)
    await rebuild(app.state.database.sessionmaker, settings.pseudonym_key, key, rekeyed=True)
    app.state.settings = settings.model_copy(update={"disclosure_key": key})


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
