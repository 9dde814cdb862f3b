"""Async database engine, request-scoped sessions and ORM conventions.

SQLite (aiosqlite) serves `make run` and half of the tests; PostgreSQL (asyncpg) serves production
and the other half. On SQLite every transaction starts with BEGIN IMMEDIATE so that a
read-then-write transaction (conditional create) cannot be overtaken by another writer.
"""

import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Annotated, Any, Protocol, TypeAlias, TypeVar

from asyncpg.transaction import TransactionState  # type: ignore[import-untyped]
from fastapi import Depends, Request
from sqlalchemy import (
    ColumnElement,
    DateTime,
    MetaData,
    Select,
    Table,
    Update,
    event,
    func,
    literal,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.engine import URL, Dialect
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.types import TypeDecorator
from sqlalchemy.util import greenlet_spawn

from signpost_schemas.dates import as_utc

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def service_metadata() -> MetaData:
    """Metadata with deterministic constraint names, so migrations name what they create."""
    return MetaData(naming_convention=NAMING_CONVENTION)


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always returned timezone-aware.

    PostgreSQL keeps `timestamptz`; SQLite has no time zones, so values are stored as naive UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)


def aware_utc(value: datetime | str | None) -> datetime | None:
    """A timestamp an aggregate (MIN, MAX) answered, aware in UTC: aggregates bypass the UTC
    column type on SQLite, which answers naive values or, for MIN() of a timestamp, text."""
    if value is None:
        return None
    return as_utc(datetime.fromisoformat(value) if isinstance(value, str) else value)


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def create_engine(
    url: str,
    *,
    pool_size: int = 20,
    max_overflow: int = 5,
    pre_ping: bool = False,
    statement_timeout_seconds: float = 0,
) -> AsyncEngine:
    """An engine configured for the backend `url` names.

    Without pre-ping a connection broken by a database restart fails one request, after which
    SQLAlchemy discards the whole pool; with it, every checkout costs an extra round trip.
    On PostgreSQL a positive `statement_timeout_seconds` makes the server cancel any statement
    that runs longer (a costly search cannot hold a backend); SQLite has no such limit.
    """
    if is_sqlite(url):
        engine = create_async_engine(url, connect_args={"timeout": 30}, hide_parameters=True)
        _configure_sqlite(engine)
        return engine
    connect_args: dict[str, Any] = {"command_timeout": max(30, statement_timeout_seconds + 5)}
    if statement_timeout_seconds > 0:
        milliseconds = max(1, round(statement_timeout_seconds * 1000))
        connect_args["server_settings"] = {"statement_timeout": str(milliseconds)}
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=pre_ping,
        pool_recycle=1800,
        connect_args=connect_args,
        # Bound values can be personal data: keep them out of error messages and logs.
        hide_parameters=True,
    )


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


_EACH_STATEMENT_COMMITS = "signpost.each_statement_commits"


def commits_each_statement(session: AsyncSession) -> bool:
    """Whether every statement of `session` is a transaction of its own: a read session on
    PostgreSQL (`Database.read_sessionmaker`). Such a session holds no write of the request."""
    return bool(session.info.get(_EACH_STATEMENT_COMMITS))


class Repository:
    """A feature's SQL, run in the session its caller gives (the caller's unit of work: the
    repository never commits)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session


def columns_of(model: Any, row: type) -> tuple[Any, ...]:
    """The columns of `model` (an ORM class) that `row` (a dataclass of stored values) is
    read from, in `row`'s field order: `row(*result)` builds one from a result row."""
    return tuple(getattr(model, field.name) for field in fields(row))


