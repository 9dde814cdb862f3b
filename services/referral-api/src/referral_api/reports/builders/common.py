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
    # The dimensions it filters and groups by, when not the referral facts' dimensions.
    dimensions: Mapping[str, Dimension] | None = None
    max_group_by: int = MAX_GROUP_BY
    # What `from` and `to` select by.
    period: str = "referral date"

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


def grouped_report(
    query: ReportQuery,
    description: str,
    columns: Sequence[Column],
    rows: list[Row],
    totals: Sequence[Row],
    notes: Sequence[str] = (),
    *,
    then: Callable[[Row], Any] | None = None,
    dimension_notes_first: bool = False,
    **options: Any,
) -> Report:
    """A report of rows per group of the query's group-by, as most builders make it: the
    group-by columns (with the labels of coded ones) before `columns`; the rows labelled and in
    the dimensions' order (then by `then` within a group); the totals with empty group-by
    columns; the notes of dimensions that count a referral in several groups after `notes`
    (or before them)."""
    group_by = query.group_by
    label_rows(rows, group_by)
    by_group = order_key(group_by)
    rows.sort(key=by_group if then is None else lambda row: (by_group(row), then(row)))
    dimension_notes = multi_count_notes(group_by)
    return make_report(
        description,
        [*dimension_columns(group_by), *columns],
        rows,
        [{**blank(group_by), **total} for total in totals],
        [*dimension_notes, *notes] if dimension_notes_first else [*notes, *dimension_notes],
        **options,
    )


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


def ungrouped(query: ReportQuery) -> ReportQuery:
    return replace(query, group_by=())


def sum_counts(rows: Sequence[Row], names: Sequence[str]) -> Row:
    """Counts of disjoint parts added up, with their key sums (keys add up like counts)."""
    summed: Row = {}
    for name in names:
        for column in (name, key_of(name)):
            # Converted once, not per row: the data-quality report adds up ten thousand.
            summed[column] = int(sum([row.get(column) or 0 for row in rows]))
    return summed


def count_of(row: Row | None, name: str, as_name: str | None = None) -> Row:
    """Count `name` of `row` and its key sum (0 when there is no row), renamed `as_name`."""
    target = as_name or name
    found = row or {}
    return {
        target: int(found.get(name) or 0),
        key_of(target): int(found.get(key_of(name)) or 0),
    }


def add_group_referrals(rows: list[Row], groups: Sequence[Row], group_by: Sequence[str]) -> None:
    """Give each row the referrals of its group (`groups`: a `referrals` count per group) as
    `referrals_in_group`, with its key sum: the denominator of a share of the group."""
    by_group = {group_key(group, group_by): group for group in groups}
    for row in rows:
        row.update(
            count_of(by_group.get(group_key(row, group_by)), "referrals", "referrals_in_group")
        )


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
