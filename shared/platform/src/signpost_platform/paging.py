"""One page of a search, the same way everywhere: the rows of the page, and the total when the
caller asks for it (counted only when the page itself cannot tell it)."""

from collections import namedtuple
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, Protocol

from sqlalchemy import ColumnElement, UnaryExpression, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from signpost_platform.db import AnySelect, execute_core


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
    most `count`, and how many rows of `model` meet `conditions` when `with_total`.

    The total comes with the page, in the same query (a window count over every matching row,
    cut off as the last column); only a page past the last row, which has no row to carry it,
    counts on its own."""
    if not with_total:
        return None, list(await execute_core(session, statement.limit(count).offset(offset)))
    counted_page = statement.add_columns(func.count().over()).limit(count).offset(offset)
    result = await execute_core(session, counted_page)
    rows = list(result)
    if rows:
        named = _row_type(tuple(result.keys())[:-1])
        return rows[0][-1], [named._make(row[:-1]) for row in rows]
    if offset == 0:
        return 0, []
    counted = select(func.count()).select_from(model).where(*conditions)
    return (await execute_core(session, counted)).scalar_one(), []


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


async def sorted_page(
    session: AsyncSession,
    statement: AnySelect,
    model: type[Any],
    conditions: Sequence[ColumnElement[bool]],
    search: SortedSearch,
) -> tuple[int | None, list[Any]]:
    """The page `search` asks for of the rows of `model` meeting `conditions`, selected by
    `statement` and ordered by the search's `_sort` (`sort_order`)."""
    ordered = statement.where(*conditions).order_by(*sort_order(model, search.sort))
    return await page(
        session,
        ordered,
        model,
        conditions,
        count=search.count,
        offset=search.offset,
        with_total=search.with_total,
    )
