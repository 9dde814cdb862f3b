"""All SQL of the service-use report: paired counts before and after each referral.

The facts refresh keeps `report_service_use`: one row per referral and measure with a live
count for both the period before and the period after (`service_use`), carrying the
referral's dimensions, record key and person like the other facts, so the report filters and
groups by every dimension the other referral reports do, and a referral or a person has the
cell key here that it has there; and `report_service_use_reason`, the same rows once per
reason group of their referral, which the report reads when grouped by reason group. Only
unrounded grouped sums and counts come back; disclosure control is applied by the service.

People are counted per measure by their previous month (docs/reports.md) when the query
allows it (`first_rows_of`) and the breakdown has a column
(`SERVICE_USE_PREVIOUS_MONTH_COLUMNS`); otherwise by the distinct pseudonyms of the people
with other referrals (`add_shared_people`).
"""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.schema import Table

from referral_api.reports.dimensions import fans_out
from referral_api.reports.expressions import flag
from referral_api.reports.facts_repository import SERVICE_USE_MONTHS
from referral_api.reports.models import (
    PREVIOUS_MONTH,
    REASON_GROUP_PREVIOUS_MONTH,
    SERVICE_USE_PREVIOUS_MONTH_COLUMNS,
    ReportServiceUse,
    ReportServiceUseReason,
)
from referral_api.reports.query import ReportQuery
from referral_api.reports.repository import (
    ONCE,
    PEOPLE_OVERALL,
    FirstRows,
    ReportRepository,
    Scope,
    counted,
    first_rows_of,
    integer_sum,
    monthly_sums,
    once_totals,
    people_overall_in_totals,
    single_people,
)
from referral_api.reports.tables import Row
from signpost_platform.db import AnySelect, table_of

SU = table_of(ReportServiceUse)
SU_REASON = table_of(ReportServiceUseReason)


class ServiceUseRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.reports = ReportRepository(session)

    async def change(self, query: ReportQuery) -> tuple[list[Row], list[Row]]:
        """Per group and measure: pairs, people, the sums of the counts before and after, and
        how many used the service less after; and the same per measure over the
        whole scope. Grouped by reason group (not by reason) the rows are read from the facts
        by reason group, where each pair is once in each of its referral's groups."""
        await self.reports.load_codes()
        by_reason_group = "reason-group" in query.group_by and "reason" not in query.group_by
        table = SU_REASON if by_reason_group else SU
        scope = self.reports.scope(table, query, query.group_by)
        first_rows = first_rows_of(query)
        in_group = SERVICE_USE_PREVIOUS_MONTH_COLUMNS.get(frozenset(query.group_by))
        if first_rows is not None and in_group is not None:
            if table is SU_REASON and self.reports.monthly(query, SERVICE_USE_MONTHS):
                return await self._by_previous_months_monthly(query, first_rows, in_group)
            return await self._by_previous_months(scope, first_rows, in_group)
        rows = await self.reports.rows(_change(scope, single_people(table)))
        if not query.group_by:
            await self.reports.add_shared_people(rows, scope, _measure(table))
            return rows, rows
        whole = self.reports.scope(SU, query, ())
        if fans_out(query.group_by):
            totals = await self.reports.rows(_change(whole, single_people(SU)))
        else:
            totals = _summed_per_measure(rows, [name for name, _ in scope.dims])
        await self.reports.add_shared_people(rows, scope, _measure(table))
        await self.reports.add_shared_people(totals, whole, _measure(SU))
        return rows, totals

    async def _by_previous_months(
        self, scope: Scope, first_rows: FirstRows, in_group: str
    ) -> tuple[list[Row], list[Row]]:
        """`change` in one scan, people counted per measure by their previous month in the
        group (`in_group`) and, for the totals, in any group. By reason group, the totals are
        counted on each pair's `use_first` row; otherwise each pair is in one group, and the
        totals are the groups' sums. Every pair has a `use_first` row because every referral
        has a reason: one sent without is kept with `reason-not-recorded`
        (`signpost_schemas.fhir.service_request`), as the support-match total relies on too."""
        table = scope.table
        people = first_rows.people(table, in_group)
        if table is SU_REASON:
            once = table.c.use_first
            overall = first_rows.people(table, PREVIOUS_MONTH, ONCE + "people", once == 1)
            rows = await self.reports.rows(
                _change(scope, people, _change_measures(table, overall, once, ONCE))
            )
            return rows, list(once_totals(rows, "use_measure").values())
        if not scope.dims:
            rows = await self.reports.rows(_change(scope, people))
            return rows, rows
        overall = first_rows.people(table, PREVIOUS_MONTH, PEOPLE_OVERALL)
        rows = await self.reports.rows(_change(scope, [*people, *overall]))
        totals = _summed_per_measure(rows, [name for name, _ in scope.dims])
        people_overall_in_totals(rows, *totals)
        return rows, totals

    async def _by_previous_months_monthly(
        self, query: ReportQuery, first_rows: FirstRows, in_group: str
    ) -> tuple[list[Row], list[Row]]:
        """`_by_previous_months` by reason group (and role) over whole months, unfiltered, from
        the monthly counts kept by the refresh (`SERVICE_USE_MONTHS`): a group's people are its
        pairs whose previous month in the group (`in_group`) is before the range (or none), the
        totals' the `use_first` pairs by their previous month of any group."""
        table = SERVICE_USE_MONTHS.table

        def change(prefix: str, previous: ColumnElement[Any]) -> list[ColumnElement[Any]]:
            pairs, tags = table.c[prefix + "pairs"], table.c[prefix + "tags"]
            return [
                *monthly_sums(table, prefix + "pairs"),
                *first_rows.monthly_people(pairs, tags, previous, prefix + "people"),
                integer_sum(table.c[prefix + "before_sum"], prefix + "before_sum"),
                integer_sum(table.c[prefix + "after_sum"], prefix + "after_sum"),
                *monthly_sums(table, prefix + "fewer"),
            ]

        in_group_previous = table.c[_MONTHLY_PREVIOUS[in_group]]
        statement = (
            self.reports.monthly_scope(table, query)
            .select(
                _measure(table),
                *change("", in_group_previous),
                *change(ONCE, table.c.first_previous),
            )
            .group_by(table.c.measure)
        )
        rows = await self.reports.rows(statement)
        return rows, list(once_totals(rows, "use_measure").values())


