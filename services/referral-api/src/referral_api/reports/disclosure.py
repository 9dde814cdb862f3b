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
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from heapq import nsmallest
from operator import itemgetter
from typing import Any

from referral_api.reports.tables import Column, Report, Row, key_of, rows_by
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
    rates: _Rates = {}
    for row in (*rows, *totals):
        _derive(derived, row, controlled, rates)
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
    most `limit` rows per group: a group's first `limit` are picked without sorting the rest
    (a ranked report may hold sixty thousand rows for a few hundred shown)."""
    groups = rows_by(rows, _values_of(tuple(group_columns)))
    ties_of = _values_of(tuple(ties))

    def key(row: Row) -> tuple[float, tuple[tuple[bool, str], ...]]:
        value = row.get(measure)
        return (
            -(value if value is not None else -1),
            tuple((tie is None, str(tie or "")) for tie in ties_of(row)),
        )

    ranked: list[Row] = []
    for members in groups.values():
        # nsmallest is sorted(...)[:limit], ties in their order in `rows` as there.
        ranked += sorted(members, key=key) if limit is None else nsmallest(limit, members, key)
    return ranked


@dataclass(frozen=True, slots=True)
class _Plan:
    """How each column of a row is published (`_count_plan`), worked out once per report, not
    once per row: a report of ten thousand rows publishes a hundred thousand counts."""

    # Every column, in the report's order: the published row's keys, "suppressed" first.
    template: dict[str, Any]
    # Copied as they are: dimensions, labels, and the derived columns (`_derive` fills them).
    copied: tuple[str, ...]
    # Counts (keyed by their key-sum column) and registered populations, in the report's order.
    counted: tuple[tuple[str, str, bool], ...]
    # Statistics, rounded to their decimals.
    statistics: tuple[tuple[str, int], ...]


def _count_plan(columns: list[Column]) -> _Plan:
    copied: list[str] = []
    counted: list[tuple[str, str, bool]] = []
    statistics: list[tuple[str, int]] = []
    for column in columns:
        if column.kind in ("count", "population"):
            counted.append((column.name, key_of(column.name), column.kind == "population"))
        elif column.is_statistic:
            statistics.append((column.name, column.decimals))
        else:
            copied.append(column.name)
    template = dict.fromkeys(["suppressed", *(column.name for column in columns)])
    return _Plan(template, tuple(copied), tuple(counted), tuple(statistics))


def _publish_counts(plan: _Plan, raw: Row, controlled: bool, table: PerturbationTable) -> Row:
    suppressed: list[str] = []
    published = plan.template.copy()
    published["suppressed"] = suppressed
    get = raw.get
    for name in plan.copied:
        published[name] = get(name)
    publish_keyed = table.publish
    for name, key, population in plan.counted:
        value: Any = get(name)
        if population:
            # A population with no value has no denominator for this group: empty, and not a
            # suppression. A registered population is a published list size, not records.
            if value is None:
                continue
            value = int(value)
            if controlled:
                value = publish_unkeyed(value)
        else:
            value = int(value or 0)
            if controlled:
                # The cell key of one record-key sum (`cell_key`), inline.
                value = publish_keyed(value, int(get(key) or 0) % KEY_SPACE)
        if value is None:
            suppressed.append(name)
        published[name] = value
    for name, decimals in plan.statistics:
        value = get(name)
        published[name] = None if value is None else round(float(value), decimals)
    return published


# A derived column (`_derived_plan`): whether it is a statistic, its name, then a statistic's
# base (and "") or a rate's numerator and denominator, then a rate's scale and decimals.
_Derived = list[tuple[bool, str, str, str, int, int]]


def _derived_plan(columns: list[Column]) -> _Derived:
    """The columns derived from others: statistics and rates, in the report's order."""
    derived: _Derived = []
    for column in columns:
        if column.is_statistic:
            assert column.base is not None
            derived.append((True, column.name, column.base, "", 0, 0))
        elif column.is_rate:
            assert column.numerator is not None and column.denominator is not None
            scale = 10_000 if column.kind == "per-10000" else 100
            derived.append(
                (False, column.name, column.numerator, column.denominator, scale, column.decimals)
            )
    return derived


# The rates of a report already worked out, by numerator, denominator, scale and decimals
# (`_derive`): published counts repeat, and rounding to a decimal place is most of the cost of a
# rate (a report of ten thousand rows has ninety thousand). `_UNKNOWN`: not worked out yet.
_Rates = dict[tuple[Any, Any, int, int], float | None]
_UNKNOWN: Any = object()


def _derive(derived: _Derived, row: Row, controlled: bool, rates: _Rates) -> None:
    """Withhold statistics whose base is suppressed; compute rates from published counts."""
    suppressed: list[str] = row["suppressed"]
    for is_statistic, name, first, second, scale, decimals in derived:
        if is_statistic:
            if controlled and row[first] is None and row[name] is not None:
                row[name] = None
                suppressed.append(name)
        elif controlled and (first in suppressed or second in suppressed):
            row[name] = None
            suppressed.append(name)
        else:
            key = (row[first], row[second], scale, decimals)
            rate = rates.get(key, _UNKNOWN)
            if rate is _UNKNOWN:
                rate = rates[key] = ratio(*key)
            row[name] = rate


# The differencing audit ----------------------------------------------------------------------


# The rows of each cell under each total: by the values of the categories the total fixes, the
# cells (the rows showing one cell, several when a column varies by fewer categories than the
# rows) in the order first met (`_cells`).
_Cells = dict[tuple[Any, ...], list[list[Row]]]
# Each (fixed categories, cell key columns) pair's `_Cells`, built once per report.
_Indexes = dict[tuple[tuple[str, ...], tuple[str, ...]], _Cells]


