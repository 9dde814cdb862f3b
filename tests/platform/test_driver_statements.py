"""Statements run on PostgreSQL's driver (`signpost_platform.db.DriverStatement`): in the
session's transaction, with each type's bind and result processing, errors raised as
SQLAlchemy's; on SQLite through SQLAlchemy, with the same answers.

On PostgreSQL they lean on SQLAlchemy's asyncpg adapter (its transaction, mutex and error
translation), which is private: these tests are what holds it to that use when SQLAlchemy is
upgraded.
"""

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import String, TypeDecorator, bindparam, event, insert, literal, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError, PendingRollbackError, StatementError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from signpost_platform import db
from signpost_platform.db import (
    Database,
    DriverStatement,
    KeptSessions,
    RequestSession,
    database_unavailable,
    service_metadata,
)
from tests.support.databases import someone_waits_for_a_lock, tables_database


class Shouted(TypeDecorator[str]):
    """A type whose processing shows: values are stored in capitals and read back marked."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: object) -> str | None:
        return None if value is None else value.upper()

    def process_result_value(self, value: str | None, dialect: object) -> str | None:
        return None if value is None else f"<{value}>"


class Base(DeclarativeBase):
    metadata = service_metadata()


class Note(Base):
    __tablename__ = "note"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    body: Mapped[str] = mapped_column(Shouted(64))


INSERT_NOTE = DriverStatement(
    insert(Note)
    .values(id=bindparam("id"), body=bindparam("body", type_=Note.body.type))
    .returning(Note.id, Note.body)
)


@pytest.fixture(scope="module")
async def notes(backend: str, session_tmp: Path) -> AsyncIterator[Database]:
    async with tables_database(Base.metadata, backend, session_tmp, "driver") as database:
        yield database


@pytest.fixture
async def database(notes: Database) -> Database:
    async with notes.engine.begin() as connection:
        await connection.execute(text("DELETE FROM note"))
    return notes


NOTE_BODY = DriverStatement(select(Note.body).where(Note.id == bindparam("id")))


def nothing_out_but_kept(database: Database) -> bool:
    """Whether the only connections out of `database`'s pool are those kept for reads."""
    return database.engine.pool.checkedout() == len(database.connections)  # type: ignore[attr-defined]


async def stored(database: Database) -> dict[str, str]:
    async with database.sessionmaker() as session:
        rows = (await session.execute(select(Note.id, Note.body))).all()
        return {note_id: body for note_id, body in rows}


async def test_values_go_through_their_types_bind_processing(database):
    async with database.sessionmaker() as session:
        rows = await INSERT_NOTE.fetch(session, {"id": "n-1", "body": "damp flat"})
        await session.commit()

    assert [tuple(row) for row in rows] == [("n-1", "<DAMP FLAT>")]
    assert await stored(database) == {"n-1": "<DAMP FLAT>"}


async def test_a_statement_on_the_driver_is_undone_with_the_sessions_transaction(database):
    async with database.sessionmaker() as session:
        await INSERT_NOTE.fetch(session, {"id": "n-1", "body": "kept?"})
        # The session sees its own uncommitted row: one transaction, one connection.
        assert (await session.execute(select(Note.body))).scalars().all() == ["<KEPT?>"]
        await session.rollback()

    assert await stored(database) == {}


async def test_it_joins_a_transaction_the_session_began_and_commits_with_it(database):
    async with database.sessionmaker() as session:
        await session.execute(insert(Note).values(id="n-1", body="first"))
        await INSERT_NOTE.fetch(session, {"id": "n-2", "body": "second"})
        await session.commit()

    assert await stored(database) == {"n-1": "<FIRST>", "n-2": "<SECOND>"}


@pytest.mark.postgres_only
async def test_a_constraint_violation_is_sqlalchemys_integrity_error_and_the_session_recovers(
    database,
):
    async with database.sessionmaker() as session:
        await INSERT_NOTE.fetch(session, {"id": "n-1", "body": "secret value"})
        with pytest.raises(IntegrityError) as raised:
            await INSERT_NOTE.fetch(session, {"id": "n-1", "body": "secret value"})
        assert "secret" not in str(raised.value).lower()  # parameters are hidden
        assert raised.value.orig is not None and raised.value.orig.sqlstate == "23505"
        await session.rollback()
        await INSERT_NOTE.fetch(session, {"id": "n-2", "body": "after"})
        await session.commit()

    assert await stored(database) == {"n-2": "<AFTER>"}


