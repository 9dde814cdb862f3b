"""The SQL organisations and locations share: read and write one table of curated records."""

from collections.abc import Sequence
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

Stored = TypeVar("Stored")


class RecordRepository(Generic[Stored]):
    """get, many and save for `model`, rows read as `stored` (built from `columns`)."""

    model: ClassVar[Any]
    columns: ClassVar[tuple[Any, ...]]
    stored: ClassVar[Any]

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, record_id: str) -> Stored | None:
        statement = select(*self.columns).where(self.model.id == record_id)
        row = (await self.session.execute(statement)).first()
        return self.stored(*row) if row else None

    async def many(self, ids: Sequence[str]) -> dict[str, Stored]:
        if not ids:
            return {}
        rows = await self.session.execute(select(*self.columns).where(self.model.id.in_(set(ids))))
        return {row.id: self.stored(*row) for row in rows}

    async def save(self, values: dict[str, Any], *, exists: bool) -> None:
        if exists:
            await self.session.execute(
                update(self.model).where(self.model.id == values["id"]).values(**values)
            )
        else:
            await self.session.execute(insert(self.model).values(**values))
