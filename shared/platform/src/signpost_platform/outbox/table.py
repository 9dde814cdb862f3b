"""The statements every outbox runs on its table; its repository names the table.

An outbox table keeps one convention: `state` (`sent` once delivered; the repository names the
states still to deliver), `attempts`, `next_attempt_at`, `last_attempt_at`, `last_error`,
`created_at` and `sent_at`.

Rows are claimed with `SELECT ... FOR UPDATE SKIP LOCKED` on PostgreSQL, so two replicas never
claim the same row at once; the claim pushes `next_attempt_at` a lease ahead and commits, so a
replica that dies mid-call leaves the row to be retried after the lease. SQLite has one writer
(every transaction begins IMMEDIATE), which gives the same guarantee.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Row, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from signpost_platform.db import AnySelect, Repository, columns_of
from signpost_platform.fhir.responses import instant
from signpost_platform.paging import page

SENT = "sent"
# The longest error kept on a row (the rest is cut off).
ERROR_LENGTH = 2000


def delivery_view(row: Any) -> dict[str, Any]:
    """A row's delivery as the outbox listings serve it: its state, the attempts made, when it
    was recorded, is next tried (until sent) and was last tried, and the last attempt's error."""
    return {
        "state": row.state,
        "attempts": row.attempts,
        "created_at": instant(row.created_at),
        "next_attempt_at": instant(row.next_attempt_at) if row.state != SENT else None,
        "last_attempt_at": instant(row.last_attempt_at) if row.last_attempt_at else None,
        "last_error": row.last_error,
    }


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """The columns every outbox row has, as its repository reads them; an outbox's own row
    type adds what it delivers."""

    state: str
    attempts: int
    next_attempt_at: datetime
    last_attempt_at: datetime | None
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


@dataclass(frozen=True, slots=True)
class OutboxTable:
    """An outbox table: its ORM class, its key (an attribute of that class) and the states of
    the rows still to deliver."""

    model: Any
    key: Any
    undelivered: tuple[str, ...]

    async def claim(
        self, session: AsyncSession, query: AnySelect, lease: dict[str, Any]
    ) -> list[Row[*tuple[Any, ...]]]:
        """The rows `query` selects that no other transaction holds, locked, with `lease` written
        to them in the caller's transaction. `query` selects the key among its columns."""
        rows = list(await session.execute(query.with_for_update(skip_locked=True)))
        if rows:
            keys = [getattr(row, self.key.key) for row in rows]
            await session.execute(update(self.model).where(self.key.in_(keys)).values(lease))
        return rows

    async def claim_due(
        self,
        session: AsyncSession,
        columns: Sequence[Any],
        now: datetime,
        limit: int,
        lease: timedelta,
    ) -> list[Row[*tuple[Any, ...]]]:
        """Take up to `limit` undelivered rows that are due, the earliest due first, as
        `columns`; the attempt is counted, and others skip them for `lease`."""
        model = self.model
        due = (
            select(*columns)
            .where(model.state.in_(self.undelivered), model.next_attempt_at <= now)
            .order_by(model.next_attempt_at)
            .limit(limit)
        )
        return await self.claim(
            session,
            due,
            {
                "next_attempt_at": now + lease,
                "attempts": model.attempts + 1,
                "last_attempt_at": now,
            },
        )

    async def backlog(self, session: AsyncSession) -> tuple[int, datetime | None]:
        """Rows not delivered yet and when the oldest was recorded."""
        model = self.model
        row = (
            await session.execute(
                select(func.count(), func.min(model.created_at)).where(model.state != SENT)
            )
        ).one()
        return int(row[0]), row[1]

    async def listed(
        self,
        session: AsyncSession,
        columns: Sequence[Any],
        conditions: Sequence[ColumnElement[bool]],
        *,
        count: int,
        offset: int,
    ) -> tuple[int, list[Row[*tuple[Any, ...]]]]:
        """How many rows meet `conditions`, and a page of them as `columns`, oldest first (the
        outbox as the people who run the service list it)."""
        statement = select(*columns).where(*conditions).order_by(self.model.created_at, self.key)
        total, rows = await page(
            session, statement, self.model, conditions, count=count, offset=offset
        )
        assert total is not None  # counted: the page is asked for its total
        return total, rows

    async def mark_sent(
        self, session: AsyncSession, key: str, now: datetime, **values: Any
    ) -> None:
        """The row was delivered at `now`; `values` are what the receiver's answer adds."""
        await session.execute(
            update(self.model)
            .where(self.key == key)
            .values(state=SENT, sent_at=now, last_error=None, **values)
        )

    async def mark_failed(
        self,
        session: AsyncSession,
        key: str,
        state: str,
        error: str,
        retry_at: datetime,
        **values: Any,
    ) -> None:
        """The attempt failed with `error`: the row goes to `state`, to be tried at `retry_at`
        (unless it was delivered meanwhile)."""
        await session.execute(
            update(self.model)
            .where(self.key == key, self.model.state != SENT)
            .values(
                state=state, last_error=error[:ERROR_LENGTH], next_attempt_at=retry_at, **values
            )
        )


Entry = TypeVar("Entry", bound=OutboxEntry)


class OutboxRepository(Repository, Generic[Entry]):
    """An outbox's repository: `outbox` is its table and `entry` the row type it reads (a
    dataclass of the table's columns, `columns`); claiming, the backlog and the listing are
    the statements every outbox runs."""

    outbox: OutboxTable
    entry: type[Entry]
    columns: tuple[Any, ...]

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        cls.columns = columns_of(cls.outbox.model, cls.entry)

    async def claim_due(self, now: datetime, limit: int, lease: timedelta) -> list[Entry]:
        """Take up to `limit` undelivered rows that are due; others skip them for `lease`."""
        rows = await self.outbox.claim_due(self.session, self.columns, now, limit, lease)
        return [self.entry(*row) for row in rows]

    async def backlog(self) -> tuple[int, datetime | None]:
        """Undelivered rows and when the oldest was recorded."""
        return await self.outbox.backlog(self.session)

    async def listed(
        self, conditions: Sequence[ColumnElement[bool]], limit: int, offset: int
    ) -> tuple[int, list[Entry]]:
        """How many rows meet `conditions`, and a page of them, oldest first."""
        total, rows = await self.outbox.listed(
            self.session, self.columns, conditions, count=limit, offset=offset
        )
        return total, [self.entry(*row) for row in rows]