@pytest.mark.postgres_only
async def test_in_a_read_session_each_statement_commits_on_its_own(database):
    async with database.read_sessionmaker() as session:
        await INSERT_NOTE.fetch(session, {"id": "n-1", "body": "audit"})
        # No transaction was begun: closing without a commit keeps the row.

    assert await stored(database) == {"n-1": "<AUDIT>"}


async def test_a_value_left_out_is_refused_before_anything_is_sent(database):
    async with database.sessionmaker() as session:
        with pytest.raises((KeyError, StatementError)):
            await INSERT_NOTE.fetch(session, {"id": "n-1"})

    assert await stored(database) == {}


async def test_a_value_written_into_the_statement_is_sent_as_it_stands(database):
    statement = DriverStatement(
        insert(Note)
        .values(id=bindparam("id"), body=literal("from the statement", type_=Note.body.type))
        .returning(Note.body)
    )

    async with database.sessionmaker() as session:
        (row,) = await statement.fetch(session, {"id": "n-1"})
        await session.commit()

    assert row[0] == "<FROM THE STATEMENT>"


async def test_a_statement_with_an_in_list_runs_through_sqlalchemy_with_the_same_answer(database):
    statement = DriverStatement(
        select(Note.id).where(Note.id.in_(bindparam("ids", expanding=True))).order_by(Note.id)
    )

    async with database.sessionmaker() as session:
        await INSERT_NOTE.fetch(session, {"id": "n-1", "body": "one"})
        await INSERT_NOTE.fetch(session, {"id": "n-2", "body": "two"})
        rows = await statement.fetch(session, {"ids": ["n-1", "n-2", "n-3"]})

    assert [tuple(row) for row in rows] == [("n-1",), ("n-2",)]


async def test_rows_answer_as_sqlalchemy_answers_them(database):
    statement = select(Note.id, Note.body).where(Note.id == bindparam("id"))
    async with database.sessionmaker() as session:
        await INSERT_NOTE.fetch(session, {"id": "n-1", "body": "one"})
        through_sqlalchemy = (await session.execute(statement, {"id": "n-1"})).all()
        on_the_driver = await DriverStatement(statement).fetch(session, {"id": "n-1"})

    assert [tuple(row) for row in on_the_driver] == [tuple(row) for row in through_sqlalchemy]
    assert [tuple(row) for row in on_the_driver] == [("n-1", "<ONE>")]


async def test_a_write_without_returning_answers_no_rows_and_writes(database):
    statement = DriverStatement(
        insert(Note).values(id=bindparam("id"), body=bindparam("body", type_=Note.body.type))
    )

    async with database.sessionmaker() as session:
        rows = await statement.fetch(session, {"id": "n-1", "body": "one"})
        await session.commit()

    assert rows == []
    assert await stored(database) == {"n-1": "<ONE>"}


@pytest.mark.postgres_only
async def test_a_connection_lost_mid_request_is_unavailable_and_replaced(database):
    """As through SQLAlchemy: the error says the connection was invalidated (the service answers
    503, not 500), and the pool hands the next session a new connection."""
    backend_pid = DriverStatement(text("SELECT pg_backend_pid() + :zero"))
    async with database.sessionmaker() as session:
        ((pid,),) = await backend_pid.fetch(session, {"zero": 0})
        async with database.engine.connect() as other:
            # Waits (up to 5 s) until the backend has gone, so the next statement meets it gone.
            await other.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})
        with pytest.raises(DBAPIError) as raised:
            await backend_pid.fetch(session, {"zero": 0})
        assert raised.value.connection_invalidated
        assert database_unavailable(raised.value)
        await session.rollback()

    async with database.sessionmaker() as session:
        ((new_pid,),) = await backend_pid.fetch(session, {"zero": 0})
    assert new_pid != pid


@pytest.mark.postgres_only
async def test_a_read_session_runs_each_statement_on_a_connection_it_gives_straight_back(database):
    """No session transaction is begun and no connection is held between statements, so a read
    holds at most one connection, and only while its statement runs (the connections kept for
    read statements are idle between them)."""
    async with database.read_sessionmaker() as session:
        await INSERT_NOTE.fetch(session, {"id": "n-1", "body": "audit"})
        assert not session.in_transaction()
        assert nothing_out_but_kept(database)
        with pytest.raises(IntegrityError):
            await INSERT_NOTE.fetch(session, {"id": "n-1", "body": "again"})
        assert nothing_out_but_kept(database)

    assert await stored(database) == {"n-1": "<AUDIT>"}


