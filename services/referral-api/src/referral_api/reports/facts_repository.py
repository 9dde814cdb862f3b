"""All SQL that derives the report facts from the normalised referral tables.

Each `insert_*` statement rebuilds one fact table for a set of referrals (`ids`; None means
every referral) with one INSERT ... SELECT, so a refresh is a handful of set-based statements
whatever the number of referrals. The caller deletes the old facts first (`delete_facts`).
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    Select,
    String,
    and_,
    any_,
    bindparam,
    case,
    cast,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

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
from referral_api.reports.models import (
    DIMENSION_COLUMNS,
    FACT_TABLES,
    LsoaImd,
    ReportChange,
    ReportPerson,
    ReportReason,
    ReportReasonPair,
    ReportReferral,
    ReportScore,
    ReportState,
    ReportSupport,
)

R = Referral.__table__
P = ReferralPerson.__table__
IMD = LsoaImd.__table__
L = ReferralLifecycle.__table__
RR = ReferralReason.__table__
C = Contact.__table__
S = SupportOffered.__table__
A = Assessment.__table__
AS = AssessmentScore.__table__
LINK = ReferralLink.__table__
K = ReportPerson.__table__
F = ReportReferral.__table__

NOT_RECORDED_GROUP = "not-recorded"
UNKNOWN_SOURCE_GROUP = "unknown"
GENDER_NOT_KNOWN = "not-known"
ETHNIC_CATEGORY_NOT_KNOWN = "99"
# One refresher at a time on PostgreSQL (a transaction-scoped advisory lock).
REFRESH_LOCK = 7_244_019_311

Ids = Sequence[str] | None


def flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return case((condition, 1), else_=0)


def utc_date(dialect: str, moment: ColumnElement[Any]) -> ColumnElement[Any]:
    if dialect == "postgresql":
        return cast(func.timezone("UTC", moment), Date)
    return func.date(moment)


def utc_month(dialect: str, moment: ColumnElement[Any]) -> ColumnElement[Any]:
    if dialect == "postgresql":
        return func.to_char(func.timezone("UTC", moment), "YYYY-MM")
    return func.strftime("%Y-%m", moment)


def days_between(
    dialect: str, earlier: ColumnElement[Any], later: ColumnElement[Any]
) -> ColumnElement[Any]:
    """Whole calendar days (UTC) from `earlier` to `later`."""
    if dialect == "postgresql":
        return utc_date(dialect, later) - utc_date(dialect, earlier)
    return cast(func.julianday(func.date(later)) - func.julianday(func.date(earlier)), Integer)


class FactRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.dialect = session.bind.dialect.name

    def among(self, column: ColumnElement[str], ids: Sequence[str]) -> ColumnElement[bool]:
        """`column` is one of `ids`: one array parameter on PostgreSQL (a statement may name
        the batch several times), an IN list on SQLite (batches stay under its limit)."""
        if self.dialect == "postgresql":
            return column == any_(bindparam(None, list(ids), type_=ARRAY(String())))
        return column.in_(ids)

    # The change queue -------------------------------------------------------------------------

    async def lock(self, bulk: bool = False) -> None:
        """Serialise refreshers (SQLite transactions already are); a bulk rebuild may sort and
        hash in memory rather than on disk."""
        if self.dialect == "postgresql":
            await self.session.execute(select(func.pg_advisory_xact_lock(REFRESH_LOCK)))
            if bulk:
                await self.session.execute(text("SET LOCAL work_mem = '128MB'"))

    async def pending(self, limit: int) -> list[tuple[int, str]]:
        """The oldest queued changes: (sequence, referral id)."""
        result = await self.session.execute(
            select(ReportChange.sequence, ReportChange.referral_id)
            .order_by(ReportChange.sequence)
            .limit(limit)
        )
        return [(row[0], row[1]) for row in result]

    async def forget(self, sequences: Sequence[int]) -> None:
        await self.session.execute(delete(ReportChange).where(ReportChange.sequence.in_(sequences)))

    async def queue_all(self) -> None:
        """Queue every referral (after a lookup reload or a key rotation)."""
        await self.session.execute(
            insert(ReportChange).from_select(["referral_id"], select(R.c.id))
        )

    async def queue_size(self) -> int:
        return int(
            (
                await self.session.execute(select(func.count()).select_from(ReportChange))
            ).scalar_one()
        )

    async def clear_queue(self) -> None:
        await self.session.execute(delete(ReportChange))

    # State ------------------------------------------------------------------------------------

    async def state(self) -> tuple[str, datetime | None] | None:
        row = (
            await self.session.execute(
                select(ReportState.key_fingerprint, ReportState.refreshed_at).where(
                    ReportState.id == 1
                )
            )
        ).first()
        return (row[0], _aware(row[1])) if row else None

    async def start_state(self, fingerprint: str) -> None:
        """Record the pseudonym key of a database that has none yet (no-op if it has)."""
        statement = (
            self._insert(ReportState)
            .values(id=1, key_fingerprint=fingerprint, refreshed_at=None)
            .on_conflict_do_nothing(index_elements=["id"])
        )
        await self.session.execute(statement)

    async def set_state(self, fingerprint: str, refreshed_at: datetime | None) -> None:
        await self.session.execute(
            update(ReportState)
            .where(ReportState.id == 1)
            .values(key_fingerprint=fingerprint, refreshed_at=refreshed_at)
        )

    # Pseudonyms -------------------------------------------------------------------------------

    async def referral_ids(self, after: str, limit: int) -> list[str]:
        """Up to `limit` referral ids after `after`, in order (to page through them all)."""
        result = await self.session.execute(
            select(R.c.id).where(R.c.id > after).order_by(R.c.id).limit(limit)
        )
        return list(result.scalars())

    async def all_nhs_numbers(self) -> list[tuple[str, int, str]]:
        """(referral id, version, NHS number) of every referral (one scan)."""
        result = await self.session.execute(select(R.c.id, R.c.version, R.c.nhs_number))
        return [(row[0], row[1], row[2]) for row in result]

    async def forget_pseudonyms(self) -> None:
        await self.session.execute(delete(ReportPerson))

    async def nhs_numbers(self, ids: Sequence[str]) -> list[tuple[str, int, str]]:
        """(referral id, version, NHS number) of `ids`."""
        result = await self.session.execute(
            select(R.c.id, R.c.version, R.c.nhs_number).where(self.among(R.c.id, ids))
        )
        return [(row[0], row[1], row[2]) for row in result]

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

    # Facts ------------------------------------------------------------------------------------

    async def delete_facts(self, ids: Ids) -> None:
        for table in reversed(FACT_TABLES):
            statement = delete(table)
            if ids is not None:
                statement = statement.where(self.among(table.referral_id, ids))
            await self.session.execute(statement)

    async def insert_referral_facts(self, ids: Ids, mapping: dict[str, tuple[str, ...]]) -> None:
        """One row per referral (insert its reason facts afterwards: they copy its dimensions)."""
        d = self.dialect

        def only(column: ColumnElement[Any]) -> list[ColumnElement[bool]]:
            return [] if ids is None else [self.among(column, ids)]

        outcome = C.c.attendance_outcome
        contacts = (
            select(
                C.c.referral_id,
                func.count().label("contacts"),
                *(
                    func.sum(flag(outcome == value)).label(name)
                    for name, value in (
                        ("attended", "attended"),
                        ("dna", "dna"),
                        ("not_seen", "not-seen"),
                        ("cancelled_by_patient", "cancelled-by-patient"),
                        ("cancelled_by_provider", "cancelled-by-provider"),
                        ("booked", "booked"),
                    )
                ),
            )
            .where(C.c.status != "entered-in-error", *only(C.c.referral_id))
            .group_by(C.c.referral_id)
            .subquery("contact_counts")
        )
        links = (
            select(
                LINK.c.referral_id,
                func.max(flag(LINK.c.link_type == "re-referral-of")).label("re_referral"),
                func.max(flag(LINK.c.link_type == "concurrent-other-role")).label("parallel"),
            )
            .where(*only(LINK.c.referral_id))
            .group_by(LINK.c.referral_id)
            .subquery("link_flags")
        )
        coded_reason = and_(RR.c.reason_group.is_not(None), RR.c.reason_group != NOT_RECORDED_GROUP)
        reasons = (
            select(
                RR.c.referral_id,
                func.count().label("reasons"),
                func.max(flag(coded_reason)).label("coded"),
            )
            .where(*only(RR.c.referral_id))
            .group_by(RR.c.referral_id)
            .subquery("reason_counts")
        )
        supported = (
            select(S.c.referral_id)
            .where(*only(S.c.referral_id))
            .group_by(S.c.referral_id)
            .subquery("supported")
        )
        addressed = or_(
            *(
                and_(RR.c.reason_group == group, S.c.support_group.in_(targets))
                for group, targets in mapping.items()
            )
        )
        needs_met = (
            select(RR.c.referral_id, func.max(flag(addressed)).label("met"))
            .join(S, S.c.referral_id == RR.c.referral_id)
            .where(*only(RR.c.referral_id))
            .group_by(RR.c.referral_id)
            .subquery("needs_met")
        )
        closed = L.c.status == "closed"
        columns: dict[str, ColumnElement[Any]] = {
            "referral_id": R.c.id,
            "authored_on": utc_date(d, R.c.authored_at),
            "month": utc_month(d, R.c.authored_at),
            "role": R.c.received_by_role,
            "source": R.c.source_of_referral_group,
            "source_system": R.c.source_system,
            "practice": P.c.practice_ods,
            "pcn": P.c.pcn_ods,
            "age_band": P.c.age_band,
            "gender": P.c.gender,
            "ethnicity": P.c.ethnic_group,
            "ethnic_category": P.c.ethnic_category,
            "imd_decile": IMD.c.imd_decile,
            "person_key": K.c.person_key,
            "lsoa_code": P.c.lsoa_code,
            "status": func.coalesce(L.c.status, "received"),
            "first_contact_days": days_between(d, R.c.authored_at, L.c.first_contact_at),
            "closure_days": case(
                (
                    and_(closed, L.c.closed_at.is_not(None)),
                    days_between(d, R.c.authored_at, L.c.closed_at),
                ),
            ),
            "closure_reason_code": case((closed, L.c.closure_reason_code)),
            "decline_reason_code": case((L.c.status == "declined", L.c.decline_reason_code)),
            **{
                name: func.coalesce(contacts.c[name], 0)
                for name in (
                    "contacts",
                    "attended",
                    "dna",
                    "not_seen",
                    "cancelled_by_patient",
                    "cancelled_by_provider",
                    "booked",
                )
            },
            "several_reasons": flag(func.coalesce(reasons.c.reasons, 0) > 1),
            "has_need": func.coalesce(reasons.c.coded, 0),
            "has_support": flag(supported.c.referral_id.is_not(None)),
            "need_met": func.coalesce(needs_met.c.met, 0),
            "re_referral": func.coalesce(links.c.re_referral, 0),
            "parallel": func.coalesce(links.c.parallel, 0),
            "reason_coded": func.coalesce(reasons.c.coded, 0),
            "source_coded": flag(
                and_(
                    R.c.source_of_referral_group.is_not(None),
                    R.c.source_of_referral_group != UNKNOWN_SOURCE_GROUP,
                )
            ),
            "has_person": flag(P.c.referral_id.is_not(None)),
            "has_age_band": flag(P.c.age_band.is_not(None)),
            "gender_coded": flag(and_(P.c.gender.is_not(None), P.c.gender != GENDER_NOT_KNOWN)),
            "ethnicity_coded": flag(
                and_(
                    P.c.ethnic_category.is_not(None),
                    P.c.ethnic_category != ETHNIC_CATEGORY_NOT_KNOWN,
                )
            ),
            "has_lsoa": flag(P.c.lsoa_code.is_not(None)),
            "has_practice": flag(P.c.practice_ods.is_not(None)),
            "has_pcn": flag(P.c.pcn_ods.is_not(None)),
            "closure_reason_recorded": flag(and_(closed, L.c.closure_reason_code.is_not(None))),
        }
        source = (
            R.outerjoin(P, P.c.referral_id == R.c.id)
            .outerjoin(IMD, IMD.c.lsoa_code == P.c.lsoa_code)
            .outerjoin(L, L.c.referral_id == R.c.id)
            .outerjoin(K, K.c.referral_id == R.c.id)
            .outerjoin(contacts, contacts.c.referral_id == R.c.id)
            .outerjoin(links, links.c.referral_id == R.c.id)
            .outerjoin(reasons, reasons.c.referral_id == R.c.id)
            .outerjoin(supported, supported.c.referral_id == R.c.id)
            .outerjoin(needs_met, needs_met.c.referral_id == R.c.id)
        )
        query = select(*(expr.label(name) for name, expr in columns.items())).select_from(source)
        query = query.where(*only(R.c.id))
        await self.session.execute(insert(ReportReferral).from_select(list(columns), query))

    def _with_dimensions(
        self, key: ColumnElement[str], query: Select[Any], names: Sequence[str]
    ) -> tuple[list[str], Select[Any]]:
        """Add the referral's dimensions (from its report_referral row) to a fact query."""
        joined = query.join(F, F.c.referral_id == key).add_columns(
            *(F.c[name] for name in DIMENSION_COLUMNS)
        )
        return [*names, *DIMENSION_COLUMNS], joined

    async def insert_reason_facts(self, ids: Ids, mapping: dict[str, tuple[str, ...]]) -> None:
        """One row per reason; `need_met` when support in a group the map gives is offered."""
        addressed = or_(
            *(
                and_(RR.c.reason_group == group, S.c.support_group.in_(targets))
                for group, targets in mapping.items()
            )
        )
        position = func.row_number().over(
            partition_by=(RR.c.referral_id, RR.c.reason_group), order_by=RR.c.rank
        )
        query = select(
            RR.c.referral_id,
            RR.c.reason_code,
            RR.c.reason_group,
            flag(position == 1),
            flag(exists().where(S.c.referral_id == RR.c.referral_id)),
            flag(exists().where(S.c.referral_id == RR.c.referral_id, addressed)),
        )
        if ids is not None:
            query = query.where(self.among(RR.c.referral_id, ids))
        names, joined = self._with_dimensions(
            RR.c.referral_id,
            query,
            [
                "referral_id",
                "reason_code",
                "reason_group",
                "group_first",
                "has_support",
                "need_met",
            ],
        )
        await self.session.execute(insert(ReportReason).from_select(names, joined))

    async def insert_pair_facts(self, ids: Ids) -> None:
        """Pairs of reasons, and of distinct reason groups, on one referral."""
        for level, column in (("reason", "reason_code"), ("reason-group", "reason_group")):
            first = RR.alias("first_reason")
            second = RR.alias("second_reason")
            query = (
                select(first.c.referral_id, literal(level), first.c[column], second.c[column])
                .join(
                    second,
                    and_(
                        second.c.referral_id == first.c.referral_id,
                        second.c[column] > first.c[column],
                    ),
                )
                .where(first.c[column].is_not(None), first.c[column] != NOT_RECORDED_GROUP)
            )
            if ids is not None:
                query = query.where(self.among(first.c.referral_id, ids))
            if level == "reason-group":
                query = query.distinct()
            names, joined = self._with_dimensions(
                first.c.referral_id, query, ["referral_id", "level", "first", "second"]
            )
            await self.session.execute(insert(ReportReasonPair).from_select(names, joined))

    async def insert_support_facts(self, ids: Ids) -> None:
        query = select(
            S.c.referral_id,
            S.c.support_code,
            func.max(S.c.support_group),
            func.count(),
            func.sum(flag(S.c.kind == "referral")),
        ).group_by(S.c.referral_id, S.c.support_code, *(F.c[n] for n in DIMENSION_COLUMNS))
        if ids is not None:
            query = query.where(self.among(S.c.referral_id, ids))
        names, joined = self._with_dimensions(
            S.c.referral_id,
            query,
            ["referral_id", "support_code", "support_group", "offers", "onward_referrals"],
        )
        await self.session.execute(insert(ReportSupport).from_select(names, joined))

    async def insert_score_facts(self, ids: Ids) -> None:
        """Per referral and score: the first baseline and the last follow-up after it."""
        live = A.c.status.not_in(wellbeing.WITHDRAWN_STATUSES)
        mine = [] if ids is None else [self.among(A.c.referral_id, ids)]
        totals = select(
            A.c.referral_id,
            A.c.id.label("assessment_id"),
            A.c.instrument.label("measure"),
            A.c.timepoint,
            A.c.assessed_at,
            A.c.total_score.label("value"),
        ).where(
            live, A.c.total_score.is_not(None), A.c.instrument.in_(wellbeing.TOTAL_MEASURES), *mine
        )
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
            .where(
                live, AS.c.value.is_not(None), AS.c.item_code.in_(wellbeing.ITEM_MEASURES), *mine
            )
        )
        scores = union_all(totals, items).subquery("score")

        def chosen(timepoints: Sequence[str], latest: bool, name: str) -> Any:
            order = (
                (scores.c.assessed_at.desc(), scores.c.assessment_id.desc())
                if latest
                else (scores.c.assessed_at, scores.c.assessment_id)
            )
            number = func.row_number().over(
                partition_by=(scores.c.referral_id, scores.c.measure), order_by=order
            )
            ranked = (
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
            return select(ranked).where(ranked.c.position == 1).subquery(name)

        baseline = chosen(("baseline",), latest=False, name="baseline")
        follow_up = chosen(wellbeing.FOLLOW_UP_TIMEPOINTS, latest=True, name="follow_up")
        instrument = case(
            *(
                (baseline.c.measure == m, literal(wellbeing.instrument_of(m)))
                for m in wellbeing.measures()
            ),
            else_=baseline.c.measure,
        )
        query = select(
            baseline.c.referral_id,
            baseline.c.measure,
            instrument,
            baseline.c.value,
            follow_up.c.value,
        ).join(
            follow_up,
            and_(
                follow_up.c.referral_id == baseline.c.referral_id,
                follow_up.c.measure == baseline.c.measure,
                follow_up.c.assessed_at > baseline.c.assessed_at,
            ),
        )
        names, joined = self._with_dimensions(
            baseline.c.referral_id,
            query,
            ["referral_id", "measure", "instrument", "baseline", "follow_up"],
        )
        await self.session.execute(insert(ReportScore).from_select(names, joined))

    async def update_imd(self) -> None:
        """The IMD decile of every fact row, after the IMD lookup was reloaded."""
        decile = select(IMD.c.imd_decile).where(IMD.c.lsoa_code == F.c.lsoa_code).scalar_subquery()
        await self.session.execute(update(ReportReferral).values(imd_decile=decile))
        for table in FACT_TABLES[1:]:
            await self.session.execute(
                update(table).values(
                    imd_decile=select(F.c.imd_decile)
                    .where(F.c.referral_id == table.referral_id)
                    .scalar_subquery()
                )
            )

    async def analyse(self) -> None:
        """Fresh planner statistics after a bulk (re)build (PostgreSQL)."""
        if self.dialect == "postgresql":
            for table in ("report_person", *(t.__tablename__ for t in FACT_TABLES)):
                await self.session.execute(text(f"ANALYZE {table}"))

    def _insert(self, model: Any) -> Any:
        if self.dialect == "postgresql":
            return postgresql_insert(model)
        return sqlite_insert(model)


def _aware(value: datetime | str | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
