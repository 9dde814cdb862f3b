"""Small-number disclosure control, applied the same way to every report output.

The rules (docs/reports.md explains them):
1. Every count is published by the cell key method (`signpost_schemas.disclosure`): its cell
   key (the sum of its records' keys, computed in the same SQL as the count, raw column
   `<name>_cell_key`) picks a small adjustment from the perturbation table, so the same records
   publish the same value in every report. Then a count of 0 is shown as 0; a true count of 1
   to 7 is suppressed (null, named in the row's `suppressed`); every other adjusted count is
   rounded to the nearest 5 and shown only from 15 (the smallest value whose range, 9 to 21,
   lies wholly above 7), suppressed below that.
2. Every total is computed from the true data (with its own cell key) and then published by
   rule 1 itself: it is never the sum of the published cells.
3. Differencing audit: a published total and the published cells of its breakdown bound each
   suppressed cell (a cell shown as 15 is 9 to 21 with an adjustment of up to 4 and the
   rounding). When those bounds leave a suppressed cell only one possible value, the smallest
   cell still shown is suppressed as well, until no suppressed cell can be worked out (or,
   with nothing left to hide, the total is suppressed).
4. Percentages and rates are computed from the published (rounded) counts, never the true
   ones, and are withheld when either count is suppressed.
5. Statistics over a group (median and 90th percentile waits, mean wellbeing scores) are
   shown only when the number of values they summarise is shown (8 or more).
6. Rows are ordered by their labels, or by the published counts in "top" lists, never by the
   true counts.

Callers holding the `reports:unsuppressed` scope get the true figures, marked as such.
"""

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from referral_api.reports.tables import Column, Report, Row, key_of
from signpost_schemas.disclosure import (
    KEY_SPACE,
    SUPPRESS_UP_TO,
    UNCONTROLLED,
    PerturbationTable,
    cell_key_rule,
    publish_unkeyed,
    ratio,
    shipped_table,
)


def rule(table: PerturbationTable) -> str:
    """The rule as stated in every controlled report's notes."""
    return (
        cell_key_rule(table) + "; where a total and the cells shown would still "
        "pin down a suppressed cell, further cells are suppressed; percentages and rates are "
        "computed from the published counts; medians, percentiles and means are shown only when "
        "the count they summarise is shown."
    )


RULE = rule(shipped_table())


def publish(report: Report, controlled: bool, table: PerturbationTable | None = None) -> Report:
    """The report with disclosure control applied to every row and total (or, for an
    uncontrolled caller, with only the derived values computed)."""
    table = table or shipped_table()
    plan = _count_plan(report.columns)
    rows = [_publish_counts(plan, row, controlled, table) for row in report.rows]
    totals = [_publish_counts(plan, row, controlled, table) for row in report.totals]
    if controlled:
        indexes: _Indexes = {}
        for column in report.columns:
            if column.kind == "count":
                _audit(report, column, rows, totals, table, indexes)
    derived = _derived_plan(report.columns)
    for row in (*rows, *totals):
        _derive(derived, row, controlled)
    if report.ranked:
        within = (*report.group_columns, *report.rank_within)
        measure = report.rank_by or report.chart_measure
        ties = report.category_columns
        rows = rank(rows, within, measure, report.limit, ties)
        totals = rank(totals, within, measure, None, ties)
        # A total over every category ("all reasons") goes after the per-category totals.
        categories = report.category_columns
        totals.sort(key=lambda t: bool(categories) and all(t.get(c) is None for c in categories))
    notes = [*report.notes, rule(table) if controlled else UNCONTROLLED]
    return replace(report, rows=rows, totals=totals, notes=notes)


def rank(
    rows: list[Row],
    group_columns: Iterable[str],
    measure: str,
    limit: int | None = None,
    ties: Iterable[str] = (),
) -> list[Row]:
    """Rows ranked by the published `measure` within each group (groups keep their order);
    suppressed values last; ties in the order of their `ties` values (not recorded last). At
    most `limit` rows per group."""
    columns = list(group_columns)
    groups: dict[tuple[Any, ...], int] = {}
    for row in rows:
        groups.setdefault(tuple(row.get(c) for c in columns), len(groups))
    tie_columns = list(ties)
    rows = sorted(
        rows, key=lambda r: [(r.get(c) is None, str(r.get(c) or "")) for c in tie_columns]
    )

    def key(row: Row) -> tuple[int, float]:
        value = row.get(measure)
        return groups[tuple(row.get(c) for c in columns)], -(value if value is not None else -1)

    ordered = sorted(rows, key=key)
    if limit is None:
        return ordered
    kept: list[Row] = []
    seen: dict[int, int] = {}
    for row in ordered:
        group = groups[tuple(row.get(c) for c in columns)]
        if seen.get(group, 0) < limit:
            kept.append(row)
            seen[group] = seen.get(group, 0) + 1
    return kept