@pytest.mark.postgres_only
async def test_a_read_session_statement_cancelled_part_way_does_not_spoil_the_pool(database):
    """A client that goes away cancels its request mid-statement: the connection is closed,
    not given back with the statement still running on it."""
    sleep = DriverStatement(text("SELECT pg_sleep(:seconds)"))
    async with database.read_sessionmaker() as session:
        running = asyncio.create_task(sleep.fetch(session, {"seconds": 30}))
        await asyncio.sleep(0.3)
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running

    async with database.read_sessionmaker() as session:
        assert [tuple(row) for row in await sleep.fetch(session, {"seconds": 0})] == [(None,)]
    assert nothing_out_but_kept(database)


@pytest.mark.postgres_only
async def test_a_connection_lost_under_a_read_session_is_unavailable_and_replaced(database):
    backend_pid = DriverStatement(text("SELECT pg_backend_pid() + :zero"))
    async with database.read_sessionmaker() as session:
        ((pid,),) = await backend_pid.fetch(session, {"zero": 0})
    async with database.engine.connect() as other:
        await other.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})
    pids = []
    for _ in range(database.engine.pool.size() + 1):  # type: ignore[attr-defined]
        async with database.read_sessionmaker() as session:
            try:
                ((new_pid,),) = await backend_pid.fetch(session, {"zero": 0})
            except DBAPIError as error:
                assert error.connection_invalidated
                assert database_unavailable(error)
            else:
                pids.append(new_pid)

    assert pids and pid not in pids


BACKEND_PID = DriverStatement(text("SELECT pg_backend_pid() + :zero"))
# Connections a restart test holds at once, so that its pool keeps that many.
HELD = 3


@pytest.fixture
async def own_pool(database: Database) -> AsyncIterator[Database]:
    """The notes' database on a pool of its own, empty at the start: what a restart test finds
    in it is what the test put there, whatever ran before."""
    fresh = Database(database.url)
    yield fresh
    await fresh.dispose()


async def held_connections(sessions: Any) -> list[int]:
    """The backend pids of `HELD` connections of `sessions`' pool, all taken at once."""

    async def one_pid() -> int:
        async with sessions() as session:
            ((pid,),) = await BACKEND_PID.fetch(session, {"zero": 0})
            await asyncio.sleep(0.05)  # all held at once: the pool keeps them all
            return int(pid)

    pids = await asyncio.gather(*(one_pid() for _ in range(HELD)))
    assert len(set(pids)) == HELD
    return list(pids)


async def restart(url: str, pids: list[int]) -> None:
    """End the backends `pids`, as a database restart does, from a pool of its own."""
    restarter = Database(url)
    try:
        async with restarter.engine.connect() as other:
            for pid in pids:
                await other.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})
    finally:
        await restarter.dispose()


@pytest.mark.postgres_only
@pytest.mark.parametrize("reads", [False, True], ids=["in-a-transaction", "read-session"])
async def test_after_a_restart_only_the_first_request_meets_a_closed_connection(own_pool, reads):
    """As SQLAlchemy does on a disconnect, the first lost connection invalidates every older
    connection of the pool, so they are opened again when taken rather than each failing one
    request: a database restart costs one 503 per process, not one per pooled connection. Read
    statements take the connections kept for them first (`KeptConnections`); one the driver
    already knows is closed counts as lost without failing a request, so a restart costs reads
    at most one 503."""
    sessions = own_pool.read_sessionmaker if reads else own_pool.sessionmaker
    pids = await held_connections(sessions)
    await restart(own_pool.url, pids)

    failed, answered = 0, []
    for _ in range(HELD + 1):
        async with sessions() as session:
            try:
                ((pid,),) = await BACKEND_PID.fetch(session, {"zero": 0})
            except DBAPIError as error:
                assert error.connection_invalidated and database_unavailable(error)
                failed += 1
            else:
                answered.append(pid)
    if reads:
        assert failed <= 1 and len(answered) == HELD + 1 - failed
    else:
        assert failed == 1 and len(answered) == HELD
    assert not set(answered) & set(pids)


@pytest.mark.postgres_only
async def test_a_connection_lost_at_the_commit_invalidates_the_pools_older_ones_too(own_pool):
    """The commit on the driver (`_commit_on_driver`) meets a restart as a statement does."""
    pids = await held_connections(own_pool.sessionmaker)
    with pytest.raises(DBAPIError) as lost:
        async with RequestSession(own_pool.writes, commits=True) as session:
            await BACKEND_PID.fetch(session, {"zero": 0})
            await restart(own_pool.url, pids)
    assert lost.value.connection_invalidated and database_unavailable(lost.value)

    answered = []
    for _ in range(HELD):
        async with own_pool.sessionmaker() as session:
            ((pid,),) = await BACKEND_PID.fetch(session, {"zero": 0})
            answered.append(pid)
    assert not set(answered) & set(pids)


