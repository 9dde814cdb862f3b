"""The SQL the directory's curated records share: read, write and list one table of them."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy import ColumnElement, insert, select, update

from signpost_platform.db import Repository, columns_of
from signpost_platform.fhir.search import DateRange, date_condition
from signpost_platform.paging import page

Stored = TypeVar("Stored")


class RecordRepository(Repository, Generic[Stored]):
    """get, many, page and save for `model`, rows read as `stored`: a frozen dataclass whose
    fields are columns of `model` of the same names, read in its field order (`columns`)."""

    model: ClassVar[Any]
    stored: ClassVar[Any]
    columns: ClassVar[tuple[Any, ...]]

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        if "stored" not in vars(cls):
            return  # a base for several tables, such as NestedRepository
        cls.columns = columns_of(cls.model, cls.stored)

    async def get(self, record_id: str) -> Stored | None:
        statement = select(*self.columns).where(self.model.id == record_id)
        row = (await self.session.execute(statement)).first()
        return self.stored(*row) if row else None

    async def many(self, ids: Sequence[str]) -> dict[str, Stored]:
        if not ids:
            return {}
        rows = await self.session.execute(select(*self.columns).where(self.model.id.in_(set(ids))))
        return {row.id: self.stored(*row) for row in rows}

    async def page(
        self,
        conditions: Sequence[ColumnElement[bool]],
        order: Sequence[Any],
        *,
        limit: int | None,
        offset: int,
    ) -> tuple[int, list[Stored]]:
        """The records meeting `conditions`, in `order`, from `offset` (at most `limit`; None:
        all of them), and how many meet them: the page of an ORUK or FHIR list."""
        statement = select(*self.columns).where(*conditions).order_by(*order)
        if limit is None:
            rows = list(await self.session.execute(statement))
            return len(rows), [self.stored(*row) for row in rows]
        total, rows = await page(
            self.session, statement, self.model, conditions, count=limit, offset=offset
        )
        assert total is not None  # `page` counts unless told not to
        return total, [self.stored(*row) for row in rows]

    async def save(self, values: dict[str, Any], *, exists: bool) -> None:
        if exists:
            await self.session.execute(
                update(self.model).where(self.model.id == values["id"]).values(**values)
            )
        else:
            await self.session.execute(insert(self.model).values(**values))


@dataclass(frozen=True, slots=True)
class StoredNested:
    """The columns of a record services nest (an organisation or a location) that every such
    record has; its own come after them."""

    id: str
    document: str
    fhir_resource: str
    version: int
    last_modified_at: datetime
    retired_at: datetime | None
    input_digest: str


Nested = TypeVar("Nested", bound=StoredNested)


class NestedRepository(RecordRepository[Nested]):
    """A table of records services nest: searched by text (`matching`), id and last update, in
    name order; `live_services` are the live services that nest one."""

    def matching(self, text: str) -> list[ColumnElement[bool]]:
        raise NotImplementedError

    async def live_services(self, record_id: str) -> list[str]:
        raise NotImplementedError

    async def search(
        self,
        text: str | None,
        limit: int | None,
        offset: int,
        *,
        ids: Sequence[Sequence[str]] = (),
        last_updated: Sequence[DateRange] = (),
    ) -> tuple[int, list[Nested]]:
        model = self.model
        conditions: list[ColumnElement[bool]] = [model.retired_at.is_(None)]
        conditions += [model.id.in_(values) for values in ids]
        conditions += [date_condition(model.last_modified_at, r) for r in last_updated]
        if text:
            conditions += self.matching(text)
        return await self.page(conditions, (model.name, model.id), limit=limit, offset=offset)
