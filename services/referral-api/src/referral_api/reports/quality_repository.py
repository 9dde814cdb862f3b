"""All SQL of the data-quality report: the recorded gaps of referrals joined to the referrals.

Unlike the other reports this reads the normalised tables, not the report facts: the facts
classify referrals by referral date and the person's dimensions, while this report needs the
sender (requester), the source system and the month Signpost received the referral
(`created_at`), and `referral_gap` is small (rows only for referrals with gaps) and read by its
primary key (`referral_id` first). The referrals received are read through
`ix_referral_created_at_source_system`, which holds every column read here, so PostgreSQL
counts them from the index rather than from the table. Only unrounded grouped counts come back;
disclosure control is applied by the service.
"""

from typing import Any

from sqlalchemy import and_, case, func, not_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from referral_api.quality.models import ReferralGap
from referral_api.referrals.models import Referral
from referral_api.reports.data_quality import ANY_UNMAPPED, OTHER_GAP, WARNINGS, QualityWarning
from referral_api.reports.expressions import month_number
from referral_api.reports.query import ReportQuery
from referral_api.reports.tables import Row, key_of
from signpost_platform.cell_keys import distinct_key_sum, hex_number, key_sum, record_key
from signpost_platform.db import AnySelect, Repository, dialect_of, table_of
from signpost_schemas.disclosure import RecordKeys
from signpost_schemas.fhir.gaps import GapKind

R = table_of(Referral)
G = table_of(ReferralGap)


def _matches(warning: QualityWarning) -> ColumnElement[bool]:
    condition = G.c.kind == warning.kind.value
    if warning.element is not None:
        condition = and_(condition, G.c.element.startswith(warning.element, autoescape=True))
    return condition


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """1 when any gap row of the referral meets the condition."""
    return func.max(case((condition, 1), else_=0))


class DataQualityRepository(Repository):
    def __init__(self, session: AsyncSession, keys: RecordKeys) -> None:
        super().__init__(session)
        # Each referral's record key, computed from its id as the report facts do, so a count
        # here has the cell key the same referrals have in every other report.
        self.dialect = dialect_of(session)
        self.record_key = record_key(keys.record, hex_number(self.dialect, R.c.id))

    def _dimension(self, name: str) -> ColumnElement[Any]:
        if name == "source-system":
            return R.c.source_system
        if name == "sender":
            return R.c.requester_ods
        if self.dialect == "postgresql":
            # Cheaper to group by than month_number's arithmetic on extracted fields.
            return func.date_trunc("month", func.timezone("UTC", R.c.created_at))
        return month_number("sqlite", R.c.created_at)

    def _scope(self, query: ReportQuery) -> list[ColumnElement[bool]]:
        """The referrals received in the period (by created_at) from the filtered senders."""
        where: list[ColumnElement[bool]] = []
        if query.start is not None:
            where.append(R.c.created_at >= query.start)
        if query.end is not None:
            where.append(R.c.created_at < query.end)
        if "source-system" in query.filters:
            where.append(R.c.source_system.in_(query.filters["source-system"]))
        if "sender" in query.filters:
            where.append(R.c.requester_ods.in_(query.filters["sender"]))
        return where

    def _grouped(
        self, statement: AnySelect, query: ReportQuery, *more: ColumnElement[Any]
    ) -> AnySelect:
        dims = [self._dimension(name) for name in query.group_by]
        return statement.add_columns(
            *(
                expr.label(name.replace("-", "_"))
                for name, expr in zip(query.group_by, dims, strict=True)
            )
        ).group_by(*dims, *more)

    async def _rows(self, statement: AnySelect) -> list[Row]:
        rows: list[Row] = []
        for row in await self.session.execute(statement):
            values = dict(row._mapping)
            month = values.get("month")
            if isinstance(month, int):
                values["month"] = f"{2000 + month // 12:04d}-{month % 12 + 1:02d}"
            elif month is not None:
                values["month"] = f"{month.year:04d}-{month.month:02d}"
            rows.append(values)
        return rows

    async def warning_counts(self, query: ReportQuery) -> list[Row]:
        """Per group: referrals received, referrals with any gap, referrals having each
        warning, with other gaps, and with an unmapped code on any element.

        Two statements: the referrals received (from the index alone) and, over the referrals
        with gaps only, one row of 0/1 flags per referral summed per group; merged here, so
        the large side is never joined or sorted with the small one."""
        scope = self._scope(query)
        keys = [name.replace("-", "_") for name in query.group_by]
        received = await self._rows(
            self._grouped(
                select(
                    func.count().label("referrals"),
                    key_sum(self.record_key).label(key_of("referrals")),
                ).where(*scope),
                query,
            )
        )
        named = [_matches(warning) for warning in WARNINGS]
        flags = self._grouped(
            select(
                *(_flag(m).label(w.name) for w, m in zip(WARNINGS, named, strict=True)),
                _flag(not_(or_(*named))).label(OTHER_GAP),
                _flag(G.c.kind == GapKind.UNMAPPED_CODE.value).label(ANY_UNMAPPED),
                func.max(self.record_key).label("record_key"),
            )
            .select_from(G.join(R, R.c.id == G.c.referral_id))
            .where(*scope),
            query,
            R.c.id,
        ).subquery("gap_flag")
        names = [*(w.name for w in WARNINGS), OTHER_GAP, ANY_UNMAPPED]
        with_gaps = select(
            *(flags.c[key] for key in keys),
            func.count().label("with_gap"),
            key_sum(flags.c.record_key).label(key_of("with_gap")),
            *(func.sum(flags.c[name]).label(name) for name in names),
            *(key_sum(flags.c.record_key, flags.c[name]).label(key_of(name)) for name in names),
        ).group_by(*(flags.c[key] for key in keys))
        found = {tuple(row[key] for key in keys): row for row in await self._rows(with_gaps)}
        zero = dict.fromkeys(
            [*(n for name in ("with_gap", *names) for n in (name, key_of(name)))], 0
        )
        return [
            {**zero, **found.get(tuple(row[key] for key in keys), {}), **row} for row in received
        ]

    async def unmapped_codes(self, query: ReportQuery) -> list[Row]:
        """Per group, element and code: the referrals with a gap of that unmapped code."""
        statement = (
            select(
                G.c.element.label("element"),
                G.c.code.label("code"),
                func.count(func.distinct(G.c.referral_id)).label("referrals"),
                distinct_key_sum(hex_number(self.dialect, R.c.id), self.record_key).label(
                    key_of("referrals")
                ),
            )
            .select_from(G.join(R, R.c.id == G.c.referral_id))
            .where(*self._scope(query), G.c.kind == GapKind.UNMAPPED_CODE.value)
        )
        return await self._rows(self._grouped(statement, query, G.c.element, G.c.code))
