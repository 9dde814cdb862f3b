"""A session for reading much and writing nothing (`signpost_platform.db.snapshot_session`):
on PostgreSQL one read-only REPEATABLE READ transaction, with planner settings for it alone."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import Integer, func, insert, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from signpost_platform.db import Database, service_metadata, snapshot_session
from tests.support.databases import tables_database

SETTINGS = (
    "SELECT current_setting('transaction_isolation'), current_setting('transaction_read_only'),"
    " current_setting('work_mem'), current_setting('parallel_setup_cost')"
)


class Base(DeclarativeBase):
    metadata = service_metadata()


class Tally(Base):
    __tablename__ = "tally"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)


@pytest.fixture(scope="module")
async def tallies(backend: str, session_tmp: Path) -> AsyncIterator[Database]:
    async with tables_database(Base.metadata, backend, session_tmp, "snapshot") as database:
        yield database


@pytest.fixture
async def database(tallies: Database) -> AsyncIterator[Database]:
    """The tallies' database on a pool of one connection, so a session after another gets
    the same connection; emptied."""
    single = Database(tallies.url, pool_size=1, max_overflow=0)
    async with single.engine.begin() as connection:
        await connection.execute(text("DELETE FROM tally"))
    yield single
    await single.dispose()


async def count(database: Database) -> int:
    async with database.sessionmaker() as session:
        return int((await session.execute(select(func.count()).select_from(Tally))).scalar_one())


async def test_reads_what_is_committed(database):
    async with database.sessionmaker() as session, session.begin():
        await session.execute(insert(Tally), [{"id": 1}, {"id": 2}])
    async with snapshot_session(database, {"work_mem": "48MB"}) as session:
        found = await session.execute(select(Tally.id).order_by(Tally.id))
        assert found.scalars().all() == [1, 2]


@pytest.mark.postgres_only
async def test_one_read_only_snapshot_with_the_planner_settings_for_it_alone(database):
    async with database.sessionmaker() as session:
        before = (await session.execute(text(SETTINGS))).one()
    assert before[:2] == ("read committed", "off")
    planner = {"work_mem": "48MB", "parallel_setup_cost": "0"}
    async with snapshot_session(database, planner) as session:
        assert (await session.execute(text(SETTINGS))).one() == (
            "repeatable read",
            "on",
            "48MB",
            "0",
        )
    # The same (only) connection afterwards: nothing of the report's transaction is left on it.
    async with database.sessionmaker() as session:
        assert (await session.execute(text(SETTINGS))).one() == before


@pytest.mark.postgres_only
async def test_every_statement_sees_the_same_data_while_others_commit(database, tallies):
    async with tallies.sessionmaker() as session, session.begin():
        await session.execute(insert(Tally), [{"id": 1}])
    async with snapshot_session(database) as session:
        first = (await session.execute(select(func.count()).select_from(Tally))).scalar_one()
        async with tallies.sessionmaker() as writer, writer.begin():
            await writer.execute(insert(Tally), [{"id": 2}])
        again = (await session.execute(select(func.count()).select_from(Tally))).scalar_one()
    assert (first, again) == (1, 1)
    assert await count(tallies) == 2


@pytest.mark.postgres_only
async def test_a_write_is_refused_by_the_database(database):
    async with snapshot_session(database) as session:
        with pytest.raises(DBAPIError) as refused:
            await session.execute(insert(Tally), [{"id": 3}])
    assert refused.value.orig is not None
    assert getattr(refused.value.orig, "sqlstate", None) == "25006"  # read_only_sql_transaction
    assert await count(database) == 0


async def test_nothing_reaches_the_database_before_the_first_statement(database):
    """A request refused before it reads (no token, a bad parameter) takes no connection."""
    async with snapshot_session(database, {"work_mem": "48MB"}) as session:
        assert database.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
        assert not session.in_transaction()
    assert database.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