# How each column of a row is published (`_count_plan`): copied as it is, a count keyed by its
# cell key, a registered population, a statistic rounded to its decimals.
_COPY, _COUNT, _POPULATION, _STATISTIC = range(4)
_Plan = list[tuple[str, int, str, int]]


def _count_plan(columns: list[Column]) -> _Plan:
    """Each column's name, how it is published, its key-sum column and its decimals: worked out
    once per report, not once per row."""
    plan: _Plan = []
    for column in columns:
        if column.kind == "count":
            mode = _COUNT
        elif column.kind == "population":
            mode = _POPULATION
        elif column.is_statistic:
            mode = _STATISTIC
        else:
            mode = _COPY
        plan.append((column.name, mode, key_of(column.name), column.decimals))
    return plan


def _publish_counts(plan: _Plan, raw: Row, controlled: bool, table: PerturbationTable) -> Row:
    suppressed: list[str] = []
    published: Row = {"suppressed": suppressed}
    publish_keyed = table.publish
    for name, mode, key, decimals in plan:
        value: Any = raw.get(name)
        if mode == _COUNT:
            value = int(value or 0)
            if controlled:
                # The cell key of one record-key sum (`cell_key`), inline: a report of ten
                # thousand rows publishes a hundred thousand counts.
                value = publish_keyed(value, int(raw.get(key) or 0) % KEY_SPACE)
                if value is None:
                    suppressed.append(name)
        elif mode == _POPULATION and value is not None:
            # A population with no value has no denominator for this group: empty, and not a
            # suppression. A registered population is a published list size, not records.
            value = int(value)
            if controlled:
                value = publish_unkeyed(value)
                if value is None:
                    suppressed.append(name)
        elif mode == _STATISTIC and value is not None:
            value = round(float(value), decimals)
        published[name] = value
    return published


def _derived_plan(columns: list[Column]) -> list[Column]:
    """The columns derived from others: statistics and rates, in the report's order."""
    return [column for column in columns if column.is_statistic or column.is_rate]


def _derive(derived: list[Column], row: Row, controlled: bool) -> None:
    """Withhold statistics whose base is suppressed; compute rates from published counts."""
    suppressed: list[str] = row["suppressed"]
    for column in derived:
        if column.is_statistic:
            if controlled:
                assert column.base is not None
                if row[column.base] is None and row[column.name] is not None:
                    row[column.name] = None
                    suppressed.append(column.name)
        else:
            assert column.numerator is not None and column.denominator is not None
            numerator, denominator = row[column.numerator], row[column.denominator]
            scale = 10_000 if column.kind == "per-10000" else 100
            if controlled and (column.numerator in suppressed or column.denominator in suppressed):
                row[column.name] = None
                suppressed.append(column.name)
            else:
                row[column.name] = ratio(numerator, denominator, scale, column.decimals)


# The differencing audit ----------------------------------------------------------------------


@dataclass(slots=True)
class _Cell:
    """One published cell of a count column (several rows may show it)."""

    column: str
    rows: list[Row]
    value: int | None
    primary: bool  # suppressed as a small number, not by the audit
    table: PerturbationTable
    secondary: bool = False

    def bounds(self) -> tuple[float, float]:
        """What a reader can say about the true count. A suppressed cell is 1 or more: the
        reader cannot tell a small number from a cell suppressed by the audit."""
        if self.value is None:
            return (1, math.inf)
        low, high = self.table.bounds(self.value)
        return (low, math.inf if high is None else high)

    def hide(self) -> None:
        self.secondary, self.value = True, None
        for row in self.rows:
            row[self.column] = None
            if self.column not in row["suppressed"]:
                row["suppressed"].append(self.column)


# The rows under each total, by the values of the categories the total fixes, each row with
# its cell's key (`_members`).
_Members = dict[tuple[Any, ...], list[tuple[Row, tuple[Any, ...]]]]
# Each (fixed categories, cell key columns) pair's `_Members`, built once per report.
_Indexes = dict[tuple[tuple[str, ...], tuple[str, ...]], _Members]