class Database:
    """The engine and session factories of one service.

    `sessionmaker` opens a transaction for each session (writes). `read_sessionmaker` runs each
    statement in autocommit on PostgreSQL, saving the BEGIN and COMMIT round trips of reads; its
    sessions are marked (`commits_each_statement`) so that what a read writes on purpose, its
    audit event, can be written without waiting for a WAL flush (`signpost_platform.audit`).
    `snapshot_sessionmaker` opens a read-only REPEATABLE READ transaction on PostgreSQL: every
    statement of the session sees the same committed data, and the database refuses a write
    (`snapshot_session`). The services set `statement_timeout_seconds`; command-line loaders
    leave it off.
    """

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 20,
        max_overflow: int = 5,
        pre_ping: bool = False,
        statement_timeout_seconds: float = 0,
    ) -> None:
        self.url = url
        self.engine = create_engine(
            url,
            pool_size=pool_size,
            max_overflow=max_overflow,
            pre_ping=pre_ping,
            statement_timeout_seconds=statement_timeout_seconds,
        )
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
        if is_sqlite(url):
            self.read_sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
            # One transaction per session already; SQLite has no read-only transactions.
            self.snapshot_sessionmaker = self.read_sessionmaker
        else:
            self.snapshot_sessionmaker = async_sessionmaker(
                self.engine.execution_options(
                    isolation_level="REPEATABLE READ", postgresql_readonly=True
                ),
                expire_on_commit=False,
            )
            self.read_sessionmaker = async_sessionmaker(
                self.engine.execution_options(isolation_level="AUTOCOMMIT"),
                expire_on_commit=False,
                info={_EACH_STATEMENT_COMMITS: True},
            )
        # The sessions of finished requests, for later ones (`write_session`, `read_session`).
        self.writes = KeptSessions(self.sessionmaker)
        self.reads = KeptSessions(self.read_sessionmaker)
        # The connections read statements ran on, for later ones (PostgreSQL, no pre-ping).
        pool = self.engine.sync_engine.pool
        most = 0 if is_sqlite(url) or pre_ping else min(KEPT_CONNECTIONS, pool_size // 4)
        self.connections = KeptConnections(pool, most)
        if most:
            _KEPT_CONNECTIONS[pool] = self.connections

    async def dispose(self) -> None:
        _KEPT_CONNECTIONS.pop(self.engine.sync_engine.pool, None)
        await self.connections.give_back_all()  # and keeps none from now on
        await self.engine.dispose()


# At most this many connections are kept for read statements (`KeptConnections`), and at most a
# quarter of the pool's size.
KEPT_CONNECTIONS = 4


class KeptConnections:
    """Connections of one pool that statements of their own ran on (`DriverStatement.fetch` in
    a read session on PostgreSQL, and `DriverStatement.fetch_alone`, a first referral's create),
    kept checked out for the next such statement rather than given back to the pool after each:
    taking a connection from SQLAlchemy's pool and giving it back, each in a greenlet of its
    own, cost a read of a referral about 80,000 instructions, 10% of it.

    - A connection is kept only after its statement succeeded (it is then outside any
      transaction, as the pool would have left it), and only while at most half the pool's
      size is checked out, these included: the pool makes a request wait only when its size and
      overflow are all out, and a read takes a kept connection before the pool's.
    - At most `most` are kept (a quarter of the pool's size, up to `KEPT_CONNECTIONS`): a pool
      that only writes, with no read to take them back, has that many fewer.
    - A kept connection the pool would not hand out again (invalidated with the pool's other
      connections after a lost one, soft-invalidated, or past its recycle age) is given back to
      the pool when next taken, which replaces it, as a checkout would have.
    - None are kept with pre-ping on (the pool pings at checkout), or on SQLite.
    - `Database.dispose` gives them back before it closes the pool.

    The connection record's and pool's times are SQLAlchemy's own, private, attributes, read as
    its `_ConnectionRecord.get_connection` reads them; tests/platform/test_driver_statements.py
    holds them to that use."""

    __slots__ = ("_idle", "_most", "_pool", "stale")

    def __init__(self, pool: Any, most: int) -> None:
        self._pool = weakref.ref(pool)  # the registry of kept connections is keyed by the pool
        self._most = most
        self._idle: list[Any] = []
        # Kept connections found unusable by `take`, for `give_back_stale`.
        self.stale: list[Any] = []

    def take(self) -> Any | None:
        """A kept connection the pool would still hand out, or None. Those it would not are
        left in `stale`, for the caller to give back (`give_back_stale`)."""
        idle = self._idle
        while idle:
            pooled = idle.pop()
            if self._usable(pooled):
                return pooled
            self.stale.append(pooled)
        return None

    async def give_back_stale(self) -> None:
        while self.stale:
            await greenlet_spawn(_given_back, self.stale.pop())

    def keep(self, pooled: Any) -> bool:
        """Keep `pooled` (a connection a read statement has just run on without error) if there
        is room and at most half the pool is out; False if it was not kept."""
        pool = self._pool()
        if pool is None or len(self._idle) >= self._most or pool.checkedout() > pool.size() // 2:
            return False
        self._idle.append(pooled)
        return True

    async def give_back_all(self) -> None:
        """Give every kept connection back, and keep none from now on."""
        self._most = 0
        self.stale += self._idle
        self._idle.clear()
        await self.give_back_stale()

    def __len__(self) -> int:
        return len(self._idle)

    @property
    def keeps(self) -> int:
        """How many it may keep at most."""
        return self._most

    def _usable(self, pooled: Any) -> bool:
        record = pooled._connection_record
        if record is None or pooled.dbapi_connection is None:
            return False
        pool = self._pool()
        if pool is None:
            return False
        if pooled.driver_connection.is_closed():
            # Lost while kept (the server went away): as SQLAlchemy does on a disconnect, the
            # pool's older connections are opened again when next taken, rather than each
            # failing a request.
            pool._invalidate(pooled, None, _checkin=False)
            return False
        started = record.starttime
        return bool(
            pool._invalidate_time <= started
            and record._soft_invalidate_time <= started
            and (pool._recycle < 0 or time.time() - started <= pool._recycle)
        )


def _given_back(pooled: Any) -> None:
    """Give a kept connection back to its pool (in SQLAlchemy's greenlet): one whose driver
    connection is closed is invalidated first, so the pool opens it again when next taken."""
    if pooled.dbapi_connection is not None and pooled.driver_connection.is_closed():
        pooled.invalidate()
    pooled.close()


# The kept connections of each `Database`'s pool, for the read statements run on it.
_KEPT_CONNECTIONS: "weakref.WeakKeyDictionary[Any, KeptConnections]" = weakref.WeakKeyDictionary()


class KeptSessions:
    """The sessions of one sessionmaker that finished requests left as it makes them, kept for
    later requests: making an `AsyncSession` (and its `Session`) costs a read about 4% of its
    instructions. A session is kept when its request is done with it, closed or never begun,
    with the `info` and the session class the sessionmaker gives; at most `KEPT_SESSIONS` are
    kept, one for each request running at a time as far as a busy process runs them.
    SQLAlchemy's sessions are made to be used again once closed. The sessionmaker is configured
    through `configure`, which lets go of the sessions it made before."""

    __slots__ = ("_class", "_idle", "_info", "_maker")

    def __init__(self, maker: async_sessionmaker[AsyncSession]) -> None:
        self._maker = maker
        self._idle: list[AsyncSession] = []
        self._made_as(maker)

    def _made_as(self, maker: async_sessionmaker[AsyncSession]) -> None:
        self._info = dict(maker.kw.get("info") or {})
        self._class = maker.kw.get("sync_session_class", Session)

    def configure(self, **settings: Any) -> None:
        """Configure the sessionmaker (`async_sessionmaker.configure`) for the sessions it makes
        from now on; the ones kept are let go, and one it made before is not kept."""
        self._maker.configure(**settings)
        self._made_as(self._maker)
        self._idle.clear()

    def take(self) -> AsyncSession:
        return self._idle.pop() if self._idle else self._maker()

    def give_back(self, session: AsyncSession) -> None:
        """Keep `session`, closed or never begun, if it is as the sessionmaker made it."""
        if (
            len(self._idle) < KEPT_SESSIONS
            and session.info == self._info
            and type(session.sync_session) is self._class
            and not session.in_transaction()
        ):
            self._idle.append(session)

    def __len__(self) -> int:
        return len(self._idle)


KEPT_SESSIONS = 64


class RequestSession:
    """A request's session, as an async context manager: `async with write_session(request) as
    session:` commits when the block ends and rolls back if it raises; `read_session` is the
    same for requests that only read.

    The routes on the hot path (creating, reading and searching referrals, messages) open their
    session in the endpoint with these rather than as a dependency: FastAPI wraps a generator
    dependency in an exit stack and an anyio context manager on every request, about a tenth of
    a read's CPU. `SessionDep` and `ReadSessionDep` run the same code for every other route.
    Nothing uses the session once its block has ended: it may be serving another request
    (`KeptSessions`).
    """

    __slots__ = ("_commits", "_kept", "_session")

    def __init__(self, kept: KeptSessions, *, commits: bool | None = None) -> None:
        self._kept = kept
        self._session = session = kept.take()
        # A write session commits; a read session commits what it wrote on purpose (its audit
        # event) unless each of its statements commits on its own (PostgreSQL).
        self._commits = not commits_each_statement(session) if commits is None else commits

    async def __aenter__(self) -> AsyncSession:
        return self._session

    async def __aexit__(self, kind: type[BaseException] | None, *_: object) -> None:
        session = self._session
        if kind is None and untouched(session):
            # Its statements all ran on connections of their own (`DriverStatement.fetch` in a
            # read session, `DriverStatement.fetch_alone` in a write session): nothing to
            # commit or close.
            session.info.pop(_ON_DRIVER, None)  # of an attempt rolled back before them
            self._kept.give_back(session)
            return
        try:
            if kind is None:
                if self._commits and not await _commit_on_driver(session):
                    await session.commit()
            elif not commits_each_statement(session):
                await session.rollback()
        finally:
            session.info.pop(_ON_DRIVER, None)  # of a transaction rolled back
            # A read session on PostgreSQL whose statements all ran on connections of their
            # own (`DriverStatement.fetch`) never began: it has nothing to close.
            if session.in_transaction() or not commits_each_statement(session):
                await session.close()
        self._kept.give_back(session)


def untouched(session: AsyncSession) -> bool:
    """Whether `session` has not begun and holds nothing: no object loaded, added, changed or
    deleted. A write it is given to may then be committed on its own
    (`DriverStatement.fetch_alone`): nothing else would commit with it."""
    sync = session.sync_session
    return not (
        sync.in_transaction() or sync.identity_map or sync.new or sync.dirty or sync.deleted
    )


def write_session(request: Request) -> RequestSession:
    """The request's write session: one transaction, committed when the block ends, so a client
    never sees a 2xx for a write that was not committed."""
    database: Database = request.app.state.database
    return RequestSession(database.writes, commits=True)


def read_session(request: Request) -> RequestSession:
    """A session for requests that only read: no transaction on PostgreSQL, nothing to commit.
    On SQLite it commits what the read wrote on purpose (its audit event) when the block ends;
    under autocommit each statement has committed already."""
    database: Database = request.app.state.database
    return RequestSession(database.reads)


@asynccontextmanager
async def snapshot_session(
    database: Database, planner: Mapping[str, str] | None = None
) -> AsyncIterator[AsyncSession]:
    """A session for a request that reads much and writes nothing (a report): one read-only
    transaction with one snapshot (REPEATABLE READ), so a total and its groups, read by two
    statements, count the same rows even while the data changes, and a write is refused by
    the database. On PostgreSQL the `planner` settings (e.g. `work_mem`) hold for this
    transaction alone (`set_config(name, value, is_local => true)`), sent when it begins: as
    for any session, nothing reaches the database before the first statement (a request
    refused before it reads takes no connection), and the snapshot is taken by that statement.
    The transaction is rolled back when the session closes: there is nothing to commit."""
    async with database.snapshot_sessionmaker() as session:
        if planner and not is_sqlite(database.url):
            settings = select(
                *(func.set_config(name, value, True) for name, value in planner.items())
            )

            def set_planner(_session: Any, _transaction: Any, connection: Any) -> None:
                connection.execute(settings)

            event.listen(session.sync_session, "after_begin", set_planner)
        yield session


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """`write_session` as a dependency. Used with `scope="function"` so the commit happens
    before the response is sent."""
    async with write_session(request) as session:
        yield session


async def get_read_session(request: Request) -> AsyncIterator[AsyncSession]:
    """`read_session` as a dependency."""
    async with read_session(request) as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
ReadSessionDep = Annotated[AsyncSession, Depends(get_read_session, scope="function")]


async def execute_core(session: AsyncSession, statement: Executable, params: Any = None) -> Any:
    """Run a Core statement on the session's connection and transaction.

    The hot paths use statements built once with bind parameters; going through the ORM
    execution layer adds nothing for them and costs about a third of their CPU.
    """
    connection = await session.connection()
    return await connection.execute(statement, params)


class DriverStatement:
    """A Core statement that runs on PostgreSQL's driver, asyncpg, in the session's transaction.

    For the statements on the hot paths (a referral's locks, insert and read; a message's
    replay check and locked read): SQLAlchemy's execution layer costs about 0.11 ms of CPU a
    statement over asyncpg's own (measured on a small statement: 0.16 ms against 0.05 ms), a
    tenth of a create's CPU each. The statement is compiled once for the session's dialect;
    values go through their types' bind processors and answers through their result
    processors, as SQLAlchemy would. Errors are raised as SQLAlchemy's (`IntegrityError`,
    `DBAPIError`, with the parameters hidden), and a connection the error broke is
    invalidated, as SQLAlchemy does.

    Values are given by name; a value written into the statement (a literal) is sent as it
    stands unless given. Rows are read by position. On SQLite, and for a statement with an IN
    list parameter (rendered anew for each execution), the statement runs through SQLAlchemy,
    with the same answer.
    """

    __slots__ = ("_compiled", "statement")

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._compiled: _DriverSql | None = None

    def _sql(self, dialect: Dialect) -> "_DriverSql":
        if self._compiled is None:
            element: Any = self.statement  # a ClauseElement, which compiles
            compiled = element.compile(dialect=dialect)  # an SQLCompiler
            names = tuple(compiled.positiontup or ())
            binds = [compiled.binds[name] for name in names]
            if any(bind.expanding for bind in binds):  # an IN list: rendered per execution
                self._compiled = _THROUGH_SQLALCHEMY
                return self._compiled
            # SQLAlchemy's per-type bind processors (its own, private, attribute).
            processors = compiled._bind_processors
            columns = getattr(self.statement, "exported_columns", ())
            results = tuple(
                column.type.dialect_impl(dialect).result_processor(dialect, None)
                for column in columns
            )
            self._compiled = _DriverSql(
                compiled.string,
                names,
                tuple(processors.get(name) for name in names),
                # Values written into the statement (a literal, a reach's organisation code).
                {
                    name: bind.effective_value
                    for name, bind in zip(names, binds, strict=True)
                    if not bind.required
                },
                tuple(
                    (index, process) for index, process in enumerate(results) if process is not None
                ),
                len(results),
            )
        return self._compiled

    async def fetch(self, session: AsyncSession, params: Mapping[str, Any]) -> list[Any]:
        """The rows the statement answers (none for a write without RETURNING), run in
        `session`'s transaction (begun here if the session has not begun it).

        In a read session on PostgreSQL (each statement its own transaction) that holds no
        connection yet, the statement runs on a connection taken for it alone and given back
        straight after (to the connections kept for reads, `KeptConnections`, or the pool): the
        session's own connection (its SQLAlchemy `Connection` and session transaction, made and
        closed) costs a read about 50 us of CPU more, a tenth of it. The request still holds at
        most one connection at a time."""
        if commits_each_statement(session) and not session.in_transaction():
            engine: Any = session.bind  # the read sessionmaker's engine
            dialect = engine.dialect
            if dialect.name == "postgresql" and self._sql(dialect) is not _THROUGH_SQLALCHEMY:
                return await self._fetch_pooled(engine, params)
        connection = await session.connection()
        dialect = connection.dialect
        sql = self._sql(dialect) if dialect.name == "postgresql" else _THROUGH_SQLALCHEMY
        if sql is _THROUGH_SQLALCHEMY:
            result = await connection.execute(self.statement, dict(params))
            return list(result) if result.returns_rows else []
        session.info[_ON_DRIVER] = (session.sync_session.get_transaction(), connection)
        proxied = connection.sync_connection.connection  # type: ignore[union-attr]
        pool = connection.sync_engine.pool
        return await self._run(
            dialect, proxied, params, pool, connection.invalidate, in_transaction=True
        )

    async def fetch_alone(self, session: AsyncSession, params: Mapping[str, Any]) -> list[Any]:
        """The rows the statement answers, run as a transaction of its own (PostgreSQL's
        implicit one: no BEGIN or COMMIT round trip) on a connection of its own, for a write
        session on PostgreSQL that has not begun. What it writes commits when it succeeds,
        whatever becomes of `session`, as durably as a commit of the session; an error leaves
        nothing written. The connection is then kept or given back as a read's is
        (`_fetch_pooled`). The session's `after_commit` listeners are told once it has
        committed, as a commit of the session tells them."""
        rows = await self.fetch_apart(session, params)
        sync = session.sync_session
        sync.dispatch.after_commit(sync)
        return rows

    async def fetch_apart(self, session: AsyncSession, params: Mapping[str, Any]) -> list[Any]:
        """The rows the statement answers, run outside `session`'s transaction, for a write
        session on PostgreSQL that has not begun: on a connection of its own, as a transaction
        of its own (no BEGIN or COMMIT round trip), as `fetch_alone` runs a write. A read so
        run sees the data as it stood then, and holds no lock after it."""
        engine: Any = session.bind
        if not untouched(session) or engine.dialect.name != "postgresql":
            raise ValueError("a statement of its own needs a session on PostgreSQL not yet begun")
        if self._sql(engine.dialect) is _THROUGH_SQLALCHEMY:
            raise ValueError("a statement with an IN list cannot run on its own")
        return await self._fetch_pooled(engine, params)

    async def _fetch_pooled(self, engine: AsyncEngine, params: Mapping[str, Any]) -> list[Any]:
        """The statement run on a connection of its own, outside any transaction (PostgreSQL's
        own for the one statement): one kept (`KeptConnections`), else one from `engine`'s
        pool. After the statement the connection is kept for the next such statement if it
        may be, else given back to the pool (asyncpg cancels a statement cancelled part way on
        the server, so it is fit to reuse; one over the pool's size is closed)."""
        pool = engine.pool
        kept = _KEPT_CONNECTIONS.get(pool)
        pooled: Any = None if kept is None else kept.take()

        async def invalidate(error: BaseException) -> None:
            pooled.invalidate(error)  # outside a greenlet the adapter terminates at once

        try:
            if kept is not None and kept.stale:
                await kept.give_back_stale()
            if pooled is None:
                pooled = await engine.raw_connection()
            rows = await self._run(engine.dialect, pooled, params, pool, invalidate)
        except BaseException:
            if pooled is not None:
                await greenlet_spawn(pooled.close)
            raise
        if kept is None or not kept.keep(pooled):
            # In SQLAlchemy's greenlet: a connection the pool does not keep (one over its size)
            # is closed, which awaits the driver.
            await greenlet_spawn(pooled.close)
        return rows

    async def _run(
        self,
        dialect: Dialect,
        proxied: Any,
        params: Mapping[str, Any],
        pool: Any,
        invalidate: Callable[[BaseException], Any],
        *,
        in_transaction: bool = False,
    ) -> list[Any]:
        """The statement run on `proxied` (the pool's connection), beginning its transaction
        first when `in_transaction` and none is begun."""
        sql = self._sql(dialect)
        fixed = sql.fixed
        arguments = [
            value if process is None else process(value)
            for value, process in zip(
                (
                    params[name] if name in params or name not in fixed else fixed[name]
                    for name in sql.names
                ),
                sql.processors,
                strict=True,
            )
        ]
        adapted: Any = proxied.dbapi_connection
        driver: Any = proxied.driver_connection
        async with _OnAdapter(dialect, proxied, sql.text, pool, invalidate):
            if in_transaction and adapted._transaction is None:
                # Begun as the adapter's own cursor begins it, so the session's commit, or
                # `_commit_on_driver`, ends it.
                await adapted._start_transaction()
            rows = await driver.fetch(sql.text, *arguments)
        if not sql.results:
            return list(rows)
        answered = []
        width = sql.width
        for row in rows:
            values = list(row)
            if len(values) != width:
                raise ValueError(f"a row of {len(values)} columns, where {width} were declared")
            for index, process in sql.results:
                value = values[index]
                if value is not None:
                    values[index] = process(value)
            answered.append(tuple(values))
        return answered


class _OnAdapter:
    """Work on the driver's connection (`proxied`, taken from `pool`) under SQLAlchemy's asyncpg
    adapter, as an async context manager: holding its mutex (one operation at a time on a
    connection), with the driver's errors raised as SQLAlchemy's (`IntegrityError`,
    `DBAPIError`, parameters hidden).

    A lost connection is invalidated first (`invalidate`, awaited), and with it, as SQLAlchemy
    does on a disconnect, every connection the pool opened before it: each is opened again
    when next taken. After a database restart the first request to meet a closed connection
    fails (503); the pool's other connections, as old, are not tried on later requests.

    A class rather than an `asynccontextmanager` generator: it wraps every statement a request
    runs on the driver, and the generator's machinery cost each about 2,000 instructions more.

    The adapter's mutex, transaction and error translation and the pool's invalidation are
    private; tests/platform/test_driver_statements.py holds them to this use."""

    __slots__ = ("_adapted", "_dialect", "_invalidate", "_pool", "_proxied", "_statement")

    def __init__(
        self,
        dialect: Dialect,
        proxied: Any,
        statement: str,
        pool: Any,
        invalidate: Callable[[BaseException], Any],
    ) -> None:
        self._dialect = dialect
        self._proxied = proxied
        self._adapted: Any = proxied.dbapi_connection
        self._statement = statement
        self._pool = pool
        self._invalidate = invalidate

    async def __aenter__(self) -> None:
        await self._adapted._execute_mutex.acquire()

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, _: object
    ) -> None:
        adapted = self._adapted
        try:
            if isinstance(error, Exception):
                adapted._handle_exception(error)  # raises it as the adapter's DB-API error
        except self._dialect.loaded_dbapi.Error as translated:
            adapted._execute_mutex.release()
            await self._raise_wrapped(translated)
        except BaseException:
            adapted._execute_mutex.release()
            raise
        else:
            adapted._execute_mutex.release()

    async def _raise_wrapped(self, error: Any) -> None:
        dialect = self._dialect
        disconnected = dialect.is_disconnect(error, self._adapted, None)
        wrapped = DBAPIError.instance(
            self._statement,
            None,
            error,
            dialect.loaded_dbapi.Error,
            hide_parameters=True,
            connection_invalidated=disconnected,
            dialect=dialect,
        )
        if disconnected:
            self._pool._invalidate(self._proxied, wrapped, _checkin=False)
            await self._invalidate(wrapped)
        raise wrapped from error


