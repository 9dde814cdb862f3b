"""Running and checking a service's Alembic history (`migrations/<service>/`)."""

import asyncio
from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, MetaData, inspect, make_url, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

# Where Alembic keeps the revisions a database is at.
_VERSION_TABLE = "alembic_version"


def alembic_config(alembic_ini: Path, service: str, database_url: str | None = None) -> Config:
    """The Alembic config of one service's history (a named section of `alembic.ini`)."""
    config = Config(str(alembic_ini), ini_section=service)
    config.set_main_option("script_location", str(alembic_ini.parent / "migrations" / service))
    if database_url:
        config.attributes["database_url"] = database_url
    return config


def upgrade(alembic_ini: Path, service: str, database_url: str, revision: str = "head") -> None:
    """Migrate the database to `revision`. Synchronous: call it in a thread from async code."""
    command.upgrade(alembic_config(alembic_ini, service, database_url), revision)


def head_revisions(alembic_ini: Path, service: str) -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config(alembic_ini, service)).get_heads())


def known_revisions(alembic_ini: Path, service: str) -> set[str]:
    """Every revision of the service's history that this release ships."""
    script = ScriptDirectory.from_config(alembic_config(alembic_ini, service))
    return {revision.revision for revision in script.walk_revisions()}


async def current_revisions(engine: AsyncEngine) -> set[str]:
    """The database's revisions; none when it has never been migrated (no `alembic_version`
    table: reachable, but behind). Raises when the database cannot be reached or read."""
    async with engine.connect() as connection:
        try:
            return await revisions_seen_by(connection)
        except DBAPIError:
            await connection.rollback()
            if await _has_version_table(connection):  # there, but not readable: raised
                raise
            return set()


async def _has_version_table(connection: AsyncConnection) -> bool:
    """Whether the database has Alembic's table anywhere, whether or not this role may read it
    (PostgreSQL's catalogue lists every schema's tables to every role, unlike the search path:
    a role without USAGE on the schema would otherwise read as never migrated)."""
    if connection.dialect.name == "postgresql":
        found = await connection.execute(
            text("SELECT EXISTS (SELECT FROM pg_catalog.pg_class WHERE relname = :name)"),
            {"name": _VERSION_TABLE},
        )
        return bool(found.scalar())
    return bool(await connection.run_sync(lambda sync: inspect(sync).has_table(_VERSION_TABLE)))


async def revisions_seen_by(bind: AsyncConnection | AsyncSession) -> set[str]:
    """The database's revisions as `bind` sees them (within its transaction, under any lock
    it holds)."""
    rows = await bind.execute(text("SELECT version_num FROM alembic_version"))
    return {row[0] for row in rows}


def ensure_sqlite_folder(database_url: str) -> None:
    """Create the folder of a SQLite database file (`./var/` for `make run`)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)


def run_migrations(metadata: MetaData, default_url: Callable[[], str]) -> None:
    """The body of every service's `migrations/<service>/env.py`.

    The URL comes from the caller (tests, `make migrate`) through `config.attributes`, else from
    the service's own settings. SQLite gets batch mode so ALTERs work.
    """
    from alembic import context

    url = context.config.attributes.get("database_url") or default_url()
    sqlite = url.startswith("sqlite")
    if context.is_offline_mode():
        context.configure(
            url=url, target_metadata=metadata, literal_binds=True, render_as_batch=sqlite
        )
        with context.begin_transaction():
            context.run_migrations()
        return

    def run(connection: Connection) -> None:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=sqlite,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()

    async def online() -> None:
        ensure_sqlite_folder(url)
        engine = create_async_engine(url, poolclass=NullPool)
        try:
            async with engine.connect() as connection:
                await connection.run_sync(run)
                await connection.commit()
        finally:
            await engine.dispose()

    asyncio.run(online())