def _members(
    rows: list[Row],
    fixed: tuple[str, ...],
    keys: tuple[str, ...],
    indexes: _Indexes,
) -> _Members:
    """The rows indexed by their values of `fixed`, each with its values of `keys`: built once
    per report for each pair, since hiding a cell never changes a row's categories."""
    index = indexes.get((fixed, keys))
    if index is None:
        index = {}
        for row in rows:
            index.setdefault(tuple(row.get(c) for c in fixed), []).append(
                (row, tuple(row.get(k) for k in keys))
            )
        indexes[fixed, keys] = index
    return index


def _audit(
    report: Report,
    column: Column,
    rows: list[Row],
    totals: list[Row],
    table: PerturbationTable,
    indexes: _Indexes,
) -> None:
    """Suppress further cells of `column` until no suppressed cell can be derived from a
    total and the other cells of its breakdown.

    Linear in the rows: each total finds its rows in an index (`_members`), and a total equal
    to one already audited over cells nothing has hidden since is not audited again (auditing
    it again would hide nothing; a column that varies by nothing has one equal total per
    category row)."""
    name = column.name
    categories = report.category_columns if column.varies_by is None else list(column.varies_by)
    keys = (*report.group_columns, *categories)
    audited: set[tuple[Any, ...]] = set()
    for total in totals:
        fixed = tuple(c for c in categories if total.get(c) is not None)
        values = tuple(total.get(c) for c in fixed)
        members = _members(rows, fixed, keys, indexes).get(values, [])
        seen = (fixed, values, total[name], name in total["suppressed"])
        if not members or seen in audited:
            continue
        cells: dict[tuple[Any, ...], _Cell] = {}
        for row, key in members:
            cell = cells.get(key)
            if cell is None:
                cell = cells[key] = _Cell(name, [], row[name], name in row["suppressed"], table)
            cell.rows.append(row)
        spread_over_categories = len(fixed) < len(categories)
        one_category_each = (
            report.one_category_each
            if column.one_category_each is None
            else column.one_category_each
        )
        adds_up = (
            column.additive
            and report.one_group_each
            and (not spread_over_categories or one_category_each)
        )
        total_cell = _Cell(name, [total], total[name], name in total["suppressed"], table)
        if _protect(list(cells.values()), total_cell, adds_up):
            audited.clear()
        else:
            audited.add(seen)


def _protect(cells: list[_Cell], total: _Cell, adds_up: bool) -> bool:
    """Hide cells, or else the total, until no suppressed cell is pinned; whether any was."""
    hid = False
    while _any_pinned(cells, total, adds_up):
        hid = True
        shown = [c for c in cells if c.value is not None and c.value > 0]
        if not shown:
            total.hide()
            return hid
        min(shown, key=lambda c: c.value or 0).hide()
    return hid


def _any_pinned(cells: list[_Cell], total: _Cell, adds_up: bool) -> bool:
    """Whether the published figures leave any cell suppressed as small one possible value.

    A suppressed cell is 1 to the largest count the table can suppress (16 for an adjustment
    of up to 4), and at most the total. When the cells add up to the total, the suppressed cell
    is at least the total's lowest value less the others' highest, and at most the total's
    highest less the others' lowest; when they add up to more (people, several reasons), only
    the first bound holds.

    The bounds of all cells are added up once, so a pass is linear in the cells, not quadratic:
    a breakdown by two dimensions and a reason has a thousand cells, the data-quality report's
    default view ten thousand.
    """
    if total.secondary:
        return False
    table = total.table
    small = float(table.bounds(None)[1] or SUPPRESS_UP_TO)
    total_low, total_high = (1, small) if total.primary else total.bounds()
    # The bounds of each published value, worked out once per value rather than once per cell.
    known: dict[int | None, tuple[float, float]] = {}
    bounds: list[tuple[float, float]] = []
    for cell in cells:
        found = known.get(cell.value)
        if found is None:
            found = known[cell.value] = cell.bounds()
        bounds.append(found)
    lows = sum(low for low, _ in bounds)
    finite_highs = sum(high for _, high in bounds if high != math.inf)
    unbounded = sum(1 for _, high in bounds if high == math.inf)
    highest = min(small, total_high)
    for cell, (low, high) in zip(cells, bounds, strict=True):
        if not cell.primary:
            continue
        own_unbounded = high == math.inf
        if unbounded - own_unbounded:
            # Another cell has no upper bound: this one is at least 1 and no more.
            least = 1.0
        else:
            least = max(1.0, total_low - (finite_highs - (0 if own_unbounded else high)))
        most = min(highest, total_high - (lows - low)) if adds_up else highest
        if least == most:
            return True
    return False