@pytest.mark.postgres_only
async def test_read_sessions_over_the_pools_size_close_the_connections_it_does_not_keep(
    database,
):
    """Reads beyond the pool's size run on overflow connections; each is closed when its
    statement is done, so bursts of reads never leave more connections open than the pool."""
    backends = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )
    # Autocommit: in a transaction pg_stat_activity answers from the snapshot it first took.
    autocommit = database.engine.execution_options(isolation_level="AUTOCOMMIT")
    async with autocommit.connect() as admin:
        before = (await admin.execute(backends)).scalar_one()
        small = Database(database.url, pool_size=1, max_overflow=4)
        sleep = DriverStatement(text("SELECT pg_sleep(:seconds)"))

        async def read() -> None:
            async with small.read_sessionmaker() as session:
                await sleep.fetch(session, {"seconds": 0.05})

        try:
            for _ in range(3):
                await asyncio.gather(*(read() for _ in range(5)))
            after = (await admin.execute(backends)).scalar_one()
        finally:
            await small.dispose()

    assert after <= before + 1  # the small pool keeps one


def write_session(database: Database, commits: list[str]) -> RequestSession:
    """A request's write session, as `signpost_platform.db.write_session` opens one, whose
    commits are noted in `commits` by an `after_commit` listener (as the report facts
    refresher listens)."""

    class Listened(Session):
        pass

    event.listen(Listened, "after_commit", lambda _: commits.append("committed"))
    maker = async_sessionmaker(database.engine, expire_on_commit=False, sync_session_class=Listened)
    return RequestSession(KeptSessions(maker), commits=True)


async def test_a_request_session_commits_its_driver_statements_and_tells_its_listeners(
    database, backend
):
    commits: list[str] = []
    through_sqlalchemy: list[object] = []

    def committed_by_sqlalchemy(connection: object) -> None:
        through_sqlalchemy.append(connection)

    event.listen(database.engine.sync_engine, "commit", committed_by_sqlalchemy)
    try:
        async with write_session(database, commits) as session:
            await INSERT_NOTE.fetch(session, {"id": "n-1", "body": "one"})
            await INSERT_NOTE.fetch(session, {"id": "n-2", "body": "two"})
    finally:
        event.remove(database.engine.sync_engine, "commit", committed_by_sqlalchemy)

    assert await stored(database) == {"n-1": "<ONE>", "n-2": "<TWO>"}
    assert commits == ["committed"]
    # On PostgreSQL committed on the driver, not by SQLAlchemy's connection.
    assert len(through_sqlalchemy) == (0 if backend == "postgresql" else 1)
    assert nothing_out_but_kept(database)


@pytest.mark.parametrize("change", ["changed", "deleted"])
async def test_a_request_session_commits_what_the_orm_changed_or_deleted_with_them(
    database, change
):
    async with database.sessionmaker() as session:
        session.add(Note(id="n-1", body="before"))
        await session.commit()

    commits: list[str] = []
    async with write_session(database, commits) as session:
        await INSERT_NOTE.fetch(session, {"id": "n-2", "body": "new"})
        note = await session.get(Note, "n-1")
        assert note is not None
        if change == "changed":
            note.body = "after"
        else:
            await session.delete(note)

    kept = {"n-1": "<AFTER>"} if change == "changed" else {}
    assert await stored(database) == {**kept, "n-2": "<NEW>"}
    assert commits == ["committed"]


async def test_a_request_session_whose_transaction_failed_is_not_reported_committed(database):
    """A flush that failed ends the transaction: the end of the request raises, as
    SQLAlchemy's commit does, rather than answering as if the writes were kept."""
    commits: list[str] = []
    with pytest.raises(PendingRollbackError):
        async with write_session(database, commits) as session:
            await INSERT_NOTE.fetch(session, {"id": "n-1", "body": "first"})
            session.add(Note(id="n-1", body="the same id"))
            with pytest.raises(IntegrityError):
                await session.flush()

    assert await stored(database) == {}
    assert commits == []


async def test_a_request_session_flushes_and_commits_what_the_orm_holds_with_them(database):
    commits: list[str] = []
    async with write_session(database, commits) as session:
        await INSERT_NOTE.fetch(session, {"id": "n-1", "body": "on the driver"})
        session.add(Note(id="n-2", body="through the orm"))

    assert await stored(database) == {"n-1": "<ON THE DRIVER>", "n-2": "<THROUGH THE ORM>"}
    assert commits == ["committed"]


