"""The refresh worker: keeps the report facts current, so a report request only reads.

Runs inside referral-api as an app lifecycle (`refresh_lifecycle`). Every write session the
service commits wakes it (`nudge`); it waits `report_refresh_linger_seconds` so writes arriving
together share one refresh, then runs `facts.refresh`. Without a wake it checks the change
queue every `report_refresh_poll_seconds` (writes by imports, tools and other replicas). Several
replicas may each run one: refreshes take turns (a lock on PostgreSQL, the single writer on
SQLite). Tests and tools call `refresh` to bring the facts up to date at a known moment.

A worker whose release does not know the database's migration revision leaves the queue alone:
during a rolling deploy the new release's migration may add facts this release does not derive
(`report_quality_month`, say), and a refresh by this release would take referrals off the queue
without them. The new release's workers derive them. It checks before each pass, and each batch
of a pass checks again under the refresh lock, which such a migration takes too.
"""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from referral_api.config import ReferralSettings
from referral_api.reports import facts
from signpost_platform.background import WorkLoop, in_background
from signpost_platform.db import Database, is_sqlite
from signpost_platform.migrations import current_revisions

logger = logging.getLogger("signpost.reports")


class FactsRefresher:
    """Runs `facts.refresh` when woken by a write, or every poll interval."""

    def __init__(
        self, database: Database, settings: ReferralSettings, known_revisions: set[str]
    ) -> None:
        self.database = database
        self.settings = settings
        self.known_revisions = known_revisions
        self._passed = asyncio.Event()
        self._key_warned = False
        self._schema_warned = False
        self._loop = WorkLoop(
            self._one_pass,
            poll_seconds=settings.report_refresh_poll_seconds,
            linger_seconds=settings.report_refresh_linger_seconds,
            logger=logger,
            failure_message="report facts refresh failed; will retry",
        )

    def nudge(self) -> None:
        """Refresh soon (called after the service commits a write)."""
        self._loop.wake()

    async def refresh(self) -> int:
        """Bring the facts up to date now; returns how many referrals' facts were derived."""
        return await facts.refresh(
            self.database,
            self.settings.pseudonym_key,
            self.settings.disclosure_key,
            self.known_revisions,
        )

    async def next_pass(self) -> None:
        """Return when the worker next finishes a pass (for tests of the worker itself)."""
        await self._passed.wait()

    async def run_forever(self) -> None:
        await self._loop.run_forever()

    async def _one_pass(self) -> bool:
        """One refresh; False: nothing says more is waiting (the next write wakes the loop)."""
        try:
            if not await current_revisions(self.database.engine) <= self.known_revisions:
                if not self._schema_warned:
                    logger.warning(
                        "report facts not refreshed: the database has migrations this release "
                        "does not know; the newer release's workers refresh them"
                    )
                    self._schema_warned = True
                return False
            rebuilt = await self.refresh()
            self._key_warned = False
            if rebuilt:
                logger.info("report facts refreshed", extra={"referrals": rebuilt})
        except facts.PseudonymKeyChanged:
            if not self._key_warned:  # reports answer 503 until `rekey` has run
                logger.warning("report facts not refreshed: the keys changed; run rekey")
                self._key_warned = True
        except DBAPIError as error:
            if not _gave_way(error):
                raise
            # Another transaction held a table: try again later.
            logger.info("report facts refresh gave way to a table lock; will retry")
        finally:
            self._passed.set()
            self._passed = asyncio.Event()
        return False


def _gave_way(error: DBAPIError) -> bool:
    """Whether `error` is PostgreSQL's lock_not_available (55P03): the refresh gave way."""
    return getattr(error.orig, "sqlstate", None) == "55P03"


def _wake_after_commits(database: Database, refresher: FactsRefresher) -> None:
    """Nudge `refresher` after every commit of the service's write sessions (its read sessions
    commit nothing to refresh)."""

    class WriteSession(Session):
        pass

    def committed(_session: Any) -> None:
        refresher.nudge()

    event.listen(WriteSession, "after_commit", committed)
    database.writes.configure(sync_session_class=WriteSession)


@asynccontextmanager
async def refresh_lifecycle(app: FastAPI) -> AsyncIterator[None]:
    """The app lifecycle that runs the worker (or only holds it, when it is disabled:
    `app.state.report_facts.refresh()` still brings the facts up to date on demand)."""
    settings: ReferralSettings = app.state.settings
    database: Database = app.state.database
    own = _connection_of_its_own(database, settings)
    refresher = FactsRefresher(own or database, settings, app.state.known_revisions)
    app.state.report_facts = refresher
    work = None
    if settings.report_refresh_worker_enabled:
        _wake_after_commits(database, refresher)
        work = refresher.run_forever
    try:
        async with in_background(work, "report-facts-refresh"):
            yield
    finally:
        if own is not None:
            await own.dispose()


def _connection_of_its_own(database: Database, settings: ReferralSettings) -> Database | None:
    """The worker's own connection to PostgreSQL (a pool of one), None where it uses the
    service's: when it is disabled, and on SQLite (one writer at a time either way).

    Its statements are the same few dozen every pass, and PostgreSQL plans a prepared statement
    for its values at each of its first five runs on a connection (about 10 ms for the largest)
    before it settles on a plan: on one connection that happens five times, on the service's
    pool five times on each of its connections. A pass also never waits for, or holds, a
    connection the requests need.

    Its connection is checked before each use whatever `db_pool_pre_ping` says (one round trip
    a pass, against about ninety statements): a request that meets a connection a database
    restart broke resets the service's pool, not this one, so without the check the worker's
    next pass would fail too."""
    if not settings.report_refresh_worker_enabled or is_sqlite(database.url):
        return None
    return Database(
        database.url,
        pool_size=1,
        max_overflow=0,
        pre_ping=True,
        statement_timeout_seconds=settings.db_statement_timeout_seconds,
    )