# The session transaction, and its connection, in which a `DriverStatement` ran (session.info).
_ON_DRIVER = "signpost.on_driver"


async def _commit_on_driver(session: AsyncSession) -> bool:
    """Commit `session`'s transaction on asyncpg directly, when `DriverStatement`s ran in it
    and the ORM has nothing to flush; False (nothing done) otherwise, for `session.commit()`.

    SQLAlchemy's commit (its transaction bookkeeping and a greenlet switch for the one COMMIT)
    costs about 90 us of CPU where the driver's costs 20; closing the session after it costs
    30 us more, so a create saves about 40 us (`bench.hot_path`, 1.43 -> 1.39 ms). The
    session's `after_commit` listeners are told, as SQLAlchemy tells them; closing the session
    then ends its own transaction without a round trip (the connection has none open)."""
    sync = session.sync_session
    began, connection = session.info.pop(_ON_DRIVER, (None, None))
    if (
        connection is None
        or began is None
        or not began.is_active  # a failed flush ended it: SQLAlchemy's commit raises
        or began is not sync.get_transaction()
        or sync.in_nested_transaction()
        or sync.new
        or sync.dirty
        or sync.deleted
        or connection.invalidated
    ):
        return False
    proxied: Any = connection.sync_connection.connection
    adapted: Any = proxied.dbapi_connection
    if adapted._transaction is None:
        return False
    pool = connection.sync_engine.pool
    async with _OnAdapter(connection.dialect, proxied, "COMMIT", pool, connection.invalidate):
        await adapted._call_and_discard(adapted._transaction.commit)
    sync.dispatch.after_commit(sync)
    return True