# The monthly counts' key holding each previous-month column of the facts by reason group.
_MONTHLY_PREVIOUS = {
    REASON_GROUP_PREVIOUS_MONTH: "previous_group",
    "previous_month_by_role_reason_group": "previous_role_group",
}


def _measure(table: Table) -> ColumnElement[Any]:
    return table.c.measure.label("use_measure")


def _change(
    scope: Scope, people: Sequence[ColumnElement[Any]], more: Sequence[ColumnElement[Any]] = ()
) -> AnySelect:
    """Per group and measure: `_change_measures` with `people` (and the columns `more`)."""
    table = scope.table
    return scope.select(_measure(table), *_change_measures(table, people), *more).group_by(
        table.c.measure
    )


def _change_measures(
    table: Table,
    people: Sequence[ColumnElement[Any]],
    only: ColumnElement[Any] | None = None,
    prefix: str = "",
) -> list[ColumnElement[Any]]:
    """Pairs, `people`, the sums of the counts before and after (the change's is their
    difference), and how many used the service less after; of the rows where the flag `only`
    is 1 (all when None), named with `prefix`."""
    change = table.c.after - table.c.before

    def summed(value: ColumnElement[Any], name: str) -> ColumnElement[Any]:
        return func.sum(value if only is None else value * only).label(prefix + name)

    fewer = flag(change < 0)
    return [
        *counted(prefix + "pairs", table, only),
        *people,
        summed(table.c.before, "before_sum"),
        summed(table.c.after, "after_sum"),
        *counted(prefix + "fewer", table, fewer if only is None else fewer * only),
    ]


def _summed_per_measure(rows: Sequence[Row], group_columns: Sequence[str]) -> list[Row]:
    """One row per measure, each count and sum of `_change` the sum of its groups' values."""
    totals: dict[str, Row] = {}
    for row in rows:
        total = totals.setdefault(row["use_measure"], {"use_measure": row["use_measure"]})
        for name, value in row.items():
            if name != "use_measure" and name not in group_columns:
                total[name] = total.get(name, 0) + int(value or 0)
    return list(totals.values())
