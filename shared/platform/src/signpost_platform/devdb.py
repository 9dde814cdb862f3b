"""Creating and dropping throwaway databases for tests and benchmarks.

A database is created empty (a SQLite file, or a new PostgreSQL database through an admin URL)
and migrated with the service's Alembic history, exactly as a deployment would be.
"""

import asyncio
import uuid
from pathlib import Path

from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from signpost_platform.migrations import upgrade
from signpost_platform.settings import find_repo_file

DEFAULT_POSTGRES_ADMIN_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


async def create_empty_database(
    backend: str, *, label: str, folder: Path, postgres_admin_url: str = DEFAULT_POSTGRES_ADMIN_URL
) -> str:
    """A new empty database on `backend` ("sqlite" or "postgresql"); returns its URL.

    Raises OSError when PostgreSQL cannot be reached.
    """
    if backend == "sqlite":
        folder.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 (development tooling)
        return f"sqlite+aiosqlite:///{folder / f'{label}-{uuid.uuid4().hex[:8]}.db'}"
    name = f"signpost_{label}_{uuid.uuid4().hex[:10]}"
    engine = create_async_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await engine.dispose()
    return make_url(postgres_admin_url).set(database=name).render_as_string(hide_password=False)


async def drop_database(url: str, *, postgres_admin_url: str = DEFAULT_POSTGRES_ADMIN_URL) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database:
            for suffix in ("", "-wal", "-shm"):
                Path(parsed.database + suffix).unlink(missing_ok=True)  # noqa: ASYNC240
        return
    engine = create_async_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(
                text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
            )
    finally:
        await engine.dispose()


async def migrated_database(
    backend: str,
    service: str,
    *,
    folder: Path,
    postgres_admin_url: str = DEFAULT_POSTGRES_ADMIN_URL,
) -> str:
    """A new database for `service`, migrated to head with its Alembic history."""
    url = await create_empty_database(
        backend, label=service, folder=folder, postgres_admin_url=postgres_admin_url
    )
    await asyncio.to_thread(upgrade, find_repo_file("alembic.ini"), service, url)
    return url
