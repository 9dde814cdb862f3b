"""Fresh databases for tests, built by running a service's Alembic migrations.

PostgreSQL tests use a real server (`SIGNPOST_TEST_POSTGRES_URL`, default the local trust-auth
server). When it is unreachable they are skipped, unless `SIGNPOST_REQUIRE_POSTGRES=1` (set by
CI), in which case they fail.
"""

import asyncio
import os
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from signpost_platform import devdb
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


async def empty_tables(engine: AsyncEngine) -> None:
    """Delete every row except the migration version, children first."""
    async with engine.begin() as connection:
        names = await connection.run_sync(
            lambda sync: inspect(sync).get_sorted_table_and_fkc_names()
        )
        tables = [table for table, _ in reversed(names) if table and table != "alembic_version"]
        if not tables:
            return
        if engine.dialect.name == "postgresql":
            await connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                await connection.execute(text(f"DELETE FROM {table}"))  # noqa: S608 (own tables)