@dataclass(frozen=True, slots=True)
class _DriverSql:
    text: str
    names: tuple[str, ...]
    processors: tuple[Callable[[Any], Any] | None, ...]
    fixed: dict[str, Any]
    # The result columns that have a result processor, by position, with it.
    results: tuple[tuple[int, Callable[[Any], Any]], ...]
    # How many columns the statement declares (`exported_columns`): each row has as many.
    width: int


_THROUGH_SQLALCHEMY = _DriverSql("", (), (), {}, (), 0)


# A SELECT of any columns (SQLAlchemy 2.1 types a Select by the types of all its columns).
AnySelect: TypeAlias = Select[*tuple[Any, ...]]


class Versioned(Protocol):
    """A stored version of a resource: its number and when it was written."""

    @property
    def version(self) -> int: ...

    @property
    def last_updated_at(self) -> datetime: ...


class StoredRow(Versioned, Protocol):
    """A version of a resource as its row holds it: the row's id and the canonical JSON."""

    @property
    def id(self) -> str: ...

    @property
    def resource(self) -> str: ...


def replace_version(
    model: Any, stored: StoredRow, expected: int, *conditions: ColumnElement[bool]
) -> Update:
    """The UPDATE that writes `stored` over its row only while the row is still at version
    `expected` (and meets `conditions`); the caller adds the row's other columns with
    `.values(...)` and reads the row count (0: the row moved on)."""
    return (
        update(model)
        .where(model.id == stored.id, model.version == expected, *conditions)
        .values(
            version=stored.version,
            last_updated_at=stored.last_updated_at,
            resource=stored.resource,
        )
    )