async def test_a_request_session_that_committed_part_way_commits_the_rest_on_its_connection(
    database,
):
    """Committed part way, a session may hold a connection other than its first statement's:
    the end of the request commits the transaction the session is in now."""
    commits: list[str] = []
    async with write_session(database, commits) as session:
        await INSERT_NOTE.fetch(session, {"id": "n-1", "body": "first"})
        await session.commit()
        await session.execute(insert(Note).values(id="n-2", body="second"))

    assert await stored(database) == {"n-1": "<FIRST>", "n-2": "<SECOND>"}
    assert commits == ["committed", "committed"]


async def test_a_request_session_that_raises_keeps_nothing(database):
    commits: list[str] = []
    with pytest.raises(RuntimeError):
        async with write_session(database, commits) as session:
            await INSERT_NOTE.fetch(session, {"id": "n-1", "body": "half"})
            raise RuntimeError("the request failed after its first write")

    assert await stored(database) == {}
    assert commits == []


@pytest.mark.postgres_only
async def test_a_commit_the_database_refuses_is_sqlalchemys_error_and_keeps_nothing(database):
    """A constraint checked at COMMIT (deferred) refuses the commit itself: the request hears
    SQLAlchemy's IntegrityError, nothing is kept, listeners hear of no commit, and the
    connection goes back to the pool fit for the next request."""
    async with database.engine.begin() as connection:
        await connection.execute(
            text(
                "CREATE TABLE IF NOT EXISTS deferred_note (id text, CONSTRAINT one_each "
                "UNIQUE (id) DEFERRABLE INITIALLY DEFERRED)"
            )
        )
        await connection.execute(text("DELETE FROM deferred_note"))
    insert_deferred = DriverStatement(text("INSERT INTO deferred_note (id) VALUES (:id)"))
    commits: list[str] = []

    with pytest.raises(IntegrityError) as raised:
        async with write_session(database, commits) as session:
            await INSERT_NOTE.fetch(session, {"id": "n-1", "body": "with it"})
            await insert_deferred.fetch(session, {"id": "twice"})
            await insert_deferred.fetch(session, {"id": "twice"})

    assert raised.value.orig is not None and raised.value.orig.sqlstate == "23505"
    assert await stored(database) == {}
    assert commits == []
    async with write_session(database, commits) as session:
        await INSERT_NOTE.fetch(session, {"id": "n-2", "body": "next"})
    assert await stored(database) == {"n-2": "<NEXT>"}
    assert commits == ["committed"]


def _request_to(database: Database) -> Any:
    """What `read_session` and `write_session` read of a request: the app's database."""
    return SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace(database=database)))


async def test_a_finished_requests_session_serves_the_next_request(database, backend):
    request = _request_to(database)
    async with db.write_session(request) as first_write:
        await INSERT_NOTE.fetch(first_write, {"id": "n-1", "body": "written"})
    async with db.read_session(request) as first_read:
        await NOTE_BODY.fetch(first_read, {"id": "n-1"})

    async with db.write_session(request) as second_write:
        await INSERT_NOTE.fetch(second_write, {"id": "n-2", "body": "again"})
        # Two requests at once never share one.
        async with db.write_session(request) as third_write:
            assert third_write is not second_write
    async with db.read_session(request) as second_read:
        rows = await NOTE_BODY.fetch(second_read, {"id": "n-2"})

    assert second_write is first_write and second_read is first_read
    assert second_write is not second_read
    assert [tuple(row) for row in rows] == [("<AGAIN>",)]
    assert await stored(database) == {"n-1": "<WRITTEN>", "n-2": "<AGAIN>"}
    assert nothing_out_but_kept(database)


@pytest.mark.parametrize("use", ["read an object", "added an object", "noted in info", "raised"])
async def test_a_session_used_otherwise_is_left_as_a_new_one_would_be_or_not_kept(database, use):
    request = _request_to(database)
    async with database.sessionmaker() as setup:
        await INSERT_NOTE.fetch(setup, {"id": "n-1", "body": "kept"})
        await setup.commit()
    async with db.write_session(request):
        pass  # one kept
    try:
        async with db.write_session(request) as first:
            if use == "read an object":
                assert await first.get(Note, "n-1") is not None
            elif use == "added an object":
                first.add(Note(id="n-2", body="added"))
            elif use == "noted in info":
                first.info["note"] = "x"
            else:
                await INSERT_NOTE.fetch(first, {"id": "n-3", "body": "undone"})
                raise LookupError(use)
    except LookupError:
        pass

    async with db.write_session(request) as second:
        assert not second.in_transaction()
        assert not second.sync_session.identity_map and not second.sync_session.new
        assert second.info == {}

    if use == "noted in info":  # not as the sessionmaker made it: not kept
        assert second is not first
    else:  # closed after its commit or its rollback: as new
        assert second is first
    assert nothing_out_but_kept(database)
    assert set(await stored(database)) == ({"n-1", "n-2"} if use == "added an object" else {"n-1"})


