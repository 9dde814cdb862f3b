"""All SQL of the reports: aggregates over the normalised referral tables.

Every query starts from the referrals in scope (`_Scope`: the period, the filters and the
group-by columns, joining the person, the IMD lookup or the reasons only when needed) and
aggregates in the database; only grouped counts and histograms come back. Dates are compared
and months taken in UTC. Results are plain rows (dicts keyed by column name), unrounded:
disclosure control is applied by the service.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    Date,
    FromClause,
    Integer,
    Select,
    and_,
    case,
    cast,
    delete,
    exists,
    func,
    literal_column,
    null,
    or_,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from referral_api.geography.models import LookupLoad
from referral_api.lifecycle.models import (
    Assessment,
    AssessmentScore,
    Contact,
    ReferralLifecycle,
    SupportOffered,
)
from referral_api.linkage.models import ReferralLink
from referral_api.people.models import ReferralPerson
from referral_api.referrals.models import Referral, ReferralReason
from referral_api.reports import wellbeing
from referral_api.reports.models import ListSize, LsoaImd, PseudonymState, ReportPerson
from referral_api.reports.query import ReportQuery

Row = dict[str, Any]

R = Referral.__table__
P = ReferralPerson.__table__
IMD = LsoaImd.__table__
L = ReferralLifecycle.__table__
RR = ReferralReason.__table__
K = ReportPerson.__table__
C = Contact.__table__
S = SupportOffered.__table__
A = Assessment.__table__
AS = AssessmentScore.__table__
LINK = ReferralLink.__table__
LIST = ListSize.__table__

NOT_RECORDED_GROUP = "not-recorded"
UNKNOWN_SOURCE_GROUP = "unknown"
GENDER_NOT_KNOWN = "not-known"
ETHNIC_CATEGORY_NOT_KNOWN = "99"


def column_name(dimension: str) -> str:
    """The result column of a dimension: `age-band` -> `age_band`."""
    return dimension.replace("-", "_")


class _Scope:
    """The referrals a report covers: FROM and WHERE, plus the group-by columns.

    Person, IMD and reason joins are added only when a filter or group-by needs them. Per-reason
    group-bys join one row per (referral, reason) or (referral, reason group), so a referral
    with several reasons is counted under each.
    """

    def __init__(self, query: ReportQuery, dialect: str, group_by: Sequence[str]) -> None:
        self.query = query
        self.dialect = dialect
        self.from_: FromClause = R
        self.where: list[ColumnElement[bool]] = []
        self._joined: set[str] = set()
        self._reason_rows: FromClause | None = None
        self.group_by = tuple(group_by)
        self._apply_filters()
        self.dims: list[tuple[str, ColumnElement[Any]]] = [
            (column_name(name), self.dimension(name)) for name in self.group_by
        ]

    # Joins -----------------------------------------------------------------------------------

    def person(self) -> None:
        if "person" not in self._joined:
            self.from_ = self.from_.outerjoin(P, P.c.referral_id == R.c.id)
            self._joined.add("person")

    def imd(self) -> None:
        self.person()
        if "imd" not in self._joined:
            self.from_ = self.from_.outerjoin(IMD, IMD.c.lsoa_code == P.c.lsoa_code)
            self._joined.add("imd")

    def lifecycle(self) -> None:
        if "lifecycle" not in self._joined:
            self.from_ = self.from_.outerjoin(L, L.c.referral_id == R.c.id)
            self._joined.add("lifecycle")

    def join(self, name: str, table: FromClause, on: ColumnElement[bool], outer: bool) -> None:
        """Join another table (once), e.g. contacts or the pseudonyms."""
        if name not in self._joined:
            self.from_ = self.from_.join(table, on, isouter=outer)
            self._joined.add(name)

    def reason_rows(self) -> FromClause:
        """One row per reason (reason group only: one per group) of each referral in scope."""
        if self._reason_rows is None:
            if "reason" in self.group_by:
                rows = select(RR.c.referral_id, RR.c.reason_code, RR.c.reason_group)
            else:
                rows = select(RR.c.referral_id, RR.c.reason_group).distinct()
            self._reason_rows = rows.subquery("reason_row")
            self.from_ = self.from_.join(
                self._reason_rows, self._reason_rows.c.referral_id == R.c.id
            )
        return self._reason_rows

    # Dimensions and filters -------------------------------------------------------------------

    def dimension(self, name: str) -> ColumnElement[Any]:
        match name:
            case "month":
                return self.month(R.c.authored_at)
            case "role":
                return R.c.received_by_role
            case "source":
                return R.c.source_of_referral_group
            case "source-system":
                return R.c.source_system
            case "practice":
                self.person()
                return P.c.practice_ods
            case "pcn":
                self.person()
                return P.c.pcn_ods
            case "age-band":
                self.person()
                return P.c.age_band
            case "gender":
                self.person()
                return P.c.gender
            case "ethnicity":
                self.person()
                return P.c.ethnic_group
            case "ethnic-category":
                self.person()
                return P.c.ethnic_category
            case "imd-decile":
                self.imd()
                return IMD.c.imd_decile
            case "reason":
                return self.reason_rows().c.reason_code
            case "reason-group":
                return self.reason_rows().c.reason_group
        raise ValueError(f"no dimension {name}")

    def _apply_filters(self) -> None:
        query = self.query
        if query.start is not None:
            self.where.append(R.c.authored_at >= query.start)
        if query.end is not None:
            self.where.append(R.c.authored_at < query.end)
        for name, values in query.filters.items():
            if name == "reason":
                self.where.append(
                    exists().where(RR.c.referral_id == R.c.id, RR.c.reason_code.in_(values))
                )
            elif name == "reason-group":
                self.where.append(
                    exists().where(RR.c.referral_id == R.c.id, RR.c.reason_group.in_(values))
                )
            elif name == "imd-decile":
                self.imd()
                self.where.append(IMD.c.imd_decile.in_([int(v) for v in values]))
            else:
                self.where.append(self.dimension(name).in_(values))

    # Dialect helpers --------------------------------------------------------------------------

    def month(self, moment: ColumnElement[Any]) -> ColumnElement[Any]:
        if self.dialect == "postgresql":
            return func.date_trunc("month", func.timezone("UTC", moment))
        return func.strftime("%Y-%m", moment)

    def days_between(
        self, earlier: ColumnElement[Any], later: ColumnElement[Any]
    ) -> ColumnElement[Any]:
        """Whole calendar days (UTC) from `earlier` to `later`."""
        if self.dialect == "postgresql":
            return cast(func.timezone("UTC", later), Date) - cast(
                func.timezone("UTC", earlier), Date
            )
        return cast(func.julianday(func.date(later)) - func.julianday(func.date(earlier)), Integer)

    # Statements ------------------------------------------------------------------------------

    def select(self, *measures: ColumnElement[Any], grouped: bool = True) -> Select[Any]:
        """SELECT the group-by columns and `measures` FROM the scope, grouped."""
        dims = self.dims if grouped else []
        statement = (
            select(*(expr.label(name) for name, expr in dims), *measures)
            .select_from(self.from_)
            .where(*self.where)
        )
        if dims:
            statement = statement.group_by(*(expr for _, expr in dims))
        return statement


@dataclass(frozen=True, slots=True)
class KeyCandidate:
    """A referral whose pseudonym is missing or was made from an older version."""

    referral_id: str
    version: int
    nhs_number: str


class ReportRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.dialect = session.bind.dialect.name

    def scope(self, query: ReportQuery, group_by: Sequence[str] | None = None) -> _Scope:
        return _Scope(query, self.dialect, query.group_by if group_by is None else group_by)

    async def rows(self, statement: Select[Any]) -> list[Row]:
        result = await self.session.execute(statement)
        return [_normalise(dict(row._mapping)) for row in result]

    async def grouped_and_total(
        self,
        query: ReportQuery,
        measures: Sequence[ColumnElement[Any]],
        *,
        prepare: Any = None,
    ) -> tuple[list[Row], Row]:
        """The measures per group and over the whole scope (computed, not summed)."""
        grouped = self.scope(query)
        if prepare:
            prepare(grouped)
        rows = await self.rows(grouped.select(*measures))
        if not query.group_by:
            return rows, rows[0] if rows else {}
        whole = self.scope(query, ())
        if prepare:
            prepare(whole)
        totals = await self.rows(whole.select(*measures))
        return rows, totals[0] if totals else {}

    # Referrals and people ---------------------------------------------------------------------

    async def referral_counts(
        self, query: ReportQuery, group_by: Sequence[str] | None = None, people: bool = False
    ) -> tuple[list[Row], Row]:
        """Referrals (and people, by pseudonym) per group and in total."""

        def prepare(scope: _Scope) -> None:
            if people:
                scope.join("pseudonym", K, K.c.referral_id == R.c.id, outer=True)

        measures: list[ColumnElement[Any]] = [func.count().label("referrals")]
        if people:
            measures.append(func.count(func.distinct(K.c.person_key)).label("people"))
        if group_by is not None and tuple(group_by) != query.group_by:
            query = _regrouped(query, group_by)
        return await self.grouped_and_total(query, measures, prepare=prepare)

    # Reasons ----------------------------------------------------------------------------------

    async def referrals_with_several_reasons(self, query: ReportQuery) -> int:
        """Referrals in scope with more than one reason (ranks run 1, 2, ...)."""
        scope = self.scope(query, ())
        second = RR.alias("second_reason")
        scope.join(
            "second_reason", second,
            and_(second.c.referral_id == R.c.id, second.c.rank == 2), outer=False,
        )
        rows = await self.rows(scope.select(func.count().label("referrals")))
        return int(rows[0]["referrals"]) if rows else 0

    async def reason_counts(self, query: ReportQuery, level: str) -> list[Row]:
        """Referrals per group and reason (or reason group): every reason counts."""
        scope = self.scope(query, (*query.group_by, level))
        return await self.rows(scope.select(func.count().label("referrals")))

    async def reason_pairs(self, query: ReportQuery, level: str) -> list[Row]:
        """Referrals per group carrying both reasons of each pair (each pair once)."""
        scope = self.scope(query)
        column = RR.c.reason_code if level == "reason" else RR.c.reason_group
        rows = select(RR.c.referral_id, column.label("value")).distinct().subquery("first")
        other = select(RR.c.referral_id, column.label("value")).distinct().subquery("second")
        scope.join("first", rows, rows.c.referral_id == R.c.id, outer=False)
        scope.join(
            "second",
            other,
            and_(other.c.referral_id == R.c.id, other.c.value > rows.c.value),
            outer=False,
        )
        if level == "reason-group":
            scope.where.append(rows.c.value != NOT_RECORDED_GROUP)
        statement = (
            scope.select(func.count().label("referrals"))
            .add_columns(rows.c.value.label("first"), other.c.value.label("second"))
            .group_by(rows.c.value, other.c.value)
        )
        return await self.rows(statement)

    # Support ----------------------------------------------------------------------------------

    async def support_counts(self, query: ReportQuery, level: str) -> tuple[list[Row], Row]:
        """Support offers and the referrals offered each support (or support group)."""
        column = S.c.support_code if level == "support" else S.c.support_group
        grouped = self.scope(query)
        grouped.join("support", S, S.c.referral_id == R.c.id, outer=False)
        statement = (
            grouped.select(
                func.count(func.distinct(S.c.referral_id)).label("referrals"),
                func.count().label("offers"),
                func.coalesce(func.sum(case((S.c.kind == "referral", 1), else_=0)), 0).label(
                    "onward_referrals"
                ),
            )
            .add_columns(column.label("support"))
            .group_by(column)
        )
        rows = await self.rows(statement)
        whole = self.scope(query, ())
        whole.join("support", S, S.c.referral_id == R.c.id, outer=False)
        totals = await self.rows(
            whole.select(
                func.count(func.distinct(S.c.referral_id)).label("referrals"),
                func.count().label("offers"),
                func.coalesce(func.sum(case((S.c.kind == "referral", 1), else_=0)), 0).label(
                    "onward_referrals"
                ),
            )
        )
        return rows, totals[0]

    async def support_match(
        self, query: ReportQuery, mapping: dict[str, tuple[str, ...]]
    ) -> tuple[list[Row], Row]:
        """Per group and reason group: referrals with that need, those offered any support,
        and those offered support the map says addresses it; and the same once per referral."""
        needs = (
            select(RR.c.referral_id, RR.c.reason_group)
            .where(RR.c.reason_group.in_(list(mapping)))
            .distinct()
            .subquery("need")
        )
        addressed = or_(
            *(
                and_(needs.c.reason_group == group, S.c.support_group.in_(targets))
                for group, targets in mapping.items()
            )
        )
        # One row per (referral, need) offered any support, flagged 1 when one addresses it.
        met = (
            select(
                needs.c.referral_id,
                needs.c.reason_group,
                func.max(case((addressed, 1), else_=0)).label("matched"),
            )
            .join(S, S.c.referral_id == needs.c.referral_id)
            .group_by(needs.c.referral_id, needs.c.reason_group)
            .subquery("met")
        )
        grouped = self.scope(query)
        grouped.join("need", needs, needs.c.referral_id == R.c.id, outer=False)
        grouped.join(
            "met",
            met,
            and_(
                met.c.referral_id == needs.c.referral_id, met.c.reason_group == needs.c.reason_group
            ),
            outer=True,
        )
        rows = await self.rows(
            grouped.select(
                func.count().label("referrals"),
                func.count(met.c.referral_id).label("with_support"),
                func.coalesce(func.sum(met.c.matched), 0).label("matched"),
            )
            .add_columns(needs.c.reason_group.label("reason_group"))
            .group_by(needs.c.reason_group)
        )
        # Once per referral: any need, any support, any need met.
        per_referral = (
            select(
                needs.c.referral_id,
                func.max(case((met.c.referral_id.is_not(None), 1), else_=0)).label("supported"),
                func.max(func.coalesce(met.c.matched, 0)).label("matched"),
            )
            .select_from(
                needs.outerjoin(
                    met,
                    and_(
                        met.c.referral_id == needs.c.referral_id,
                        met.c.reason_group == needs.c.reason_group,
                    ),
                )
            )
            .group_by(needs.c.referral_id)
            .subquery("per_referral")
        )
        whole = self.scope(query, ())
        whole.join("per_referral", per_referral, per_referral.c.referral_id == R.c.id, False)
        totals = await self.rows(
            whole.select(
                func.count().label("referrals"),
                func.coalesce(func.sum(per_referral.c.supported), 0).label("with_support"),
                func.coalesce(func.sum(per_referral.c.matched), 0).label("matched"),
            )
        )
        return rows, totals[0]

    # Waiting times ----------------------------------------------------------------------------

    async def waiting_histograms(self, query: ReportQuery) -> list[Row]:
        """Rows of (group, measure, days, referrals): how many referrals waited so many days
        from referral to first attended contact, and to closure; plus referrals per group."""
        branches = []
        for measure in ("referrals", "first_contact", "closure"):
            scope = self.scope(query)
            scope.lifecycle()
            if measure == "referrals":
                days: ColumnElement[Any] = cast(null(), Integer)
            elif measure == "first_contact":
                days = scope.days_between(R.c.authored_at, L.c.first_contact_at)
                scope.where.append(L.c.first_contact_at.is_not(None))
            else:
                days = scope.days_between(R.c.authored_at, L.c.closed_at)
                scope.where.append(and_(L.c.status == "closed", L.c.closed_at.is_not(None)))
            statement = scope.select(
                literal_column(f"'{measure}'").label("measure"),
                days.label("days"),
                func.count().label("referrals"),
            )
            if measure != "referrals":
                statement = statement.group_by(days)
            branches.append(statement)
        return await self.rows(union_all(*branches))  # type: ignore[arg-type]

    # Attendance and outcomes ------------------------------------------------------------------

    async def attendance(self, query: ReportQuery) -> tuple[list[Row], Row]:
        """Contacts by attendance outcome, and referrals with a contact or a DNA."""
        outcome = C.c.attendance_outcome

        def tally(value: str) -> ColumnElement[Any]:
            return func.coalesce(func.sum(case((outcome == value, 1), else_=0)), 0)

        def prepare(scope: _Scope) -> None:
            scope.join(
                "contact",
                C,
                and_(C.c.referral_id == R.c.id, C.c.status != "entered-in-error"),
                outer=False,
            )

        contacts = [
            func.count().label("contacts"),
            tally("attended").label("attended"),
            tally("dna").label("dna"),
            tally("not-seen").label("not_seen"),
            tally("cancelled-by-patient").label("cancelled_by_patient"),
            tally("cancelled-by-provider").label("cancelled_by_provider"),
            tally("booked").label("booked"),
            func.count(func.distinct(C.c.referral_id)).label("referrals_with_contact"),
            func.count(func.distinct(case((outcome == "dna", C.c.referral_id)))).label(
                "referrals_with_dna"
            ),
        ]
        return await self.grouped_and_total(query, contacts, prepare=prepare)

    async def lifecycle_status(self, query: ReportQuery) -> list[Row]:
        """Referrals per group and lifecycle status (received when nothing came back)."""
        scope = self.scope(query)
        scope.lifecycle()
        status = func.coalesce(L.c.status, "received")
        return await self.rows(
            scope.select(func.count().label("referrals"))
            .add_columns(status.label("status"))
            .group_by(status)
        )

    async def closure_reasons(self, query: ReportQuery) -> list[Row]:
        """Closed and declined referrals per group, ending and reason."""
        scope = self.scope(query)
        scope.lifecycle()
        scope.where.append(L.c.status.in_(("closed", "declined")))
        code = case(
            (L.c.status == "closed", L.c.closure_reason_code), else_=L.c.decline_reason_code
        )
        return await self.rows(
            scope.select(func.count().label("referrals"))
            .add_columns(L.c.status.label("ended"), code.label("code"))
            .group_by(L.c.status, code)
        )

    # Rates ------------------------------------------------------------------------------------

    async def list_size_levels(self) -> set[str]:
        """Which area types have list sizes loaded (practice, pcn)."""
        result = await self.session.execute(select(LIST.c.area_type).distinct())
        return {row[0] for row in result}

    async def rate_numerators(self, query: ReportQuery, level: str) -> tuple[list[Row], Row]:
        """Referrals of people registered in areas that have a list size loaded."""

        def prepare(scope: _Scope) -> None:
            scope.person()
            area = P.c.practice_ods if level == "practice" else P.c.pcn_ods
            scope.where.append(
                area.in_(select(LIST.c.area_code).where(LIST.c.area_type == level).distinct())
            )

        return await self.grouped_and_total(
            query, [func.count().label("referrals")], prepare=prepare
        )

    async def populations(
        self, level: str, group_by: Sequence[str], filters: dict[str, tuple[str, ...]]
    ) -> list[Row]:
        """Registered population per combination of the population dimensions in `group_by`
        (practice, pcn, age-band, gender), restricted by the same filters."""
        columns = {
            "practice": LIST.c.area_code,
            "pcn": LIST.c.area_code if level == "pcn" else LIST.c.pcn_ods,
            "age-band": LIST.c.age_band,
            "gender": LIST.c.sex,
        }
        dims = [(column_name(name), columns[name]) for name in group_by if name in columns]
        statement = select(
            *(expr.label(name) for name, expr in dims),
            func.coalesce(func.sum(LIST.c.population), 0).label("population"),
        ).where(LIST.c.area_type == level)
        for name, values in filters.items():
            if name in columns:
                statement = statement.where(columns[name].in_(values))
        if dims:
            statement = statement.group_by(*(expr for _, expr in dims))
        return await self.rows(statement)

    # Wellbeing --------------------------------------------------------------------------------

    async def wellbeing_change(self, query: ReportQuery) -> tuple[list[Row], list[Row]]:
        """Per group and measure: pairs (a baseline and a later follow-up of one referral),
        the sums of baseline, follow-up and change, and how many improved; and the same
        per measure over the whole scope."""
        live = A.c.status.not_in(wellbeing.WITHDRAWN_STATUSES)
        totals = select(
            A.c.referral_id,
            A.c.id.label("assessment_id"),
            A.c.instrument.label("measure"),
            A.c.timepoint,
            A.c.assessed_at,
            A.c.total_score.label("value"),
        ).where(live, A.c.total_score.is_not(None), A.c.instrument.in_(wellbeing.TOTAL_MEASURES))
        items = (
            select(
                A.c.referral_id,
                A.c.id.label("assessment_id"),
                AS.c.item_code.label("measure"),
                A.c.timepoint,
                A.c.assessed_at,
                AS.c.value.label("value"),
            )
            .select_from(A.join(AS, AS.c.assessment_id == A.c.id))
            .where(live, AS.c.value.is_not(None), AS.c.item_code.in_(wellbeing.ITEM_MEASURES))
        )
        scores = union_all(totals, items).subquery("score")

        def ranked(timepoints: Sequence[str], latest: bool, name: str) -> FromClause:
            order = (
                (scores.c.assessed_at.desc(), scores.c.assessment_id.desc())
                if latest
                else (scores.c.assessed_at, scores.c.assessment_id)
            )
            number = func.row_number().over(
                partition_by=(scores.c.referral_id, scores.c.measure), order_by=order
            )
            inner = (
                select(
                    scores.c.referral_id,
                    scores.c.measure,
                    scores.c.assessed_at,
                    scores.c.value,
                    number.label("position"),
                )
                .where(scores.c.timepoint.in_(timepoints))
                .subquery(f"{name}_ranked")
            )
            return select(inner).where(inner.c.position == 1).subquery(name)

        baseline = ranked(("baseline",), latest=False, name="baseline")
        follow_up = ranked(wellbeing.FOLLOW_UP_TIMEPOINTS, latest=True, name="follow_up")
        change = follow_up.c.value - baseline.c.value
        improved = case(
            (baseline.c.measure.in_(wellbeing.LOWER_IS_BETTER), case((change < 0, 1), else_=0)),
            else_=case((change > 0, 1), else_=0),
        )
        measures = [
            func.count().label("pairs"),
            func.sum(baseline.c.value).label("baseline_sum"),
            func.sum(follow_up.c.value).label("follow_up_sum"),
            func.sum(change).label("change_sum"),
            func.coalesce(func.sum(improved), 0).label("improved"),
        ]

        def paired(scope: _Scope) -> Select[Any]:
            scope.join("baseline", baseline, baseline.c.referral_id == R.c.id, outer=False)
            scope.join(
                "follow_up",
                follow_up,
                and_(
                    follow_up.c.referral_id == baseline.c.referral_id,
                    follow_up.c.measure == baseline.c.measure,
                    follow_up.c.assessed_at > baseline.c.assessed_at,
                ),
                outer=False,
            )
            return (
                scope.select(*measures)
                .add_columns(baseline.c.measure.label("measure"))
                .group_by(baseline.c.measure)
            )

        rows = await self.rows(paired(self.scope(query)))
        whole = await self.rows(paired(self.scope(query, ())))
        return rows, whole

    # Re-referrals and parallel referrals ------------------------------------------------------

    async def linkage(self, query: ReportQuery) -> tuple[list[Row], Row]:
        """Referrals that re-refer an earlier one to the same role, or run in parallel with a
        referral of the same person to another role."""
        links = (
            select(
                LINK.c.referral_id,
                func.max(case((LINK.c.link_type == "re-referral-of", 1), else_=0)).label("again"),
                func.max(case((LINK.c.link_type == "concurrent-other-role", 1), else_=0)).label(
                    "parallel"
                ),
            )
            .group_by(LINK.c.referral_id)
            .subquery("link_flags")
        )

        def prepare(scope: _Scope) -> None:
            scope.join("links", links, links.c.referral_id == R.c.id, outer=True)

        return await self.grouped_and_total(
            query,
            [
                func.count().label("referrals"),
                func.coalesce(func.sum(links.c.again), 0).label("re_referrals"),
                func.coalesce(func.sum(links.c.parallel), 0).label("parallel"),
            ],
            prepare=prepare,
        )

    # Completeness -----------------------------------------------------------------------------

    async def completeness(self, query: ReportQuery) -> tuple[list[Row], Row]:
        """Per group: referrals, and how many have each field present and coded (`has_<field>`;
        `has_closed` counts the closed referrals the closure reason applies to)."""
        first_reason = RR.alias("first_reason")

        def prepare(scope: _Scope) -> None:
            scope.person()
            scope.lifecycle()
            scope.join(
                "first_reason",
                first_reason,
                and_(first_reason.c.referral_id == R.c.id, first_reason.c.rank == 1),
                outer=True,
            )

        def tally(condition: ColumnElement[bool]) -> ColumnElement[Any]:
            return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

        closed = L.c.status == "closed"
        measures = [
            func.count().label("referrals"),
            tally(
                and_(
                    first_reason.c.reason_group.is_not(None),
                    first_reason.c.reason_group != NOT_RECORDED_GROUP,
                )
            ).label("has_reason"),
            tally(
                and_(
                    R.c.source_of_referral_group.is_not(None),
                    R.c.source_of_referral_group != UNKNOWN_SOURCE_GROUP,
                )
            ).label("has_source"),
            tally(P.c.referral_id.is_not(None)).label("has_person"),
            tally(P.c.age_band.is_not(None)).label("has_age_band"),
            tally(and_(P.c.gender.is_not(None), P.c.gender != GENDER_NOT_KNOWN)).label(
                "has_gender"
            ),
            tally(
                and_(
                    P.c.ethnic_category.is_not(None),
                    P.c.ethnic_category != ETHNIC_CATEGORY_NOT_KNOWN,
                )
            ).label("has_ethnicity"),
            tally(P.c.lsoa_code.is_not(None)).label("has_lsoa"),
            tally(P.c.practice_ods.is_not(None)).label("has_practice"),
            tally(P.c.pcn_ods.is_not(None)).label("has_pcn"),
            tally(closed).label("has_closed"),
            tally(and_(closed, L.c.closure_reason_code.is_not(None))).label("has_closure_reason"),
        ]
        return await self.grouped_and_total(query, measures, prepare=prepare)

    # Pseudonyms -------------------------------------------------------------------------------

    async def pseudonym_state(self) -> tuple[str, datetime | None] | None:
        row = (
            await self.session.execute(
                select(PseudonymState.key_fingerprint, PseudonymState.keyed_through).where(
                    PseudonymState.id == 1
                )
            )
        ).first()
        return (row[0], row[1]) if row else None

    async def start_pseudonyms(self, fingerprint: str) -> None:
        """Record the key of a database that has no pseudonyms yet (a no-op if one exists)."""
        statement = (
            self._insert(PseudonymState)
            .values(id=1, key_fingerprint=fingerprint, keyed_through=None)
            .on_conflict_do_nothing(index_elements=["id"])
        )
        await self.session.execute(statement)

    async def latest_referral_update(self) -> datetime | None:
        value = (await self.session.execute(select(func.max(R.c.last_updated_at)))).scalar()
        return _aware(value)

    async def key_candidates(
        self, since: datetime | None, after: str, limit: int
    ) -> list[KeyCandidate]:
        """Up to `limit` referrals after id `after`, updated since `since`, whose pseudonym is
        missing or was made from an older version (in id order, so callers can page)."""
        statement = (
            select(R.c.id, R.c.version, R.c.nhs_number)
            .select_from(R.outerjoin(K, K.c.referral_id == R.c.id))
            .where(or_(K.c.referral_id.is_(None), K.c.referral_version != R.c.version))
            .where(R.c.id > after)
            .order_by(R.c.id)
            .limit(limit)
        )
        if since is not None:
            statement = statement.where(R.c.last_updated_at >= since)
        result = await self.session.execute(statement)
        return [KeyCandidate(*row) for row in result]

    async def save_pseudonyms(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        statement = self._insert(ReportPerson)
        statement = statement.on_conflict_do_update(
            index_elements=["referral_id"],
            set_={
                "person_key": statement.excluded.person_key,
                "referral_version": statement.excluded.referral_version,
            },
        )
        await self.session.execute(statement, rows)

    async def advance_pseudonyms(self, keyed_through: datetime) -> None:
        await self.session.execute(
            update(PseudonymState)
            .where(PseudonymState.id == 1)
            .where(
                or_(
                    PseudonymState.keyed_through.is_(None),
                    PseudonymState.keyed_through < keyed_through,
                )
            )
            .values(keyed_through=keyed_through)
        )

    async def reset_pseudonyms(self, fingerprint: str) -> None:
        """Forget every pseudonym (a new key): all referrals are keyed again."""
        await self.session.execute(delete(ReportPerson))
        await self.session.execute(delete(PseudonymState))
        await self.start_pseudonyms(fingerprint)

    def _insert(self, model: Any) -> Any:
        if self.dialect == "postgresql":
            return postgresql_insert(model)
        return sqlite_insert(model)

    # Lookups ----------------------------------------------------------------------------------

    async def replace_imd(self, rows: Sequence[dict[str, Any]]) -> None:
        await self.session.execute(delete(LsoaImd))
        for start in range(0, len(rows), 5_000):
            await self.session.execute(LsoaImd.__table__.insert(), rows[start : start + 5_000])

    async def replace_list_sizes(self, area_type: str, rows: Sequence[dict[str, Any]]) -> None:
        await self.session.execute(delete(ListSize).where(ListSize.area_type == area_type))
        for start in range(0, len(rows), 5_000):
            await self.session.execute(ListSize.__table__.insert(), rows[start : start + 5_000])

    async def practice_rows(self) -> list[Row]:
        """Practice list sizes (to sum into their PCNs)."""
        return await self.rows(
            select(
                LIST.c.pcn_ods, LIST.c.age_band, LIST.c.sex, LIST.c.population, LIST.c.extract_on
            ).where(LIST.c.area_type == "practice", LIST.c.pcn_ods.is_not(None))
        )

    async def record_load(self, lookup: str, source: str, is_sample: bool, count: int) -> None:
        await self.session.execute(
            LookupLoad.__table__.insert().values(
                lookup=lookup,
                source=source,
                is_sample=is_sample,
                row_count=count,
                loaded_at=datetime.now(UTC),
            )
        )

    async def sample_lookups_loaded(self) -> list[str]:
        """The report lookups whose latest load was a synthetic sample."""
        latest = (
            select(LookupLoad.lookup, func.max(LookupLoad.id).label("id"))
            .where(LookupLoad.lookup.in_(("lsoa-imd", "list-size")))
            .group_by(LookupLoad.lookup)
            .subquery()
        )
        result = await self.session.execute(
            select(LookupLoad.lookup)
            .join(latest, LookupLoad.id == latest.c.id)
            .where(LookupLoad.is_sample == true())
        )
        return sorted(row[0] for row in result)


def _regrouped(query: ReportQuery, group_by: Sequence[str]) -> ReportQuery:
    return ReportQuery(
        first_day=query.first_day,
        last_day=query.last_day,
        filters=query.filters,
        group_by=tuple(group_by),
        options=query.options,
        output=query.output,
        controlled=query.controlled,
    )


def _normalise(row: Row) -> Row:
    """Make values uniform across backends: months as YYYY-MM, deciles as text."""
    month = row.get("month")
    if isinstance(month, datetime | date):
        row["month"] = f"{month.year:04d}-{month.month:02d}"
    decile = row.get("imd_decile")
    if decile is not None:
        row["imd_decile"] = str(decile)
    return row


def _aware(value: datetime | str | None) -> datetime | None:
    """Aggregates bypass the UTC column type on SQLite: make the value aware again."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