@dataclass(frozen=True, slots=True)
class Write:
    """An INSERT, UPDATE or DELETE built once, every value it writes a named bind parameter
    (`.values({column: bindparam(name)})`), and the parameters of one run of it."""

    statement: UpdateBase
    params: dict[str, Any]


async def execute_writes(session: AsyncSession, writes: Sequence[Write]) -> list[int]:
    """Run writes that are independent of each other (none writes a row another one reads or
    writes); the number of rows each wrote.

    On PostgreSQL they are one statement, each a data-modifying CTE: one round trip. SQLite has
    no data-modifying CTEs: it runs them one after another. Their parameter names must differ.
    """
    if not writes:
        return []
    if dialect_of(session) != "postgresql":
        return [(await execute_core(session, w.statement, w.params)).rowcount for w in writes]
    params: dict[str, Any] = {}
    for write in writes:
        params.update(write.params)
    assert len(params) == sum(len(write.params) for write in writes), "parameter names meet"
    [counts] = await _together(tuple(write.statement for write in writes)).fetch(session, params)
    return list(counts)


@dataclass(frozen=True, slots=True)
class Guard:
    """A SELECT built once that locks the rows some writes were worked out from and answers one
    row while they are as they were read, with the parameters of one run of it
    (`execute_writes_guarded`)."""

    statement: Select[Any]
    params: dict[str, Any]


