"""Small-number disclosure control, applied the same way to every report output.

The rules (docs/reports.md explains why they stop differencing):
1. A count of 0 is shown as 0; a count of 1 to 7 is suppressed (null, listed in the row's
   `suppressed`); every other count is rounded to the nearest 5 (8 becomes 10, 12 becomes 10,
   13 becomes 15).
2. Every total is computed from the unrounded data and then published by rule 1 itself: it is
   never the sum of the published cells, and cells are never adjusted to add up to it.
3. Percentages and rates are computed from the published (rounded) counts, never from the
   true ones, so they carry no more information than the counts shown beside them; they are
   withheld when either count is suppressed.
4. Statistics over a group (median and 90th percentile waits, mean wellbeing change) are shown
   only when the number of values they summarise is itself shown, i.e. 8 or more.
5. Rows are ordered by their labels, or by the published counts in "top" lists, never by the
   true counts (an ordering would leak the suppressed values).

Callers holding the `reports:unsuppressed` scope get the true figures, marked as such.
"""

from typing import Any

from referral_api.reports.tables import Column, Report, Row

SUPPRESS_UP_TO = 7
ROUND_TO = 5
RULE = (
    f"Counts of 1 to {SUPPRESS_UP_TO} are suppressed (null, named in the row's `suppressed`); "
    f"other counts are rounded to the nearest {ROUND_TO}; totals are computed from the true "
    "figures and then rounded, never summed from rounded cells; percentages and rates are "
    "computed from the rounded counts; medians, percentiles and means are shown only for groups "
    f"of more than {SUPPRESS_UP_TO}."
)
UNCONTROLLED = (
    "UNSUPPRESSED: true counts for a caller with the reports:unsuppressed scope. Do not publish "
    "or share these figures; ask for disclosure=controlled for a publishable version."
)


def publish_count(count: int) -> int | None:
    """A count as published: 0 stays 0, 1 to 7 is suppressed (None), others round to 5."""
    if count < 0:
        raise ValueError("a count cannot be negative")
    if count == 0:
        return 0
    if count <= SUPPRESS_UP_TO:
        return None
    return (count + ROUND_TO // 2) // ROUND_TO * ROUND_TO


def ratio(
    numerator: float | None, denominator: float | None, scale: int, decimals: int
) -> float | None:
    """numerator / denominator * scale, or None when either is missing or the denominator 0."""
    if numerator is None or denominator is None or denominator == 0:
        return None
    return round(numerator * scale / denominator, decimals)


def publish(report: Report, controlled: bool) -> Report:
    """The report with disclosure control applied to every row and the total (or, for an
    uncontrolled caller, with only the derived values computed)."""
    rows = [_publish_row(report.columns, row, controlled) for row in report.rows]
    totals = [_publish_row(report.columns, row, controlled) for row in report.totals]
    notes = [*report.notes, RULE if controlled else UNCONTROLLED]
    return Report(
        report.name,
        report.title,
        report.description,
        report.columns,
        rows,
        totals,
        notes,
        report.chart_measure,
    )


def _publish_row(columns: list[Column], raw: Row, controlled: bool) -> Row:
    published: Row = {}
    suppressed: list[str] = []
    for column in columns:
        value: Any = raw.get(column.name)
        if column.is_count:
            value = int(value or 0)
            if controlled:
                shown = publish_count(value)
                if shown is None:
                    suppressed.append(column.name)
                value = shown
        elif column.is_statistic:
            assert column.base is not None
            base = int(raw.get(column.base) or 0)
            if value is not None and controlled and publish_count(base) is None:
                suppressed.append(column.name)
                value = None
            elif value is not None:
                value = round(float(value), column.decimals)
        published[column.name] = value
    for column in columns:
        if column.is_rate:
            assert column.numerator is not None and column.denominator is not None
            numerator = published[column.numerator]
            denominator = published[column.denominator]
            scale = 10_000 if column.kind == "per-10000" else 100
            if controlled and (numerator is None or denominator is None):
                if raw.get(column.denominator):
                    suppressed.append(column.name)
                published[column.name] = None
            else:
                published[column.name] = ratio(numerator, denominator, scale, column.decimals)
    published["suppressed"] = suppressed
    return published