async def test_a_kept_session_is_let_go_when_its_sessionmaker_is_configured_anew(database):
    maker = async_sessionmaker(database.engine, expire_on_commit=False)
    kept = KeptSessions(maker)
    async with RequestSession(kept, commits=True) as first:
        pass
    assert len(kept) == 1

    class Listened(Session):
        pass

    kept.configure(sync_session_class=Listened)
    assert len(kept) == 0
    async with RequestSession(kept, commits=True) as second:
        pass

    assert second is not first and type(second.sync_session) is Listened
    assert len(kept) == 1

    # A session made before, given back after: not kept.
    taken = RequestSession(kept, commits=True)
    assert len(kept) == 0
    kept.configure(sync_session_class=Session)
    async with taken:
        pass
    assert len(kept) == 0


# Advisory locks (`db.lock_keys`): taken with the transaction's BEGIN in one round trip, on the
# numbers the database gives the keys (`hashtextextended(key, 0)`).
TRY_LOCK = text("SELECT pg_try_advisory_xact_lock(hashtextextended(:key, 0))")


async def free(database: Database, key: str) -> bool:
    """Whether another transaction could take `key`'s advisory lock now."""
    async with database.sessionmaker() as other:
        return bool((await other.execute(TRY_LOCK, {"key": key})).scalar_one())


# Keys a sender could make, each written into the lock statement: quotes, dollar quotes,
# backslashes, statement ends, comments, and text outside ASCII.
AWKWARD_KEYS = [
    "urn:sender|O'Brien''s",
    "urn:sender|$$;$k$ SELECT 1;--",
    "urn:sender|back\\slash\\",
    "urn:sender|'); SELECT pg_advisory_unlock_all(); --",
    "urn:sender|ä€😀",
    "",
]


@pytest.mark.postgres_only
async def test_locks_begin_the_transaction_and_are_held_until_it_ends(database):
    async with database.sessionmaker() as session:
        await db.lock_keys(session, ["urn:sender|REF-1", "person|p-1"])
        await INSERT_NOTE.fetch(session, {"id": "n-1", "body": "locked"})
        assert session.in_transaction()
        assert not await free(database, "urn:sender|REF-1")
        assert not await free(database, "person|p-1")
        assert await free(database, "urn:sender|REF-2")
        await session.rollback()  # the insert was in the transaction the locks began

        assert await free(database, "urn:sender|REF-1")
        assert await free(database, "person|p-1")
    assert await stored(database) == {}


@pytest.mark.postgres_only
async def test_locks_join_a_transaction_already_begun_and_commit_with_it(database):
    async with database.sessionmaker() as session:
        await INSERT_NOTE.fetch(session, {"id": "n-1", "body": "first"})
        await db.lock_keys(session, ["urn:sender|REF-1"])
        await INSERT_NOTE.fetch(session, {"id": "n-2", "body": "second"})
        assert not await free(database, "urn:sender|REF-1")
        await session.commit()
    assert await stored(database) == {"n-1": "<FIRST>", "n-2": "<SECOND>"}
    assert await free(database, "urn:sender|REF-1")


@pytest.mark.postgres_only
async def test_a_second_transaction_waits_for_the_lock_and_sees_what_the_first_committed(
    database,
):
    """What the locks are for: a second writer of the same key runs after the first has
    committed, and its next statement sees the first's row."""
    seen: list[dict[str, str]] = []
    first_locked = asyncio.Event()

    async def first() -> None:
        async with database.sessionmaker() as session:
            await db.lock_keys(session, ["urn:sender|REF-1"])
            first_locked.set()
            await asyncio.sleep(0.2)
            await INSERT_NOTE.fetch(session, {"id": "n-1", "body": "first"})
            await session.commit()

    async def second() -> None:
        await first_locked.wait()
        async with database.sessionmaker() as session:
            await db.lock_keys(session, ["urn:sender|REF-1"])
            rows = (await session.execute(select(Note.id, Note.body))).all()
            seen.append(dict(rows))  # type: ignore[arg-type]
            await session.commit()

    await asyncio.gather(first(), second())
    assert seen == [{"n-1": "<FIRST>"}]


