"""Fresh databases for tests, built by running a service's Alembic migrations.

PostgreSQL tests use a real server (`SIGNPOST_TEST_POSTGRES_URL`, default the local trust-auth
server). When it is unreachable they are skipped, unless `SIGNPOST_REQUIRE_POSTGRES=1` (set by
CI), in which case they fail.
"""

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from signpost_platform import devdb
from signpost_platform.db import Database
from signpost_platform.migrations import upgrade
from signpost_platform.settings import find_repo_file

POSTGRES_ADMIN_URL = os.environ.get("SIGNPOST_TEST_POSTGRES_URL", devdb.DEFAULT_POSTGRES_ADMIN_URL)
REQUIRE_POSTGRES = os.environ.get("SIGNPOST_REQUIRE_POSTGRES") == "1"
BACKENDS = [
    b for b in os.environ.get("SIGNPOST_TEST_BACKENDS", "sqlite,postgresql").split(",") if b
]


async def create_empty_database(backend: str, tmp_dir: Path, label: str) -> str:
    """An empty database on `backend`; skips (or fails on CI) if PostgreSQL is unreachable."""
    try:
        return await devdb.create_empty_database(
            backend, label=f"test_{label}", folder=tmp_dir, postgres_admin_url=POSTGRES_ADMIN_URL
        )
    except OSError as error:
        message = f"PostgreSQL unreachable at {POSTGRES_ADMIN_URL}: {error}"
        if REQUIRE_POSTGRES:
            pytest.fail(message)
        pytest.skip(message)


async def migrated_database(backend: str, tmp_dir: Path, service: str) -> str:
    """A new database for `service`, migrated to head with Alembic."""
    url = await create_empty_database(backend, tmp_dir, service)
    await asyncio.to_thread(upgrade, find_repo_file("alembic.ini"), service, url)
    return url


async def drop_database(url: str) -> None:
    await devdb.drop_database(url, postgres_admin_url=POSTGRES_ADMIN_URL)


@contextlib.asynccontextmanager
async def tables_database(
    metadata: MetaData, backend: str, tmp_dir: Path, label: str
) -> AsyncIterator[Database]:
    """A new database holding only `metadata`'s tables (a platform test's own, not a service's
    schema), dropped afterwards."""
    url = await create_empty_database(backend, tmp_dir, label)
    database = Database(url)
    try:
        async with database.engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
        yield database
    finally:
        await database.dispose()
        await drop_database(url)


def migrated_database_fixture(service: str, name: str) -> Callable[..., Any]:
    """A session fixture called `name`: the URL of a database of `service` migrated to head on
    the run's backend, dropped when the session ends."""

    @pytest.fixture(scope="session", name=name)
    async def database(backend: str, session_tmp: Path) -> AsyncIterator[str]:
        url = await migrated_database(backend, session_tmp, service)
        yield url
        await drop_database(url)

    return database


# Table names per database URL, children first: reflecting them costs more than emptying them.
_TABLES: dict[str, list[str]] = {}


async def _tables(engine: AsyncEngine) -> list[str]:
    key = engine.url.render_as_string(hide_password=False)
    if key not in _TABLES:
        async with engine.connect() as connection:
            names = await connection.run_sync(
                lambda sync: inspect(sync).get_sorted_table_and_fkc_names()
            )
        tables = [t for t, _ in reversed(names) if t and t != "alembic_version"]
        # Last: on SQLite the report-change triggers queue every referral whose rows the
        # other deletes remove.
        _TABLES[key] = sorted(tables, key=lambda name: name == "report_change")
    return _TABLES[key]


async def empty_tables(engine: AsyncEngine) -> None:
    """Delete every row except the migration version, children first.

    PostgreSQL: plain DELETEs with triggers and foreign-key checks off for the transaction
    (`session_replication_role = replica`), then every sequence restarted. TRUNCATE of a few
    dozen tables costs a new file per table, about ten times as long for the small tables of a
    test.
    """
    tables = await _tables(engine)
    if not tables:
        return
    async with engine.begin() as connection:
        postgres = engine.dialect.name == "postgresql"
        if postgres:
            await connection.execute(text("SET LOCAL session_replication_role = replica"))
        for table in tables:
            await connection.execute(text(f"DELETE FROM {table}"))  # noqa: S608 (own tables)
        if postgres:
            await connection.execute(
                text("SELECT setval(oid, 1, false) FROM pg_class WHERE relkind = 'S'")
            )


async def someone_waits_for_a_lock(database: Database, kind: str = "advisory") -> None:
    """Return once a transaction waits for a lock of `kind` (within 30 s): an advisory lock, or
    with "transactionid" a row another transaction holds locked. PostgreSQL."""
    waiting = text(
        "SELECT count(*) FROM pg_locks WHERE locktype = :kind AND NOT granted"
    ).bindparams(kind=kind)
    for _ in range(600):
        async with database.sessionmaker() as other:
            if (await other.execute(waiting)).scalar_one():
                return
        await asyncio.sleep(0.05)
    raise AssertionError("no transaction came to wait for the lock")
