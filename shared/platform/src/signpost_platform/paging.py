"""One page of a search, the same way everywhere: the rows of the page, and the total when the
caller asks for it (counted only when the page itself cannot tell it)."""

from collections import namedtuple
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, Any, Protocol

from fastapi import Query
from sqlalchemy import ColumnElement, Integer, UnaryExpression, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from signpost_platform.db import AnySelect, execute_core
from signpost_platform.fhir.search import MAX_OFFSET

# The paging parameters of the lists that are not FHIR searches (the outboxes' messages and
# hand-offs): a page of 1 to 100 rows, from a start no further in than a FHIR search's `_offset`
# may go (a larger one cannot be held by the databases' integers: refused, not a 500).
Limit = Annotated[int, Query(ge=1, le=100)]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]


@lru_cache(maxsize=256)
def _row_type(columns: tuple[str, ...]) -> Any:  # a namedtuple class
    """A row of the page without its window count, still read by position or column name (as
    the database's rows are)."""
    return namedtuple("PageRow", columns, rename=True)


def sort_order(model: type[Any], sort: Sequence[tuple[str, bool]]) -> list[UnaryExpression[Any]]:
    """ORDER BY for a search's `_sort` (attribute name, descending), then the id: a stable order,
    so pages never overlap."""
    order = []
    for name, descending in sort:
        column = getattr(model, name)
        order.append(column.desc() if descending else column.asc())
    order.append(model.id.asc())
    return order


@dataclass(frozen=True, slots=True)
class PageStatements:
    """A search's page, with the page's size and start as bind parameters (`page_count`,
    `page_offset`): built once, it serves every page of the search (`run_page`)."""

    page: AnySelect
    model: type[Any]
    conditions: Sequence[ColumnElement[bool]]
    with_total: bool

    def counted(self) -> AnySelect:
        """How many rows of `model` meet `conditions` (for a page past the last row)."""
        return select(func.count()).select_from(self.model).where(*self.conditions)


def page_statements(
    statement: AnySelect,
    model: type[Any],
    conditions: Sequence[ColumnElement[bool]],
    *,
    with_total: bool = True,
) -> PageStatements:
    """The page of `statement` (already filtered by `conditions` and ordered), with the total
    when `with_total`: a window count over every matching row, cut off as the last column."""
    limited = statement.add_columns(func.count().over()) if with_total else statement
    limited = limited.limit(bindparam("page_count", type_=Integer)).offset(
        bindparam("page_offset", type_=Integer)
    )
    return PageStatements(limited, model, conditions, with_total)


async def run_page(
    session: AsyncSession,
    statements: PageStatements,
    *,
    count: int,
    offset: int,
    values: Mapping[str, Any] | None = None,
) -> tuple[int | None, list[Any]]:
    """The rows of the page from `offset`, at most `count`, and how many rows meet the
    conditions when the statements count them; `values` are the statement's other parameters.

    The total comes with the page; only a page past the last row, which has no row to carry
    it, counts on its own."""
    result = await execute_core(
        session, statements.page, {**(values or {}), "page_count": count, "page_offset": offset}
    )
    rows = list(result)
    if not statements.with_total:
        return None, rows
    if rows:
        named = _row_type(tuple(result.keys())[:-1])
        return rows[0][-1], [named._make(row[:-1]) for row in rows]
    return await empty_page_total(session, statements, offset, values), []


async def empty_page_total(
    session: AsyncSession,
    statements: PageStatements,
    offset: int,
    values: Mapping[str, Any] | None = None,
) -> int:
    """The total of a counted search whose page came back empty, so no row carried it: none
    match when it was the first page; a page past the last row counts them on its own."""
    if offset == 0:
        return 0
    return (await execute_core(session, statements.counted(), values)).scalar_one()  # type: ignore[no-any-return]


async def page(
    session: AsyncSession,
    statement: AnySelect,
    model: type[Any],
    conditions: Sequence[ColumnElement[bool]],
    *,
    count: int,
    offset: int,
    with_total: bool = True,
) -> tuple[int | None, list[Any]]:
    """The rows of `statement` (already filtered by `conditions` and ordered) from `offset`, at
    most `count`, and how many rows of `model` meet `conditions` when `with_total`
    (`page_statements`, `run_page`)."""
    statements = page_statements(statement, model, conditions, with_total=with_total)
    return await run_page(session, statements, count=count, offset=offset)


class SortedSearch(Protocol):
    """What a search filter says of its page: its size and start, its `_sort` and whether the
    total is wanted."""

    @property
    def count(self) -> int: ...

    @property
    def offset(self) -> int: ...

    @property
    def sort(self) -> Sequence[tuple[str, bool]]: ...

    @property
    def with_total(self) -> bool: ...


def sorted_page_statements(
    statement: AnySelect,
    model: type[Any],
    conditions: Sequence[ColumnElement[bool]],
    sort: Sequence[tuple[str, bool]],
    *,
    with_total: bool,
) -> PageStatements:
    """The page statements of the rows of `model` meeting `conditions`, selected by `statement`
    and ordered by a search's `_sort` (`sort_order`)."""
    ordered = statement.where(*conditions).order_by(*sort_order(model, sort))
    return page_statements(ordered, model, conditions, with_total=with_total)


async def sorted_page(
    session: AsyncSession,
    statement: AnySelect,
    model: type[Any],
    conditions: Sequence[ColumnElement[bool]],
    search: SortedSearch,
) -> tuple[int | None, list[Any]]:
    """The page `search` asks for of the rows of `model` meeting `conditions`, selected by
    `statement` and ordered by the search's `_sort` (`sort_order`)."""
    statements = sorted_page_statements(
        statement, model, conditions, search.sort, with_total=search.with_total
    )
    return await run_page(session, statements, count=search.count, offset=search.offset)
