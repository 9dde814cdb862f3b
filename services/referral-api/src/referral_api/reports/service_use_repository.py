"""All SQL of the service-use report: paired counts before and after each referral.

The counts live in `service_use` (one per referral, measure and period); the referral's
dimensions, record key and person come from the report facts (`report_referral`, through
`report_key`), so the report filters and groups by every dimension the other referral reports
do, and a referral or a person has the cell key here that it has there. A referral is paired
for a measure when it has a live count for both the period before and the period after.
Only unrounded grouped sums and counts come back; disclosure control is applied by the service.
"""

from collections.abc import Sequence

from sqlalchemy import Subquery, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from referral_api.reports.expressions import flag
from referral_api.reports.models import ReportKey, ReportReferral
from referral_api.reports.query import ReportQuery
from referral_api.reports.repository import ReportRepository, _people, counted
from referral_api.reports.tables import Row
from referral_api.service_use.models import ServiceUse
from signpost_platform.db import table_of
from signpost_schemas.fhir.service_use import WITHDRAWN_STATUSES

SU = table_of(ServiceUse)
KEYS = table_of(ReportKey)
F = table_of(ReportReferral)


def _pairs() -> Subquery:
    """One row per referral and measure with a live count before and after: the two counts.

    A join of the counts before to those after, not a grouping with `HAVING count(DISTINCT
    period) = 2`: a referral holds at most one count per measure and period (the table's
    unique key), and PostgreSQL, unable to estimate such a HAVING, took the pairs for a few
    dozen and looked each one's facts up in a nested loop (seconds at 100,000 referrals)."""
    before = SU.alias("before_count")
    after = SU.alias("after_count")
    return (
        select(
            before.c.referral_id,
            before.c.measure,
            before.c.count.label("before"),
            after.c.count.label("after"),
        )
        .select_from(
            before.join(
                after,
                and_(
                    after.c.referral_id == before.c.referral_id,
                    after.c.measure == before.c.measure,
                ),
            )
        )
        .where(
            before.c.period == "before",
            after.c.period == "after",
            before.c.status.not_in(WITHDRAWN_STATUSES),
            after.c.status.not_in(WITHDRAWN_STATUSES),
        )
        .subquery("pairs")
    )


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
        pairs = _pairs()
        scope = self.reports.scope(F, query, group_by)
        scope.from_ = scope.from_.join(KEYS, KEYS.c.referral_key == F.c.referral_key).join(
            pairs, pairs.c.referral_id == KEYS.c.referral_id
        )
        change = pairs.c.after - pairs.c.before
        statement = scope.select(
            pairs.c.measure.label("use_measure"),
            *counted("pairs", F),
            *_people(F),
            func.sum(pairs.c.before).label("before_sum"),
            func.sum(pairs.c.after).label("after_sum"),
            func.sum(change).label("change_sum"),
            *counted("fewer", F, flag(change < 0)),
        ).group_by(pairs.c.measure)
        return await self.reports.rows(statement)
