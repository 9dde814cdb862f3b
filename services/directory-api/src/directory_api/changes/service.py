"""Reading the change feed: a page of changes with the current data of each updated record."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from directory_api.changes.repository import ChangeRepository, ChangeRow
from directory_api.documents import reading


@dataclass(frozen=True, slots=True)
class FeedItem:
    change: ChangeRow
    data: dict[str, Any] | None  # None for a deleted (retired) record


async def feed_page(
    session: AsyncSession, after: int, kinds: list[str], limit: int
) -> list[FeedItem]:
    """Up to `limit` changes after change number `after`, oldest first."""
    rows = await ChangeRepository(session).after(after, kinds, limit)
    wanted: dict[str, list[str]] = {}
    for row in rows:
        if row.state == "updated":
            wanted.setdefault(row.kind, []).append(row.record_id)
    data = await reading.current_documents(session, wanted)
    return [FeedItem(row, data.get((row.kind, row.record_id))) for row in rows]
