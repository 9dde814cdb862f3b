"""The outbox worker every outbox runs (`signpost_platform.outbox`), on a small outbox table of
its own on each database: which rows a pass takes and in what order, the lease, what each
answer records, the backlog metrics; and the loop background workers share.

The receiver is a table of answers; the clock is fixed, so nothing sleeps and no test depends
on today's date.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import String, Text, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from signpost_platform.background import WorkLoop
from signpost_platform.db import Database, UtcDateTime, service_metadata
from signpost_platform.outbox.table import OutboxTable
from signpost_platform.outbox.worker import OutboxWorker, Schedule, Undelivered
from tests.support.databases import tables_database

NOW = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
LEASE = timedelta(seconds=60)
BACKOFF_BASE = 30.0


class Base(DeclarativeBase):
    metadata = service_metadata()


class Parcel(Base):
    """An outbox table with the columns every outbox has, and where its receipt is kept."""

    __tablename__ = "parcel"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int]
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    receipt: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


@dataclass(frozen=True, slots=True)
class StoredParcel:
    id: str
    attempts: int


OUTBOX = OutboxTable(Parcel, Parcel.id, ("pending", "failing"))
COLUMNS = (Parcel.id, Parcel.attempts)


class ParcelRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim_due(self, now: datetime, limit: int, lease: timedelta) -> list[StoredParcel]:
        rows = await OUTBOX.claim_due(self.session, COLUMNS, now, limit, lease)
        return [StoredParcel(*row) for row in rows]

    async def backlog(self) -> tuple[int, datetime | None]:
        return await OUTBOX.backlog(self.session)


class ParcelWorker(OutboxWorker[StoredParcel, str, Undelivered]):
    """Delivers parcels to a receiver that answers as `answers` says (a receipt by default)."""

    metric_labels = ("platform-test", "parcel")
    log = logging.getLogger("tests.outbox")
    failure_message = "parcel delivery pass failed; will retry"

    def __init__(self, database: Database, batch_size: int = 10) -> None:
        schedule = Schedule(
            batch_size=batch_size,
            lease_seconds=LEASE.total_seconds(),
            backoff_base_seconds=BACKOFF_BASE,
            backoff_max_seconds=600,
            poll_seconds=3600,
        )
        super().__init__(database, ParcelRepository, schedule, clock=lambda: NOW)
        self.answers: dict[str, Undelivered] = {}
        self.delivered: list[str] = []

    async def deliver(self, parcel: StoredParcel) -> str | Undelivered:
        self.delivered.append(parcel.id)
        return self.answers.get(parcel.id, f"receipt of {parcel.id}")

    async def record_sent(
        self, session: AsyncSession, parcel: StoredParcel, receipt: str, now: datetime
    ) -> None:
        await OUTBOX.mark_sent(session, parcel.id, now, receipt=receipt)

    async def record_failed(
        self, session: AsyncSession, parcel: StoredParcel, failure: Undelivered, at: datetime
    ) -> None:
        await OUTBOX.mark_failed(session, parcel.id, "failing", str(failure), at)


@pytest.fixture(scope="module")
async def parcels(backend: str, session_tmp: Path) -> AsyncIterator[Database]:
    async with tables_database(Base.metadata, backend, session_tmp, "outbox") as database:
        yield database


@pytest.fixture
async def database(parcels: Database) -> Database:
    async with parcels.engine.begin() as connection:
        await connection.execute(delete(Parcel))
    return parcels


async def add(
    database: Database,
    parcel_id: str,
    due: timedelta,
    state: str = "pending",
    recorded: timedelta = timedelta(hours=1),
) -> None:
    """A parcel due `due` from now (negative: overdue), recorded `recorded` ago."""
    async with database.engine.begin() as connection:
        await connection.execute(
            insert(Parcel).values(
                id=parcel_id,
                state=state,
                attempts=0,
                next_attempt_at=NOW + due,
                created_at=NOW - recorded,
            )
        )


async def stored(database: Database) -> dict[str, Parcel]:
    async with database.sessionmaker() as session:
        return {p.id: p for p in (await session.scalars(select(Parcel))).all()}


async def test_a_pass_takes_the_earliest_due_first_and_a_full_batch_asks_for_another(database):
    worker = ParcelWorker(database, batch_size=2)
    for parcel_id, due in (("b", -1), ("a", -3), ("c", -2), ("later", 5)):
        await add(database, parcel_id, timedelta(minutes=due))

    assert await worker.deliver_due() is True
    assert worker.delivered == ["a", "c"]
    assert await worker.deliver_due() is False
    assert worker.delivered == ["a", "c", "b"]
    assert await worker.deliver_due() is False  # "later" is not due
    assert worker.delivered == ["a", "c", "b"]

    rows = await stored(database)
    assert {i: (p.state, p.attempts, p.receipt) for i, p in rows.items()} == {
        "a": ("sent", 1, "receipt of a"),
        "b": ("sent", 1, "receipt of b"),
        "c": ("sent", 1, "receipt of c"),
        "later": ("pending", 0, None),
    }
    assert rows["a"].sent_at == NOW and rows["a"].last_attempt_at == NOW


async def test_a_failure_comes_back_after_the_retry_after_asked_for_else_after_the_backoff(
    database,
):
    worker = ParcelWorker(database)
    await add(database, "throttled", timedelta(minutes=-1))
    await add(database, "refused", timedelta(minutes=-1))
    worker.answers = {
        "throttled": Undelivered("the receiver answered 429", retry_after=7),
        "refused": Undelivered("the receiver answered 500: " + "x" * 3000),
    }

    await worker.deliver_due()

    rows = await stored(database)
    throttled, refused = rows["throttled"], rows["refused"]
    assert (throttled.state, throttled.attempts) == ("failing", 1)
    assert throttled.last_error == "the receiver answered 429"
    assert throttled.next_attempt_at == NOW + timedelta(seconds=7)
    # The first backoff is the base, give or take the jitter; the error is kept cut short.
    assert (
        0.8 * BACKOFF_BASE <= (refused.next_attempt_at - NOW).total_seconds() <= 1.2 * BACKOFF_BASE
    )
    assert refused.last_error.startswith("the receiver answered 500: xxx")
    assert len(refused.last_error) == 2000
    assert await worker.deliver_due() is False  # neither is due again yet
    assert sorted(worker.delivered) == ["refused", "throttled"]


async def test_a_claimed_row_is_left_alone_for_its_lease_then_claimed_again(database):
    await add(database, "a", timedelta(minutes=-1))

    async def claim(at: datetime) -> list[StoredParcel]:
        async with database.sessionmaker() as session, session.begin():
            return await ParcelRepository(session).claim_due(at, 10, LEASE)

    assert await claim(NOW) == [StoredParcel("a", 0)]
    assert await claim(NOW + LEASE - timedelta(seconds=1)) == []
    # The claimant died before recording anything: after the lease the row is taken again.
    assert await claim(NOW + LEASE) == [StoredParcel("a", 1)]


async def test_a_failure_recorded_after_the_row_was_delivered_leaves_it_delivered(database):
    await add(database, "a", timedelta(minutes=-1))
    async with database.sessionmaker() as session, session.begin():
        await OUTBOX.mark_sent(session, "a", NOW, receipt="first answer")
        await OUTBOX.mark_failed(session, "a", "failing", "lost", NOW + LEASE)

    [parcel] = (await stored(database)).values()
    assert (parcel.state, parcel.receipt, parcel.last_error) == ("sent", "first answer", None)


async def test_the_backlog_metrics_count_the_undelivered_and_age_the_oldest(database):
    worker = ParcelWorker(database)
    await add(database, "waiting", timedelta(minutes=5))
    await add(database, "failing", timedelta(minutes=5), state="failing")
    await add(database, "delivered", timedelta(minutes=-5), state="sent")
    labels = {"service": "platform-test", "outbox": "parcel"}

    await worker.observe_backlog()
    assert REGISTRY.get_sample_value("signpost_outbox_depth", labels) == 2
    assert REGISTRY.get_sample_value("signpost_outbox_oldest_age_seconds", labels) == 3600

    worker.clock = lambda: NOW + timedelta(minutes=10)
    await worker.deliver_due()
    await worker.observe_backlog()
    assert REGISTRY.get_sample_value("signpost_outbox_depth", labels) == 0
    assert REGISTRY.get_sample_value("signpost_outbox_oldest_age_seconds", labels) == 0


async def test_the_listing_pages_the_rows_oldest_first_and_counts_them_all(database):
    for parcel_id, hours_ago in (("b", 2), ("c", 1), ("a", 3), ("not listed", 4)):
        await add(database, parcel_id, timedelta(minutes=-1), recorded=timedelta(hours=hours_ago))
    listed = [Parcel.id.in_(("a", "b", "c"))]

    async with database.sessionmaker() as session:
        total, first = await OUTBOX.listed(session, COLUMNS, listed, count=2, offset=0)
        again, rest = await OUTBOX.listed(session, COLUMNS, listed, count=2, offset=2)

    assert (total, [row.id for row in first]) == (3, ["a", "b"])
    assert (again, [row.id for row in rest]) == (3, ["c"])


def test_a_schedule_is_read_from_settings_named_alike():
    settings = SimpleNamespace(
        parcel_batch_size=5,
        parcel_lease_seconds=30.0,
        parcel_backoff_base_seconds=2.0,
        parcel_backoff_max_seconds=60.0,
        parcel_poll_seconds=1.0,
    )

    assert Schedule.from_settings(settings, "parcel_") == Schedule(5, 30.0, 2.0, 60.0, 1.0, 0.0)
    settings.parcel_linger_seconds = 0.5
    assert Schedule.from_settings(settings, "parcel_").linger_seconds == 0.5


async def test_the_loop_outlives_a_failed_pass_and_goes_again_at_once_while_more_is_waiting(
    caplog,
):
    answers: list[bool | Exception] = [RuntimeError("database away"), True, False]
    passes: list[bool | Exception] = []
    failed, drained = asyncio.Event(), asyncio.Event()

    async def one_pass() -> bool:
        answer = answers.pop(0)
        passes.append(answer)
        if isinstance(answer, Exception):
            failed.set()
            raise answer
        if not answers:
            drained.set()
        return answer

    loop = WorkLoop(
        one_pass, poll_seconds=3600, logger=logging.getLogger("tests.loop"), failure_message="oops"
    )
    running = asyncio.create_task(loop.run_forever())
    try:
        await asyncio.wait_for(failed.wait(), 10)
        assert len(passes) == 1  # after a failure it waits: the poll is an hour away
        loop.wake()
        await asyncio.wait_for(drained.wait(), 10)
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
    assert passes[1:] == [True, False]  # the pass that said "more" was followed at once
    assert [r.getMessage() for r in caplog.records if r.name == "tests.loop"] == ["oops"]


async def test_a_service_stopping_lets_the_pass_under_way_finish():
    """Cancelled mid-pass, the loop waits for the pass (its transaction) to end, then stops."""
    started, release = asyncio.Event(), asyncio.Event()
    finished: list[str] = []

    async def one_pass() -> bool:
        started.set()
        await release.wait()
        finished.append("pass")
        return False

    loop = WorkLoop(
        one_pass, poll_seconds=3600, logger=logging.getLogger("tests.loop"), failure_message="oops"
    )
    running = asyncio.create_task(loop.run_forever())
    await asyncio.wait_for(started.wait(), 10)
    running.cancel()
    await asyncio.sleep(0)
    assert not running.done()  # still waiting for the pass
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await running
    assert finished == ["pass"]


class EndlessPass:
    """A pass that never finishes by itself: it says when it started and when it was cut off."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.cut_off: list[bool] = []

    async def __call__(self) -> bool:
        self.started.set()
        try:
            await asyncio.Event().wait()  # never set
        except asyncio.CancelledError:
            self.cut_off.append(True)
            raise
        return False


async def test_a_pass_that_outlasts_the_grace_is_cut_off():
    one_pass = EndlessPass()
    loop = WorkLoop(
        one_pass,
        poll_seconds=3600,
        logger=logging.getLogger("tests.loop"),
        failure_message="oops",
        stop_grace_seconds=0.01,
    )
    running = asyncio.create_task(loop.run_forever())
    await asyncio.wait_for(one_pass.started.wait(), 10)
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(running, 10)  # a guard only
    assert one_pass.cut_off == [True]


async def test_a_second_cancel_during_the_grace_cuts_the_pass_off_at_once():
    one_pass = EndlessPass()
    loop = WorkLoop(
        one_pass, poll_seconds=3600, logger=logging.getLogger("tests.loop"), failure_message="oops"
    )
    running = asyncio.create_task(loop.run_forever())
    await asyncio.wait_for(one_pass.started.wait(), 10)
    running.cancel()
    await asyncio.sleep(0)  # now waiting out the grace (10 s)
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(running, 5)  # a guard only: well inside the grace
    assert one_pass.cut_off == [True]
