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

from referral_api.reports.expressions import flag
from referral_api.reports.models import ReportServiceUse
from referral_api.reports.query import ReportQuery
from referral_api.reports.repository import ReportRepository, counted, single_people
from referral_api.reports.tables import Row
from signpost_platform.db import table_of

SU = table_of(ReportServiceUse)


class ServiceUseRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.reports = ReportRepository(session)

    async def change(self, query: ReportQuery) -> tuple[list[Row], list[Row]]:
        """Per group and measure: pairs, people, the sums of the counts before and after and of
        the change, and how many used the service less after; and the same per measure over the
        whole scope (computed, not summed: a referral in two reason groups counts once)."""
        await self.reports.load_codes()
        rows = await self._grouped(query, query.group_by)
        if not query.group_by:
            return rows, rows
        return rows, await self._grouped(query, ())

    async def _grouped(self, query: ReportQuery, group_by: Sequence[str]) -> list[Row]:
        scope = self.reports.scope(SU, query, group_by)
        measure = SU.c.measure.label("use_measure")
        change = SU.c.after - SU.c.before
        statement = scope.select(
            measure,
            *counted("pairs", SU),
            *single_people(SU),
            func.sum(SU.c.before).label("before_sum"),
            func.sum(SU.c.after).label("after_sum"),
            func.sum(change).label("change_sum"),
            *counted("fewer", SU, flag(change < 0)),
        ).group_by(SU.c.measure)
        rows = await self.reports.rows(statement)
        await self.reports.add_shared_people(rows, scope, measure)
        return rows
