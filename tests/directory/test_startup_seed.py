"""Replicas starting together seed the directory one after another: a replica waiting for
another's seed waits for it, however long, instead of failing its start-up on the statement
timeout (which stopped a 2-worker directory-api from starting on a busy machine)."""

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import text

from directory_api.changes.repository import ChangeRepository
from directory_api.config import DirectorySettings
from directory_api.main import create_app

pytestmark = pytest.mark.postgres_only

TIMEOUT_SECONDS = 0.05
# The replica has been after the writers' lock for four times its statement timeout, by the
# server's clock (one transaction, still open).
_WAITED_PAST_THE_TIMEOUT = text(
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
    "AND pid NOT IN (pg_backend_pid(), :seeding) AND query LIKE '%advisory_xact_lock%' "
    "AND clock_timestamp() - xact_start > :waited"
)


async def test_a_replica_waits_for_another_replicas_seed_beyond_the_statement_timeout(
    directory_app,
):
    url = directory_app.state.database.url
    replica = create_app(
        DirectorySettings(
            database_url=url,
            environment="test",
            seed_on_startup=True,
            seed_sample_services=False,
            db_statement_timeout_seconds=TIMEOUT_SECONDS,
        )
    )

    async def start() -> None:
        async with replica.router.lifespan_context(replica):
            pass

    sessionmaker = directory_app.state.database.sessionmaker
    async with sessionmaker() as seeding, seeding.begin():
        await ChangeRepository(seeding).lock()  # another replica is seeding
        pid = (await seeding.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        starting = asyncio.create_task(start())
        waited = {"waited": timedelta(seconds=4 * TIMEOUT_SECONDS), "seeding": pid}
        while not starting.done():
            # A new transaction each time: pg_stat_activity is read once per transaction.
            async with sessionmaker() as watcher:
                if (await watcher.execute(_WAITED_PAST_THE_TIMEOUT, waited)).scalar():
                    break
            await asyncio.sleep(0.01)
    # The other replica's seed is committed: the waiting one goes on.
    await asyncio.wait_for(starting, timeout=60)
