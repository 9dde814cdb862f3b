"""All SQL of the data-quality report, from the data-quality facts.

The facts refresh keeps, per day received (UTC), source system and sender, the referrals
received and those with each gap flag, with their key sums (`report_quality_day`), the same per
month (`report_quality_month`), and each unmapped code recorded as a gap (`report_unmapped`), so
a request sums a few rows per sender and month (or day, for a period that starts or ends within
a month) rather than counting every referral and gap. The record keys are the referrals' own,
so a count here has the cell key the same referrals have in every other report. Only
unrounded grouped counts come back; disclosure control is applied by the service.
"""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.schema import Table

from referral_api.reports.data_quality import QUALITY_FLAGS
from referral_api.reports.expressions import day_month_number
from referral_api.reports.models import ReportQualityDay, ReportQualityMonth, ReportUnmapped
from referral_api.reports.query import ReportQuery
from referral_api.reports.repository import ReportRepository, in_months, integer_sum
from referral_api.reports.tables import Row, key_of
from signpost_platform.cell_keys import key_sum
from signpost_platform.db import AnySelect, dialect_of, table_of

DAYS = table_of(ReportQualityDay)
MONTHS = table_of(ReportQualityMonth)
UNMAPPED = table_of(ReportUnmapped)


class DataQualityRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.dialect = dialect_of(session)
        # Its rows are values, not codes: only the month number is turned into YYYY-MM.
        self.reports = ReportRepository(session)

    def _dimension(self, table: Table, name: str) -> ColumnElement[Any]:
        if name == "source-system":
            return table.c.source_system
        if name == "sender":
            return table.c.sender
        if table is MONTHS:
            return table.c.month
        return day_month_number(self.dialect, table.c.received_on)

    def _select(self, table: Table, query: ReportQuery, *measures: Any) -> AnySelect:
        """The measures over the rows received in the period from the filtered senders,
        grouped by the query's dimensions."""
        where: list[ColumnElement[bool]] = []
        if table is MONTHS:
            where.extend(in_months(table.c.month, query))
        else:
            if query.first_day is not None:
                where.append(table.c.received_on >= query.first_day)
            if query.last_day is not None:
                where.append(table.c.received_on <= query.last_day)
        if "source-system" in query.filters:
            where.append(table.c.source_system.in_(query.filters["source-system"]))
        if "sender" in query.filters:
            where.append(table.c.sender.in_(query.filters["sender"]))
        dims = [self._dimension(table, name) for name in query.group_by]
        return (
            select(
                *(
                    expr.label(name.replace("-", "_"))
                    for name, expr in zip(query.group_by, dims, strict=True)
                ),
                *measures,
            )
            .where(*where)
            .group_by(*dims)
        )

    async def warning_counts(
        self, query: ReportQuery, counts: Sequence[str] = ("referrals", *QUALITY_FLAGS)
    ) -> list[Row]:
        """Per group: the `counts` and their key sums, of referrals received, with any gap,
        having each warning, with other gaps and with an unmapped code on any element
        (`QUALITY_FLAGS`). Summed from the months when the period is whole months (or none),
        else from the days."""
        table = MONTHS if query.whole_months else DAYS
        sums = [
            integer_sum(table.c[name], name) for count in counts for name in (count, key_of(count))
        ]
        return await self.reports.rows(self._select(table, query, *sums), coded=False)

    async def unmapped_codes(self, query: ReportQuery) -> list[Row]:
        """Per group, element and code: the referrals with a gap of that unmapped code."""
        statement = self._select(
            UNMAPPED,
            query,
            UNMAPPED.c.element.label("element"),
            UNMAPPED.c.code.label("code"),
            func.count().label("referrals"),
            key_sum(UNMAPPED.c.record_key).label(key_of("referrals")),
        ).group_by(UNMAPPED.c.element, UNMAPPED.c.code)
        return await self.reports.rows(statement, coded=False)