@asynccontextmanager
async def one_connection(database: Database, lock_timeout: str) -> AsyncIterator[Database]:
    """The notes' database on a pool of one connection that waits at most `lock_timeout` for a
    lock."""
    small = Database(database.url, pool_size=1, max_overflow=0)

    @event.listens_for(small.engine.sync_engine, "connect")
    def set_lock_timeout(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"SET lock_timeout = '{lock_timeout}'")
        cursor.close()

    try:
        yield small
    finally:
        await small.dispose()


@pytest.fixture
async def impatient(database: Database) -> AsyncIterator[Database]:
    """The notes' database on a pool of one connection that waits at most 100 ms for a lock."""
    async with one_connection(database, "100ms") as small:
        yield small


@pytest.fixture
async def patient(database: Database) -> AsyncIterator[Database]:
    """The notes' database on a pool of one connection that waits for a lock as long as it
    takes (a minute at most)."""
    async with one_connection(database, "60s") as small:
        yield small


async def left_in_a_transaction(database: Database) -> bool:
    """Whether the pool's connection is inside a transaction on the server (a new session on
    the one-connection pool meets the same connection)."""
    async with database.engine.connect() as connection:
        raw = await connection.get_raw_connection()
        return bool(raw.driver_connection.is_in_transaction())  # type: ignore[union-attr]


@pytest.mark.postgres_only
async def test_a_lock_that_cannot_be_had_fails_and_leaves_no_transaction_open(database, impatient):
    async with database.sessionmaker() as holder:
        await db.lock_keys(holder, ["urn:sender|REF-1"])
        async with impatient.sessionmaker() as session:
            with pytest.raises(DBAPIError) as refused:
                await db.lock_keys(session, ["urn:sender|REF-2", "urn:sender|REF-1"])
            assert refused.value.orig is not None
            assert refused.value.orig.sqlstate == "55P03"  # lock_not_available
            await session.rollback()
            assert not await left_in_a_transaction(impatient)
        # The lock the failed transaction had taken went with it.
        assert await free(database, "urn:sender|REF-2")
        await holder.rollback()

    async with impatient.sessionmaker() as session:  # the connection serves the next one
        await db.lock_keys(session, ["urn:sender|REF-1"])
        await INSERT_NOTE.fetch(session, {"id": "n-1", "body": "after"})
        await session.commit()
    assert await stored(database) == {"n-1": "<AFTER>"}


@pytest.mark.postgres_only
async def test_a_request_cancelled_while_waiting_for_a_lock_leaves_no_lock_or_transaction(
    database, patient
):
    """A client that goes away while its request waits for a lock: the connection goes back
    with no transaction open and no lock held, or is closed."""
    async with database.sessionmaker() as holder:
        await db.lock_keys(holder, ["urn:sender|REF-1"])

        async def waiting() -> None:
            async with RequestSession(patient.writes, commits=True) as session:
                await db.lock_keys(session, ["urn:sender|REF-2", "urn:sender|REF-1"])

        running = asyncio.create_task(waiting())
        await someone_waits_for_a_lock(database)
        assert not await free(database, "urn:sender|REF-2")  # taken before it waited
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running
        await holder.rollback()

    assert await free(database, "urn:sender|REF-2")
    assert not await left_in_a_transaction(patient)
    assert nothing_out_but_kept(patient)


# Connections kept for read statements (`db.KeptConnections`).


@pytest.fixture
async def small_pool(database: Database) -> AsyncIterator[Database]:
    """The notes' database on a pool of 8 (a quarter of it, 2, may be kept for reads)."""
    small = Database(database.url, pool_size=8, max_overflow=0)
    yield small
    await small.dispose()


@pytest.mark.postgres_only
async def test_read_statements_one_after_another_run_on_one_kept_connection(small_pool):
    pids = set()
    for _ in range(5):
        async with small_pool.read_sessionmaker() as session:
            ((pid,),) = await BACKEND_PID.fetch(session, {"zero": 0})
            pids.add(pid)
    assert len(pids) == 1
    assert len(small_pool.connections) == 1
    assert small_pool.engine.pool.checkedout() == 1  # type: ignore[attr-defined]

    await small_pool.connections.give_back_all()
    assert small_pool.engine.pool.checkedout() == 0  # type: ignore[attr-defined]