def _values_of(columns: tuple[str, ...]) -> Callable[[Row], tuple[Any, ...]]:
    """A row's values of `columns`, as a tuple (None for a column it lacks)."""
    if not columns:
        return lambda row: ()
    if len(columns) == 1:  # itemgetter of one column returns its value, not a tuple
        only = columns[0]
        return lambda row: (row.get(only),)
    getter = itemgetter(*columns)

    def values(row: Row) -> tuple[Any, ...]:
        try:
            found: tuple[Any, ...] = getter(row)
        except KeyError:
            found = tuple(row.get(c) for c in columns)
        return found

    return values


def _cells(
    rows: list[Row],
    fixed: tuple[str, ...],
    keys: tuple[str, ...],
    indexes: _Indexes,
) -> _Cells:
    """The rows gathered by their values of `fixed` into cells by their values of `keys`:
    built once per report for each pair, since hiding a cell never changes a row's
    categories, and shared by every count column with the same categories."""
    index = indexes.get((fixed, keys))
    if index is None:
        fixed_of, key_of_row = _values_of(fixed), _values_of(keys)
        gathered: dict[tuple[Any, ...], dict[tuple[Any, ...], list[Row]]] = {}
        for row in rows:
            values = fixed_of(row)
            under = gathered.get(values)
            if under is None:
                under = gathered[values] = {}
            key = key_of_row(row)
            cell = under.get(key)
            if cell is None:
                under[key] = [row]
            else:
                cell.append(row)
        index = indexes[fixed, keys] = {
            values: list(cells.values()) for values, cells in gathered.items()
        }
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

    Linear in the rows: each total finds its cells in an index (`_cells`); a breakdown with
    no suppressed cell (as small, or by the audit of another total) has nothing to protect;
    and a total equal to one already audited over cells nothing has hidden since is not
    audited again (auditing it again would hide nothing; a column that varies by nothing has
    one equal total per category row)."""
    name = column.name
    categories = report.category_columns if column.varies_by is None else list(column.varies_by)
    keys = (*report.group_columns, *categories)
    one_category_each = (
        report.one_category_each if column.one_category_each is None else column.one_category_each
    )
    audited: set[tuple[Any, ...]] = set()
    for total in totals:
        fixed = tuple(c for c in categories if total.get(c) is not None)
        values = tuple(total.get(c) for c in fixed)
        cells = _cells(rows, fixed, keys, indexes).get(values)
        seen = (fixed, values, total[name], name in total["suppressed"])
        if not cells or seen in audited:
            continue
        # Each cell as its first row shows it: a cell suppressed (as small, or by an audit of
        # another total) is one a reader knows only to be 1 or more.
        primary = [name in cell[0]["suppressed"] for cell in cells]
        if not any(primary):
            audited.add(seen)  # no suppressed cell to pin down
            continue
        spread_over_categories = len(fixed) < len(categories)
        adds_up = (
            column.additive
            and report.one_group_each
            and (not spread_over_categories or one_category_each)
        )
        shown = [cell[0][name] for cell in cells]
        if _protect(name, cells, shown, primary, total, table, adds_up):
            audited.clear()
        else:
            audited.add(seen)


def _hide(name: str, rows: list[Row]) -> None:
    for row in rows:
        row[name] = None
        if name not in row["suppressed"]:
            row["suppressed"].append(name)


def _protect(
    name: str,
    cells: list[list[Row]],
    shown: list[int | None],
    primary: list[bool],
    total: Row,
    table: PerturbationTable,
    adds_up: bool,
) -> bool:
    """Hide cells (`shown`: each cell's published value), or else the total, until no
    suppressed cell is pinned; whether any was."""
    bounds = _Bounds(table)
    total_bounds = (1.0, bounds.small) if name in total["suppressed"] else bounds.of(total[name])
    hid = False
    while _any_pinned(shown, primary, total_bounds, bounds, adds_up):
        hid = True
        positive = [i for i, value in enumerate(shown) if value is not None and value > 0]
        if not positive:
            _hide(name, [total])
            return hid
        smallest = min(positive, key=lambda i: shown[i] or 0)
        shown[smallest] = None
        _hide(name, cells[smallest])
    return hid


class _Bounds:
    """What a reader can say about a true count from its published value, each value's bounds
    worked out once."""

    def __init__(self, table: PerturbationTable) -> None:
        self.table = table
        self.small = float(table.bounds(None)[1] or SUPPRESS_UP_TO)
        self.known: dict[int | None, tuple[float, float]] = {}

    def of(self, value: int | None) -> tuple[float, float]:
        """A suppressed cell is 1 or more: the reader cannot tell a small number from a cell
        suppressed by the audit."""
        found = self.known.get(value)
        if found is None:
            if value is None:
                found = (1.0, math.inf)
            else:
                low, high = self.table.bounds(value)
                found = (float(low), math.inf if high is None else float(high))
            self.known[value] = found
        return found


def _any_pinned(
    shown: list[int | None],
    primary: list[bool],
    total_bounds: tuple[float, float],
    bounds: _Bounds,
    adds_up: bool,
) -> bool:
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
    total_low, total_high = total_bounds
    ranges = [bounds.of(value) for value in shown]
    lows = sum(low for low, _ in ranges)
    finite_highs = sum(high for _, high in ranges if high != math.inf)
    unbounded = sum(1 for _, high in ranges if high == math.inf)
    highest = min(bounds.small, total_high)
    for is_primary, (low, high) in zip(primary, ranges, strict=True):
        if not is_primary:
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
