"""The client flows' referral-api: the real app served on a loopback port (the clients bring
their own HTTP stacks) on a migrated database, one per backend, its tables emptied before each
test.

`SIGNPOST_CLIENTS_URL=http://127.0.0.1:8001` runs the flows against a referral-api already
running there instead (`make run` on a fresh `var/`), once: run them with
`SIGNPOST_TEST_BACKENDS=sqlite`. Its tables are not emptied; every flow files its referrals
under its own identifiers and person, so one run of each client on a new database passes.
"""

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from referral_api.config import ReferralSettings
from referral_api.main import create_app
from tests.support.databases import drop_database, empty_tables, migrated_database
from tests.support.servers import Served, serving

RUNNING = os.environ.get("SIGNPOST_CLIENTS_URL")


class Referral:
    """The referral-api under test: its base URL, and what readies it for a test."""

    def __init__(self, url: str, served: Served | None, engine: AsyncEngine | None) -> None:
        self.url = url
        self.served = served
        self.engine = engine

    async def empty(self) -> None:
        """Empty its tables (an in-process server only)."""
        if self.engine is not None:
            await empty_tables(self.engine)

    async def idle(self) -> None:
        """Wait for its requests to finish, so their log lines belong to the test."""
        if self.served is not None:
            await self.served.idle()


@pytest.fixture(scope="session")
async def referral_server(backend: str, session_tmp: Path) -> AsyncIterator[Referral]:
    if RUNNING:
        yield Referral(RUNNING.rstrip("/"), None, None)
        return
    database = await migrated_database(backend, session_tmp, "referral")
    app = create_app(ReferralSettings(database_url=database, environment="test"))
    # The server's own engine belongs to the server's thread; this one to the tests' loop.
    engine = create_async_engine(database)
    try:
        async with serving(app) as served:
            yield Referral(served.url, served, engine)
    finally:
        await engine.dispose()
        await drop_database(database)


@pytest.fixture
async def referral_url(referral_server: Referral) -> AsyncIterator[str]:
    """The FHIR base of a referral-api whose tables are empty."""
    await referral_server.empty()
    yield f"{referral_server.url}/fhir"
    await referral_server.idle()
