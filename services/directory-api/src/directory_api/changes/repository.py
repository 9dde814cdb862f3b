"""All SQL about the change feed."""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, insert, select, text

from directory_api.changes.models import Change
from signpost_platform.db import Repository, dialect_of

# Any fixed number: the advisory lock that makes change numbers commit in order on PostgreSQL.
_FEED_LOCK = 7_340_001


@dataclass(frozen=True, slots=True)
class ChangeRow:
    kind: str
    record_id: str
    change_number: int
    state: str
    changed_at: datetime


class ChangeRepository(Repository):
    async def record(self, kind: str, record_ids: Sequence[str], state: str, at: datetime) -> None:
        """Move each record to the end of the feed with `state` (updated or deleted).

        Writers take a transaction-scoped lock first (SQLite's BEGIN IMMEDIATE already
        serialises them), so change numbers become visible in the order they were given: a
        consumer reading after number N can never later find a smaller number committed.
        """
        if not record_ids:
            return
        ids = list(dict.fromkeys(record_ids))
        await self.lock()
        last = (await self.session.execute(select(func.max(Change.change_number)))).scalar()
        await self.session.execute(
            delete(Change).where(Change.kind == kind, Change.record_id.in_(ids))
        )
        await self.session.execute(
            insert(Change),
            [
                {
                    "kind": kind,
                    "record_id": record_id,
                    "change_number": (last or 0) + offset,
                    "state": state,
                    "changed_at": at,
                }
                for offset, record_id in enumerate(ids, start=1)
            ],
        )

    async def lock(self) -> None:
        """Serialise writers until the transaction ends (no-op on SQLite, already serial)."""
        if dialect_of(self.session) == "postgresql":
            await self.session.execute(text(f"SELECT pg_advisory_xact_lock({_FEED_LOCK})"))

    async def lock_when_free(self, poll_seconds: float = 0.05) -> None:
        """`lock`, waited for in short tries instead of one long wait: a replica starting while
        another seeds waits as long as that seed takes, which no single statement may (the
        statement timeout would fail its start-up)."""
        if dialect_of(self.session) != "postgresql":
            return
        try_lock = text(f"SELECT pg_try_advisory_xact_lock({_FEED_LOCK})")
        while True:
            if (await self.session.execute(try_lock)).scalar_one():
                return
            await asyncio.sleep(poll_seconds)

    async def after(self, change_number: int, kinds: Sequence[str], limit: int) -> list[ChangeRow]:
        statement = select(
            Change.kind, Change.record_id, Change.change_number, Change.state, Change.changed_at
        ).where(Change.change_number > change_number)
        if kinds:
            statement = statement.where(Change.kind.in_(kinds))
        statement = statement.order_by(Change.change_number).limit(limit)
        return [ChangeRow(*row) for row in await self.session.execute(statement)]
