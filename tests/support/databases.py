"""Fresh databases built by running a service's Alembic migrations, on SQLite or PostgreSQL.

PostgreSQL tests use a real server (`SIGNPOST_TEST_POSTGRES_URL`, default the local trust-auth
server). When it is unreachable they are skipped, unless `SIGNPOST_REQUIRE_POSTGRES=1` (set by
CI), in which case they fail.
"""

import asyncio
import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from signpost_platform.migrations import upgrade
from signpost_platform.settings import find_repo_file

ALEMBIC_INI = find_repo_file("alembic.ini")
POSTGRES_ADMIN_URL = os.environ.get(
    "SIGNPOST_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
REQUIRE_POSTGRES = os.environ.get("SIGNPOST_REQUIRE_POSTGRES") == "1"
BACKENDS = [b for b in os.environ.get("SIGNPOST_TEST_BACKENDS", "sqlite,postgresql").split(",") if b]


async def _admin_engine() -> AsyncEngine:
    return create_async_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")


async def create_empty_database(backend: str, tmp_dir: Path, label: str) -> str:
    """An empty database on `backend`; returns its SQLAlchemy URL."""
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_dir / f'{label}-{uuid.uuid4().hex[:8]}.db'}"
    name = f"signpost_test_{label}_{uuid.uuid4().hex[:10]}"
    engine = await _admin_engine()
    try:
        async with engine.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
    except (OSError, ConnectionError) as error:
        message = f"PostgreSQL unreachable at {POSTGRES_ADMIN_URL}: {error}"
        if REQUIRE_POSTGRES:
            pytest.fail(message)
        pytest.skip(message)
    finally:
        await engine.dispose()
    return str(make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False))


async def drop_database(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database:
            for suffix in ("", "-wal", "-shm"):
                Path(parsed.database + suffix).unlink(missing_ok=True)
        return
    engine = await _admin_engine()
    try:
        async with engine.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    finally:
        await engine.dispose()


async def migrated_database(backend: str, tmp_dir: Path, service: str) -> str:
    """A new database for `service`, migrated to head with Alembic."""
    url = await create_empty_database(backend, tmp_dir, service)
    await asyncio.to_thread(upgrade, ALEMBIC_INI, service, url)
    return url


async def empty_tables(engine: AsyncEngine) -> None:
    """Delete every row except the migration version, children first."""
    async with engine.begin() as connection:
        names = await connection.run_sync(
            lambda sync: __import__("sqlalchemy").inspect(sync).get_sorted_table_and_fkc_names()
        )
        tables = [table for table, _ in reversed(names) if table and table != "alembic_version"]
        if not tables:
            return
        if engine.dialect.name == "postgresql":
            await connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                await connection.execute(text(f"DELETE FROM {table}"))