class RowsMoved(Exception):
    """Guarded writes found what they were worked out from changed, or a write found no row to
    write: nothing was written (`execute_writes_guarded`)."""


# The SQLSTATE the database's `require_each_written` refuses a statement with (a service's
# migration creates the function).
ROWS_MOVED_SQLSTATE = "SP001"
_REQUIRE_EACH_WRITTEN = "require_each_written"


async def execute_writes_guarded(
    session: AsyncSession, guard: Guard, writes: Sequence[Write]
) -> None:
    """Run `writes`, each of which writes one row, as one statement and a transaction of its
    own (`DriverStatement.fetch_alone`: a session on PostgreSQL not yet begun; no BEGIN or
    COMMIT round trip), if `guard` answers its one row.

    The guard runs first and locks its rows until the statement ends: a writer that changed
    them since they were read, or changes them while the guard waits, leaves it no row (a locked
    row is read again after the wait). Unless the guard answers one row and each write writes
    one row, the database's `require_each_written` refuses the statement and nothing is
    written: `RowsMoved`. An insert that meets a key already taken raises IntegrityError, also
    with nothing written. The writes' parameter names, and the guard's, must differ."""
    params = dict(guard.params)
    for write in writes:
        params.update(write.params)
    assert len(params) == len(guard.params) + sum(len(w.params) for w in writes), "names meet"
    statements = tuple(write.statement for write in writes)
    together = _together(statements, guard.statement, _REQUIRE_EACH_WRITTEN)
    try:
        await together.fetch_alone(session, params)
    except DBAPIError as error:
        if sqlstate(error) == ROWS_MOVED_SQLSTATE:
            raise RowsMoved(str(error.orig)) from None
        raise


