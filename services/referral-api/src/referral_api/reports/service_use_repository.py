"""All SQL of the service-use report: paired counts before and after each referral.

The facts refresh keeps `report_service_use`: one row per referral and measure with a live
count for both the period before and the period after (`service_use`), carrying the
referral's dimensions, record key and person like the other facts, so the report filters and
groups by every dimension the other referral reports do, and a referral or a person has the
cell key here that it has there. Only unrounded grouped sums and counts come back; disclosure
control is applied by the service.
"""

from collections.abc import Sequence

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession

from referral_api.reports.dimensions import fans_out
from referral_api.reports.expressions import flag
from referral_api.reports.models import ReportServiceUse
from referral_api.reports.query import ReportQuery
from referral_api.reports.repository import (
    ReportRepository,
    Scope,
    counted,
    single_people,
)
from referral_api.reports.tables import Row
from signpost_platform.db import AnySelect, table_of

SU = table_of(ReportServiceUse)


class ServiceUseRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.reports = ReportRepository(session)

    async def change(self, query: ReportQuery) -> tuple[list[Row], list[Row]]:
        """Per group and measure: pairs, people, the sums of the counts before and after and of
        the change, and how many used the service less after; and the same per measure over the
        whole scope. The total's counts and sums are summed from the groups when each row is in
        one group; grouped by reason group a referral can be in two, so they are counted again.
        Its people are always counted again (a person can be in two groups)."""
        await self.reports.load_codes()
        scope = self.reports.scope(SU, query, query.group_by)
        rows = await self.reports.rows(_change(scope))
        if not query.group_by:
            await self.reports.add_shared_people(rows, scope, _MEASURE)
            return rows, rows
        whole = self.reports.scope(SU, query, ())
        if fans_out(query.group_by):
            totals = await self.reports.rows(_change(whole))
        else:
            totals = _summed_per_measure(rows, [name for name, _ in scope.dims])
        await self.reports.add_shared_people(rows, scope, _MEASURE)
        await self.reports.add_shared_people(totals, whole, _MEASURE)
        return rows, totals


_MEASURE = SU.c.measure.label("use_measure")


def _change(scope: Scope) -> AnySelect:
    change = SU.c.after - SU.c.before
    return scope.select(
        _MEASURE,
        *counted("pairs", SU),
        *single_people(SU),
        func.sum(SU.c.before).label("before_sum"),
        func.sum(SU.c.after).label("after_sum"),
        func.sum(change).label("change_sum"),
        *counted("fewer", SU, flag(change < 0)),
    ).group_by(SU.c.measure)


def _summed_per_measure(rows: Sequence[Row], group_columns: Sequence[str]) -> list[Row]:
    """One row per measure, each count and sum of `_change` the sum of its groups' values."""
    totals: dict[str, Row] = {}
    for row in rows:
        total = totals.setdefault(row["use_measure"], {"use_measure": row["use_measure"]})
        for name, value in row.items():
            if name != "use_measure" and name not in group_columns:
                total[name] = total.get(name, 0) + int(value or 0)
    return list(totals.values())