@pytest.mark.postgres_only
async def test_at_most_a_quarter_of_the_pool_is_kept_and_none_while_half_is_out(small_pool):
    sleep = DriverStatement(text("SELECT pg_sleep(:seconds)"))

    async def read() -> None:
        async with small_pool.read_sessionmaker() as session:
            await sleep.fetch(session, {"seconds": 0.05})

    await asyncio.gather(*(read() for _ in range(3)))
    assert len(small_pool.connections) == 2  # a quarter of 8

    await small_pool.connections.give_back_all()
    async with AsyncExitStack() as writes:
        for _ in range(4):  # half the pool out in write transactions
            session = await writes.enter_async_context(small_pool.sessionmaker())
            await BACKEND_PID.fetch(session, {"zero": 0})
        await read()
        assert len(small_pool.connections) == 0
        assert small_pool.engine.pool.checkedout() == 4  # type: ignore[attr-defined]


@pytest.mark.postgres_only
async def test_a_connection_a_read_statement_failed_on_is_not_kept(small_pool):
    async with small_pool.read_sessionmaker() as session:
        with pytest.raises(DBAPIError):
            await DriverStatement(text("SELECT 1 / :zero")).fetch(session, {"zero": 0})
    assert len(small_pool.connections) == 0
    assert small_pool.engine.pool.checkedout() == 0  # type: ignore[attr-defined]


@pytest.mark.postgres_only
async def test_a_kept_connection_the_pool_invalidated_is_replaced_when_taken(small_pool):
    async with small_pool.read_sessionmaker() as session:
        ((first,),) = await BACKEND_PID.fetch(session, {"zero": 0})
    assert len(small_pool.connections) == 1
    small_pool.engine.sync_engine.pool._invalidate_time = time.time() + 1  # as after a lost one
    async with small_pool.read_sessionmaker() as session:
        ((second,),) = await BACKEND_PID.fetch(session, {"zero": 0})
    assert second != first


@pytest.mark.postgres_only
async def test_disposing_the_database_gives_its_kept_connections_back(database):
    disposed = Database(database.url, pool_size=8, max_overflow=0)
    async with disposed.read_sessionmaker() as session:
        await BACKEND_PID.fetch(session, {"zero": 0})
    assert len(disposed.connections) == 1
    pool = disposed.engine.pool
    await disposed.dispose()
    assert len(disposed.connections) == 0
    assert pool.checkedout() == 0  # type: ignore[attr-defined]
    assert disposed.connections.keeps == 0  # a read still running then keeps nothing after


def test_no_connection_is_kept_with_pre_ping_or_on_sqlite(tmp_path):
    assert Database(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}").connections.keeps == 0
    assert Database("postgresql+asyncpg://u@h/d", pre_ping=True).connections.keeps == 0
    assert Database("postgresql+asyncpg://u@h/d", pool_size=3).connections.keeps == 0
    assert Database("postgresql+asyncpg://u@h/d", pool_size=20).connections.keeps == 4


@pytest.mark.postgres_only
async def test_a_key_is_locked_as_the_database_numbers_it_whatever_it_holds(database):
    async with database.sessionmaker() as session:
        await db.lock_keys(session, AWKWARD_KEYS)
        for key in AWKWARD_KEYS:
            assert not await free(database, key), key
        assert await free(database, "urn:sender|O'Brien")
        await session.rollback()
    for key in AWKWARD_KEYS:
        assert await free(database, key), key


@pytest.mark.postgres_only
async def test_a_key_holding_a_nul_is_refused_by_the_database_and_nothing_is_locked(database):
    async with database.sessionmaker() as session:
        with pytest.raises(DBAPIError) as refused:
            await db.lock_keys(session, ["urn:sender|REF-1", "urn:sender|a\x00b"])
        assert db.value_refused(refused.value)
        await session.rollback()
    assert await free(database, "urn:sender|REF-1")


async def test_an_offline_session_refuses_every_statement_and_one_so_touched_is_not_kept(
    database,
):
    async with database.sessionmaker() as request:
        async with db.offline_session(request) as offline:
            with pytest.raises(db.NeedsDatabase):
                await INSERT_NOTE.fetch(offline, {"id": "n1", "body": "kept?"})
            with pytest.raises(db.NeedsDatabase):
                await offline.execute(select(Note.id))
            refused = offline
        async with db.offline_session(request) as offline:
            assert offline is not refused  # it began a transaction: the next block gets another
            untouched = offline
        async with db.offline_session(request) as offline:
            assert offline is untouched
        assert not request.in_transaction()

    assert await stored(database) == {}