# The statements combined, by the identities of their parts (statements built once), which the
# entry keeps alive so an identity is never reused. Bounded: statements built per request would
# otherwise fill it (they are combined without the cache once it is full).
_TOGETHER: dict[tuple[Any, ...], tuple[tuple[Any, ...], DriverStatement]] = {}
_TOGETHER_MOST = 512


def _together(
    statements: tuple[UpdateBase, ...],
    guard: Select[Any] | None = None,
    require: str | None = None,
) -> DriverStatement:
    """One SELECT whose CTEs are `statements`, answering the rows each wrote (on the driver);
    with `guard`, first the rows it answers, and with `require`, instead the answer of that
    function of the database given all those counts, guard first."""
    key = (*(id(statement) for statement in statements), id(guard), require)
    found = _TOGETHER.get(key)
    if found is None:
        ctes = [
            statement.returning(literal(1)).cte(f"write_{index}")
            for index, statement in enumerate(statements)
        ]
        if guard is not None:
            ctes.insert(0, guard.cte("guard"))
        counts = [select(func.count()).select_from(cte).scalar_subquery() for cte in ctes]
        # A function's arguments, and an array's elements, are worked out in order: the guard
        # takes its locks before any write runs.
        answer = select(getattr(func, require)(array(counts))) if require else select(*counts)
        found = ((*statements, guard), DriverStatement(answer.add_cte(*ctes)))
        if len(_TOGETHER) < _TOGETHER_MOST:
            _TOGETHER[key] = found
    return found[1]


class NeedsDatabase(Exception):
    """A statement was asked of a session that may not reach the database (`offline_session`)."""


# For each driver, a session whose engine refuses every connection (`offline_session`).
_OFFLINE_SESSIONS: dict[str, AsyncSession] = {}


async def _refuse_connection() -> Any:
    raise NeedsDatabase("this work was to be done from what was read already")


@asynccontextmanager
async def offline_session(session: AsyncSession) -> AsyncIterator[AsyncSession]:
    """A session for `session`'s kind of database that may not reach it: its first statement
    raises `NeedsDatabase`. For work meant to be done from what was read already, its writes
    left to run together (`execute_writes_guarded`): code that needs one more statement says so
    by that exception, and the caller does the work the usual way instead.

    One session serves every such block (making one costs more than a statement's Python): it
    holds nothing a block could leave for another, as nothing in it reaches the database. A
    block that leaves it holding anything after all (an object added, a transaction begun by a
    refused statement) leaves it to be dropped, and the next block gets a new one. A block must
    not pause for anything else (a lock, other I/O): two requests in the session at once would
    meet SQLAlchemy's refusal of concurrent use, an error rather than `NeedsDatabase`."""
    driver = session.get_bind().engine.url.drivername
    offline = _OFFLINE_SESSIONS.get(driver)
    if offline is None:
        engine = create_async_engine(
            URL.create(driver), async_creator=_refuse_connection, poolclass=NullPool
        )
        offline = _OFFLINE_SESSIONS[driver] = AsyncSession(engine)
    try:
        yield offline
    finally:
        if not untouched(offline):
            _OFFLINE_SESSIONS[driver] = AsyncSession(offline.bind)


