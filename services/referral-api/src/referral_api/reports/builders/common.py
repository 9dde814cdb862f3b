"""What every report builder shares: the report spec, the context, and the pieces that
label, order, group and total rows."""

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession

from referral_api.reports.dimensions import (
    Dimension,
    catalogue,
    column_name,
    dimension,
)
from referral_api.reports.query import MAX_GROUP_BY, Option, ReportQuery
from referral_api.reports.tables import Column, Report, Row, key_of
from signpost_schemas.disclosure import PerturbationTable, cell_key


@dataclass(frozen=True, slots=True)
class Context:
    """What report builders may need beyond the read session."""

    pseudonym_key: SecretStr
    disclosure_key: SecretStr
    ptable: PerturbationTable


Builder = Callable[[AsyncSession, ReportQuery, Context], Awaitable[Report]]


@dataclass(frozen=True, slots=True)
class ReportSpec:
    """One report endpoint: `/reports/{name}`."""

    name: str
    title: str
    description: str
    build: Builder
    options: tuple[Option, ...] = ()
    # The title the report itself carries, where longer than the catalogue's.
    heading: str | None = None
    # Dimensions the report breaks down by itself: they may be filtered, not grouped by.
    reserved: tuple[str, ...] = ()
    default_group_by: tuple[str, ...] = ()
    # What must be loaded before the report can run (a 409 until it is).
    needs: str | None = None
    # The dimensions it filters and groups by, when not those of the report facts; such a
    # report reads its own tables and does not need the facts brought up to date.
    dimensions: Mapping[str, Dimension] | None = None
    max_group_by: int = MAX_GROUP_BY
    # What `from` and `to` select by.
    period: str = "referral date"

    @property
    def uses_facts(self) -> bool:
        return self.dimensions is None

    def offered(self) -> Mapping[str, Dimension]:
        """The dimensions this report filters and groups by."""
        if self.dimensions is not None:
            return self.dimensions
        return {
            name: found
            for name, found in catalogue().items()
            if found.reports is None or self.name in found.reports
        }


def make_report(*args: Any, title: str = "", **kwargs: Any) -> Report:
    """A report as a builder makes it: its name and title come from its `ReportSpec` (`run`),
    unless a view of it has a title of its own."""
    return Report("", title, *args, **kwargs)


def dimension_columns(group_by: Sequence[str]) -> list[Column]:
    columns: list[Column] = []
    for name in group_by:
        found = dimension(name)
        columns.append(Column(column_name(name), found.description, "dimension"))
        if found.labels:
            columns.append(Column(f"{column_name(name)}_label", f"{name} (label)", "label"))
    return columns


def label_rows(rows: list[Row], group_by: Sequence[str]) -> list[Row]:
    """Add the label columns of coded dimensions."""
    for name in group_by:
        found = dimension(name)
        if found.labels:
            key = column_name(name)
            for row in rows:
                row[f"{key}_label"] = found.label(row.get(key))
    return rows


def order_key(
    group_by: Sequence[str], dimensions: Mapping[str, Dimension] | None = None
) -> Callable[[Row], tuple[Any, ...]]:
    """Rows in the dimensions' own order (code-list order, months ascending), not recorded last."""
    known = catalogue() if dimensions is None else dimensions
    positions = {
        name: {value: index for index, value in enumerate(known[name].values or ())}
        for name in group_by
    }

    def key(row: Row) -> tuple[Any, ...]:
        parts: list[Any] = []
        for name in group_by:
            value = row.get(column_name(name))
            order: Mapping[Any, int] = positions[name]
            parts.append(
                (value is None, order.get(value, len(order)), "" if value is None else str(value))
            )
        return tuple(parts)

    return key


def group_key(row: Row, group_by: Sequence[str]) -> tuple[Any, ...]:
    return tuple(row.get(column_name(name)) for name in group_by)


def fans_out(group_by: Sequence[str]) -> bool:
    """Whether a referral may be in several groups (grouped by reasons, support groups)."""
    known = catalogue()
    return any(name in known and known[name].fact is not None for name in group_by)


def ungrouped(query: ReportQuery) -> ReportQuery:
    return replace(query, group_by=())


def sum_counts(rows: Sequence[Row], names: Sequence[str]) -> Row:
    """Counts of disjoint parts added up, with their key sums (keys add up like counts)."""
    summed: Row = {}
    for name in names:
        for column in (name, key_of(name)):
            summed[column] = sum(int(row.get(column) or 0) for row in rows)
    return summed


def count_of(row: Row | None, name: str, as_name: str | None = None) -> Row:
    """Count `name` of `row` and its key sum (0 when there is no row), renamed `as_name`."""
    target = as_name or name
    found = row or {}
    return {
        target: int(found.get(name) or 0),
        key_of(target): int(found.get(key_of(name)) or 0),
    }


def blank(group_by: Sequence[str]) -> Row:
    return {column_name(name): None for name in group_by}


def shown(counted: Row, name: str, controlled: bool, table: PerturbationTable) -> str:
    value = int(counted.get(name) or 0)
    if not controlled:
        return f"{value:,}"
    published = table.publish(value, cell_key(counted.get(key_of(name))))
    return "a suppressed number of" if published is None else f"about {published:,}"


def multi_count_notes(group_by: Sequence[str]) -> list[str]:
    """What grouping by dimensions with several values per referral means, once each."""
    known = catalogue()
    notes = (known[name].note for name in group_by if name in known)
    return list(dict.fromkeys(note for note in notes if note))


REASON_DIMENSIONS = ("reason", "reason-group")
