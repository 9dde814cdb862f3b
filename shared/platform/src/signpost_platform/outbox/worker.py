"""The outbox worker: delivers an outbox's due rows in batches, retrying until each is accepted.

Runs inside a service as an app lifecycle; every replica runs one. A pass claims a batch of due
rows (its repository's `claim_due`: no other replica takes them during the lease), delivers them
concurrently and records every result in one transaction: delivered, or to be tried again after
the `Retry-After` the receiver asked for (429, 503), else after an exponential backoff with
jitter. Nothing is dropped. It then runs the outbox's own follow-up (`after_pass`) and publishes
the backlog as the metrics `signpost_outbox_depth` and `signpost_outbox_oldest_age_seconds`.

A feature says only what is its own: its table (a repository), what one delivery is
(`deliver`), and how an answer is recorded (`record_sent`, `record_failed`).
"""

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar, Generic, Protocol, TypeVar, cast

from sqlalchemy.ext.asyncio import AsyncSession

from signpost_platform.background import WorkLoop
from signpost_platform.db import Database
from signpost_platform.metrics import OUTBOX_DEPTH, OUTBOX_OLDEST_AGE
from signpost_platform.outbox import backoff


class Undelivered(Exception):
    """Why a delivery failed, in words safe to store and show (no personal data); with the
    seconds the receiver asked the caller to wait (`Retry-After`), if it asked."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class Entry(Protocol):
    """An outbox row as its repository reads it; the worker needs only its attempts so far."""

    @property
    def attempts(self) -> int: ...


EntryT = TypeVar("EntryT", bound=Entry)
EntryT_co = TypeVar("EntryT_co", bound=Entry, covariant=True)
ReceiptT = TypeVar("ReceiptT")
FailureT = TypeVar("FailureT", bound=Undelivered)


class OutboxQueue(Protocol[EntryT_co]):
    """An outbox's repository, as far as the worker reads it."""

    async def claim_due(
        self, now: datetime, limit: int, lease: timedelta
    ) -> Sequence[EntryT_co]: ...

    async def backlog(self) -> tuple[int, datetime | None]: ...


@dataclass(frozen=True, slots=True)
class Schedule:
    """How an outbox worker paces itself."""

    batch_size: int
    lease_seconds: float
    backoff_base_seconds: float
    backoff_max_seconds: float
    poll_seconds: float
    # How long to wait after a wake-up, so rows written together go in one batch.
    linger_seconds: float = 0.0

    @classmethod
    def from_settings(cls, settings: object, prefix: str) -> "Schedule":
        """The schedule a service's settings give an outbox: every outbox names its settings
        alike, `<prefix>batch_size`, `<prefix>lease_seconds`, ... (`<prefix>linger_seconds`
        only if it lingers)."""

        def setting(name: str) -> Any:
            return getattr(settings, prefix + name)

        return cls(
            batch_size=setting("batch_size"),
            lease_seconds=setting("lease_seconds"),
            backoff_base_seconds=setting("backoff_base_seconds"),
            backoff_max_seconds=setting("backoff_max_seconds"),
            poll_seconds=setting("poll_seconds"),
            linger_seconds=getattr(settings, f"{prefix}linger_seconds", 0.0),
        )


class OutboxWorker(ABC, Generic[EntryT, ReceiptT, FailureT]):
    """Delivers due rows in batches; woken at once (`wake`) when there is work, else it polls.

    `EntryT` is a row as the repository reads it, `ReceiptT` what a delivery brings back and
    `FailureT` why one failed.
    """

    # The service and the outbox the metrics name.
    metric_labels: ClassVar[tuple[str, str]]
    # Where the worker logs, and what when a pass fails.
    log: ClassVar[logging.Logger]
    failure_message: ClassVar[str]

    def __init__(
        self,
        database: Database,
        repository: Callable[[AsyncSession], OutboxQueue[EntryT]],
        schedule: Schedule,
        clock: Callable[[], datetime],
    ) -> None:
        self.database = database
        self.repository = repository
        self.schedule = schedule
        self.clock = clock
        self.loop = WorkLoop(
            self.run_pass,
            poll_seconds=schedule.poll_seconds,
            linger_seconds=schedule.linger_seconds,
            logger=self.log,
            failure_message=self.failure_message,
        )

    def wake(self) -> None:
        """Deliver now rather than at the next poll."""
        self.loop.wake()

    async def run_forever(self) -> None:
        await self.loop.run_forever()

    async def run_pass(self) -> bool:
        """Deliver a batch, run the follow-up, publish the backlog; True if more may be due."""
        more_due = await self.deliver_due()
        await self.after_pass()
        await self.observe_backlog()
        return more_due

    async def after_pass(self) -> None:
        """The outbox's own work after each delivery pass (none unless it has some)."""

    async def observe_backlog(self) -> None:
        """Publish the outbox depth and the age of its oldest entry as metrics."""
        async with self.database.sessionmaker() as session:
            depth, oldest = await self.repository(session).backlog()
        OUTBOX_DEPTH.labels(*self.metric_labels).set(depth)
        age = (self.clock() - oldest).total_seconds() if oldest else 0.0
        OUTBOX_OLDEST_AGE.labels(*self.metric_labels).set(max(age, 0.0))

    async def deliver_due(self) -> bool:
        """Deliver one batch of due rows; True if the batch was full (more may be due)."""
        schedule = self.schedule
        async with self.database.sessionmaker() as session, session.begin():
            claimed = await self.repository(session).claim_due(
                self.clock(), schedule.batch_size, timedelta(seconds=schedule.lease_seconds)
            )
        if not claimed:
            return False
        results = await asyncio.gather(*(self.deliver(entry) for entry in claimed))
        # One transaction records the whole batch.
        async with self.database.sessionmaker() as session, session.begin():
            for entry, result in zip(claimed, results, strict=True):
                if isinstance(result, Undelivered):  # a FailureT: a receipt is no Undelivered
                    retry_at = self.clock() + timedelta(seconds=self._retry_delay(entry, result))
                    await self.record_failed(session, entry, cast(FailureT, result), retry_at)
                else:
                    await self.record_sent(session, entry, result, self.clock())
        return len(claimed) == schedule.batch_size

    def _retry_delay(self, entry: EntryT, failure: Undelivered) -> float:
        """Seconds until the next attempt: when the receiver asked to be tried later, then
        (without backing off further); else the backoff after this attempt."""
        if failure.retry_after is not None:
            return failure.retry_after
        schedule = self.schedule
        return backoff(
            entry.attempts + 1, schedule.backoff_base_seconds, schedule.backoff_max_seconds
        )

    @abstractmethod
    async def deliver(self, entry: EntryT) -> ReceiptT | FailureT:
        """Deliver one row: what the receiver answered, or why it failed."""

    @abstractmethod
    async def record_sent(
        self, session: AsyncSession, entry: EntryT, receipt: ReceiptT, now: datetime
    ) -> None:
        """Record the row delivered at `now` (in the batch's transaction)."""

    @abstractmethod
    async def record_failed(
        self, session: AsyncSession, entry: EntryT, failure: FailureT, retry_at: datetime
    ) -> None:
        """Record the failed attempt, the row to be tried again at `retry_at`."""