def table_of(model: type[Any]) -> Table:
    """The Core table of an ORM class (typed: `Model.__table__` is typed as any FROM clause)."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


def dialect_of(session: AsyncSession) -> str:
    """The name of the database the session talks to: "postgresql" or "sqlite"."""
    return session.get_bind().dialect.name


_LOCKS_OF_HEXADECIMAL_KEYS = (
    "SELECT pg_advisory_xact_lock(hashtextextended(convert_from(decode(key, 'hex'), 'UTF8'), 0)) "
    "FROM unnest(ARRAY[{}]::text[]) AS key;"
)


async def lock_keys(session: AsyncSession, keys: Sequence[str]) -> None:
    """Take a transaction-scoped advisory lock per key on PostgreSQL, in the order given, in one
    round trip (callers give a fixed order, so two transactions never wait for each other in a
    cycle); when the session's transaction has not begun, its BEGIN goes in the same round trip.
    SQLite needs none: it runs one write transaction at a time already.

    One statement takes every lock, as `unnest` yields the keys, so the statement timeout bounds
    the whole wait. Each lock is on the key's `hashtextextended(key, 0)`, the number earlier
    releases (which sent BEGIN on its own) locked it on, so a release beside this one, during a
    rollout, still waits for it and it for that release. The statement
    goes without parameters (the simple query protocol, which runs BEGIN and it in one message),
    so each key is written into it as the hexadecimal digits of its UTF-8 bytes, decoded by the
    database: nothing a sender wrote is written into SQL as it stands. A key holding a NUL
    character is refused by the database (it is not text), as a parameter holding one was."""
    if keys and dialect_of(session) == "postgresql":
        # Only the digits 0-9 and a-f go between the quotes.
        hexadecimal = ",".join(f"'{key.encode().hex()}'" for key in keys)
        await _run_in_transaction(session, _LOCKS_OF_HEXADECIMAL_KEYS.format(hexadecimal))


async def _run_in_transaction(session: AsyncSession, statements: str) -> None:
    """Run `statements` (SQL without parameters, on PostgreSQL) in `session`'s transaction on
    the driver, with the transaction's BEGIN in the same round trip when it has not begun.

    The transaction is then asyncpg's and the adapter's as if the adapter had begun it, so the
    session's commit, its rollback or `_commit_on_driver` ends it. It is recorded as begun before
    the round trip: if the round trip fails part way, or is cancelled, the rollback that follows
    is sent whether or not the server began it (a ROLLBACK outside a transaction is only
    warned about), so no connection goes back to the pool inside a transaction holding locks."""
    connection = await session.connection()
    session.info[_ON_DRIVER] = (session.sync_session.get_transaction(), connection)
    proxied: Any = connection.sync_connection.connection  # type: ignore[union-attr]
    adapted: Any = proxied.dbapi_connection
    driver: Any = proxied.driver_connection
    pool = connection.sync_engine.pool
    async with _OnAdapter(connection.dialect, proxied, statements, pool, connection.invalidate):
        if adapted._transaction is not None or adapted.isolation_level == "autocommit":
            await driver.execute(statements)
        elif (
            adapted.isolation_level is not None  # a BEGIN of its own: asyncpg writes it
            or adapted.readonly
            or adapted.deferrable
            or driver._top_xact is not None
        ):
            await adapted._start_transaction()
            await driver.execute(statements)
        else:
            transaction = driver.transaction()
            # As asyncpg's `Transaction.start` records a top-level transaction it began.
            driver._top_xact = transaction
            transaction._state = TransactionState.STARTED
            adapted._transaction = transaction
            await driver.execute("BEGIN;" + statements)


# SQLSTATE classes that say the server cannot take work now: connection exceptions (08), and
# operator intervention such as a shutdown, a crash recovery or "starting up" (57P01-57P03).
_UNAVAILABLE_SQLSTATES = ("08", "57P01", "57P02", "57P03")


def sqlstate(error: DBAPIError) -> str | None:
    """The SQLSTATE of a database error, where the driver gives one (PostgreSQL)."""
    original = getattr(error, "orig", None)
    return getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)


# query_canceled: the statement timeout (or an operator) stopped the statement.
_CANCELLED_SQLSTATE = "57014"
# Data exceptions (class 22): a value the column cannot hold (too long, a NUL, out of range).
_DATA_SQLSTATE_CLASS = "22"


# serialization_failure, deadlock_detected: concurrent writers met; a retry succeeds.
WRITE_CONFLICT_SQLSTATES = frozenset({"40001", "40P01"})


def write_conflict(error: BaseException) -> bool:
    """Whether `error` is a serialisation failure or a deadlock: transient, worth a retry."""
    return isinstance(error, DBAPIError) and sqlstate(error) in WRITE_CONFLICT_SQLSTATES


_T = TypeVar("_T")


async def retrying_write_conflicts(
    write: Callable[[], Awaitable[_T]],
    attempts: int,
    before_again: Callable[[], Awaitable[None]] | None = None,
) -> _T:
    """`write()`, run again on a write conflict (`write_conflict`) at most `attempts` times in
    all, `before_again()` (a rollback of a session `write` shares) awaited before each retry;
    the last conflict, or any other error, propagates."""
    for attempt in range(attempts):
        try:
            return await write()
        except DBAPIError as error:
            if not write_conflict(error) or attempt == attempts - 1:
                raise
            if before_again is not None:
                await before_again()
    raise AssertionError("unreachable")


def statement_timed_out(error: BaseException) -> bool:
    """Whether `error` is a statement the database cancelled (the statement timeout)."""
    return isinstance(error, DBAPIError) and sqlstate(error) == _CANCELLED_SQLSTATE


def value_refused(error: BaseException) -> bool:
    """Whether `error` is the database refusing a value (a data exception), which the edge
    should have refused first: a safety net, so the client hears 422 rather than 500."""
    return isinstance(error, DBAPIError) and (sqlstate(error) or "").startswith(
        _DATA_SQLSTATE_CLASS
    )


def database_unavailable(error: BaseException) -> bool:
    """Whether `error` means the database cannot be reached just now (a restart, a failover,
    the pool exhausted), as opposed to a fault in the request or the code."""
    if isinstance(error, ConnectionError | PoolTimeout):
        return True
    if isinstance(error, DBAPIError):
        if error.connection_invalidated or isinstance(error, InterfaceError):
            return True
        state = sqlstate(error) or ""
        if state.startswith(_UNAVAILABLE_SQLSTATES):
            return True
        text = str(error.orig)
        if isinstance(error, OperationalError) and ("database is locked" in text):
            return True  # SQLite: another writer held the file past the busy timeout
        return "starting up" in text or "shutting down" in text
    return False
