"""Report tables: lookups, the report facts, the change queue that keeps them current, and the
person pseudonyms.

The facts are narrow, denormalised copies of what reports aggregate: one row per referral
(`report_referral`) and one per reason, reason pair, support type, wellbeing score and paired
service-use count, each carrying the referral's dimensions so a report is one scan of one
table; and one per worker's activity on a referral (`report_activity`, for the workers
report, which has dimensions of its own). They are derived from
the normalised tables and never edited by hand: triggers on those tables (see the
`report_facts` revision) record every changed referral in `report_change`, and
`reports.facts.refresh`, run by the refresh worker (`reports.refresher`), rebuilds the facts
of those referrals; a report request only reads them.
To keep the rows small (a scan reads every byte), a referral is a small integer
(`report_key`) and a dimension value a small integer code (`report_code`); flags are 0/1
small integers so reports can SUM them.
"""

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    Float,
    Index,
    Integer,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, MappedColumn, mapped_column
from sqlalchemy.types import TypeEngine

from referral_api.db import Base, owner_key
from referral_api.reports.data_quality import QUALITY_FLAGS
from referral_api.reports.dimensions import FACT_DIMENSIONS, DimensionSpec, coded_columns
from referral_api.reports.measures import (
    CODED_MEASURES,
    MEASURES,
    REASON_MONTH_COUNTS,
    REASON_PEOPLE_MONTH_COUNTS,
    REASON_WAIT_MONTH_COUNTS,
    REFERRAL_MONTH_COUNTS,
    SERVICE_USE_MONTH_COUNTS,
    SUPPORT_MONTH_COUNTS,
    TAG_SUMS,
    WAIT_MONTH_COUNTS,
    MeasureKind,
    MeasureSpec,
)
from referral_api.reports.workers import ACTIVITY_FLAGS, ACTIVITY_TOTAL_COUNTS
from signpost_platform.db import UtcDateTime


class LsoaImd(Base):
    """The Index of Multiple Deprivation decile of one LSOA (English Indices of Deprivation)."""

    __tablename__ = "lsoa_imd"

    lsoa_code: Mapped[str] = mapped_column(String(9), primary_key=True)
    # 1 is the most deprived tenth of LSOAs in England, 10 the least deprived.
    imd_decile: Mapped[int] = mapped_column(SmallInteger)
    imd_rank: Mapped[int | None]
    lsoa_vintage: Mapped[str] = mapped_column(String(4))


class ListSize(Base):
    """Registered patients of a practice or PCN in one age band and sex (the rate denominator).

    Practice rows carry their PCN; PCN rows are loaded as published or summed from practices.
    """

    __tablename__ = "list_size"

    area_type: Mapped[str] = mapped_column(String(8), primary_key=True)  # practice | pcn
    area_code: Mapped[str] = mapped_column(String(10), primary_key=True)
    age_band: Mapped[str] = mapped_column(String(8), primary_key=True)
    sex: Mapped[str] = mapped_column(String(8), primary_key=True)  # male | female
    population: Mapped[int]
    pcn_ods: Mapped[str | None] = mapped_column(String(10))
    extract_on: Mapped[date | None] = mapped_column(Date)


class ReportPerson(Base):
    """The keyed pseudonym of a referral's person: reports count people by it, never by NHS
    number. `referral_version` is the referral version it was keyed from."""

    __tablename__ = "report_person"

    referral_id: Mapped[str] = owner_key("referral.id")
    person_key: Mapped[int] = mapped_column(BigInteger)
    referral_version: Mapped[int]


class ReportChange(Base):
    """A referral whose report facts are out of date (written by triggers, drained by
    `reports.facts.refresh`). A referral may be listed several times."""

    __tablename__ = "report_change"

    sequence: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    referral_id: Mapped[str] = mapped_column(String(36))


class ReportState(Base):
    """One row: the fingerprint of the key the pseudonyms were made with, and when the facts
    were last brought up to date."""

    __tablename__ = "report_state"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    key_fingerprint: Mapped[str] = mapped_column(String(16))
    refreshed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ReportKey(Base):
    """The small integer that stands for a referral in the fact tables (a UUID is 37 bytes a
    row). Kept when the referral is deleted, until the refresh has deleted its facts."""

    __tablename__ = "report_key"

    referral_key: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    referral_id: Mapped[str] = mapped_column(String(36), unique=True)


class ReportCode(Base):
    """The small integer that stands for a value of a dimension in the fact tables (a role, a
    practice, a reason ...), assigned the first time the value is seen."""

    __tablename__ = "report_code"

    dimension: Mapped[str] = mapped_column(String(16), primary_key=True)
    # Long enough for a worker's staff identifier (system|value); an integer, so a dimension
    # with many values (workers) never runs out of codes.
    value: Mapped[str] = mapped_column(String(512), primary_key=True)
    code: Mapped[int] = mapped_column(Integer)

    __table_args__ = (UniqueConstraint("dimension", "code"),)


def _dimension_column(spec: DimensionSpec) -> MappedColumn[Any]:
    """The fact column of a declared dimension (`reports.dimensions.SPECS`)."""
    if spec.coding == "date":
        return mapped_column(Date, nullable=not spec.required)
    if spec.coding == "record-key":
        return mapped_column(SmallInteger, nullable=False, server_default="0")
    return mapped_column(SmallInteger, nullable=not spec.required)


class ReferralDimensions:
    """The referral's dimensions, copied into every fact table (what reports filter and group
    by), as `report_code` codes except the date, month and IMD decile: one column per
    `FACT_DIMENSIONS` entry, added below."""

    # No foreign key: a deleted referral is queued like any change and its facts deleted by
    # the refresh, and bulk rebuilds do not pay a key check per row.
    referral_key: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)


for _spec in FACT_DIMENSIONS:
    assert _spec.column is not None
    setattr(ReferralDimensions, _spec.column, _dimension_column(_spec))

# The types of measure columns (`reports.measures.MEASURES`) by what they hold.
_MEASURE_TYPES: dict[MeasureKind, type[TypeEngine[int]]] = {
    "flag": SmallInteger,
    "count": SmallInteger,
    "code": SmallInteger,
    "days": Integer,
    "pseudonym": BigInteger,
    "tag": Integer,
}


def _measure_column(spec: MeasureSpec) -> MappedColumn[Any]:
    """The fact column of a declared measure."""
    return mapped_column(
        _MEASURE_TYPES[spec.kind], nullable=not spec.required, server_default=spec.default
    )


class ReferralMeasures:
    """The referral's measures (`MEASURES`), one column each, added below."""


class CopiedMeasures:
    """The referral's measures the reason and service-use facts carry too (`on_reasons`: the
    person's pseudonym, tag and shared flag, and the waits), added below."""


for _measure in MEASURES:
    setattr(ReferralMeasures, _measure.column, _measure_column(_measure))
    if _measure.on_reasons:
        setattr(CopiedMeasures, _measure.column, _measure_column(_measure))

# Fact columns holding a `report_code` code, and the dictionary dimension of their values:
# the declared dimensions', the measures' and the child facts' own categories.
CODED_COLUMNS = {
    **coded_columns(),
    **CODED_MEASURES,
    "support": "support",
    "support_group": "support-group",
    "measure": "measure",
    "instrument": "instrument",
}


# People counted by their previous month (docs/reports.md): the breakdowns (group-by
# dimensions) whose people are counted so, and the `report_referral` column holding, on each
# row of a person with other referrals, the month of that person's previous referral in the
# same group (ordered by referral date, then referral key); NULL on their first, and for a
# person referred once. Over a run of whole months a..b a person is counted once: on the row
# with a <= month <= b whose previous month is NULL or before a.
PREVIOUS_MONTH_COLUMNS: dict[frozenset[str], str] = {
    frozenset(): "previous_month",
    frozenset({"month"}): "previous_month_by_month",
    frozenset({"role"}): "previous_month_by_role",
    frozenset({"pcn", "role"}): "previous_month_by_pcn_role",
    frozenset({"practice"}): "previous_month_by_practice",
}
# The column of no breakdown: the previous month of the person's referrals in any group.
PREVIOUS_MONTH = PREVIOUS_MONTH_COLUMNS[frozenset()]
# The same for reason groups, on the reason facts' `group_first` rows (a referral is in each of
# its groups).
REASON_GROUP_PREVIOUS_MONTH = "previous_month_by_reason_group"


# The same for the service-use facts, per measure (a person is counted in each measure they
# have rows of; so their `previous_month` too is the person's previous month in the measure):
# by the breakdown, the column of `report_service_use` or, by reason group, of
# `report_service_use_reason`.
SERVICE_USE_PREVIOUS_MONTH_COLUMNS: dict[frozenset[str], str] = {
    frozenset(): PREVIOUS_MONTH,
    frozenset({"role"}): "previous_month_by_role",
    frozenset({"reason-group"}): REASON_GROUP_PREVIOUS_MONTH,
    frozenset({"reason-group", "role"}): "previous_month_by_role_reason_group",
}


class PreviousMonths:
    """The referral's previous months (`PREVIOUS_MONTH_COLUMNS`), one column each, added
    below."""


for _column in PREVIOUS_MONTH_COLUMNS.values():
    setattr(PreviousMonths, _column, mapped_column(SmallInteger, nullable=True))


class ReportReferral(ReferralDimensions, ReferralMeasures, PreviousMonths, Base):
    """One referral: its dimensions and its measures (pseudonym, lifecycle, waits, contacts,
    links, support match and which minimum-dataset fields are present and coded), and its
    person's previous months (`PREVIOUS_MONTH_COLUMNS`)."""

    __tablename__ = "report_referral"

    __table_args__ = (
        Index("ix_report_referral_authored_on", "authored_on"),
        Index("ix_report_referral_person_key", "person_key"),
        # The referrals in parallel, with what the `re-referrals` report counts their people
        # by (an index-only scan on PostgreSQL).
        Index(
            "ix_report_referral_parallel",
            "month",
            postgresql_include=["role", "source_system", "person_key", "person_tag"],
            postgresql_where=text("parallel = 1"),
            sqlite_where=text("parallel = 1"),
        ),
    )


class ReportReason(ReferralDimensions, CopiedMeasures, Base):
    """One reason of a referral. `group_first` is 1 on one row per (referral, reason group),
    so group counts count referrals; `referral_first` is 1 on one of those rows per referral
    (its first reason), so the same scan counts each referral once; `need_met` is 1 when
    support offered to the referral addresses the reason's group. On the `referral_first` row
    only, `first_has_need` and `first_need_met` carry the referral's own `has_need` and
    `need_met` (0 on its other rows), so the support-match total counts each referral once in
    the scan that counts its needs. The referral's pseudonym,
    tag and waits are copied onto it (`CopiedMeasures`), so counts and waits by reason need
    no join. The referral's `previous_month` (of any group) is copied onto it too, and on
    `group_first` rows `previous_month_by_reason_group` is the person's previous month in the
    group (`REASON_GROUP_PREVIOUS_MONTH`): people by reason group and in total come from one
    scan."""

    __tablename__ = "report_reason"

    reason: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    reason_group: Mapped[int | None] = mapped_column(SmallInteger)
    group_first: Mapped[int] = mapped_column(SmallInteger)
    referral_first: Mapped[int] = mapped_column(SmallInteger, server_default="0")
    has_support: Mapped[int] = mapped_column(SmallInteger)
    need_met: Mapped[int] = mapped_column(SmallInteger)
    first_has_need: Mapped[int] = mapped_column(SmallInteger, server_default="0")
    first_need_met: Mapped[int] = mapped_column(SmallInteger, server_default="0")
    previous_month: Mapped[int | None] = mapped_column(SmallInteger)
    previous_month_by_reason_group: Mapped[int | None] = mapped_column(SmallInteger)

    __table_args__ = (
        PrimaryKeyConstraint("referral_key", "reason"),
        Index("ix_report_reason_reason", "reason", "referral_key"),
        Index("ix_report_reason_reason_group", "reason_group", "referral_key"),
    )


class ReportReasonPair(ReferralDimensions, Base):
    """Two reasons (`level` 1) or two reason groups (`level` 2) given on the same referral,
    as codes, `first` < `second`."""

    __tablename__ = "report_reason_pair"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    first: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    second: Mapped[int] = mapped_column(SmallInteger, primary_key=True)

    __table_args__ = (PrimaryKeyConstraint("referral_key", "level", "first", "second"),)


class ReferralMonthCounts:
    """The counts of `report_referral_month` (`REFERRAL_MONTH_COUNTS`), each beside its key
    sum, added below."""


class ReasonMonthCounts:
    """The counts of `report_reason_month` (`REASON_MONTH_COUNTS`), each beside its key sum,
    added below."""


class SupportMonthCounts:
    """The counts of `report_support_month` (`SUPPORT_MONTH_COUNTS`), each beside its key sum,
    added below."""


class ReasonPeopleMonthCounts:
    """The counts of `report_reason_people_month` (`REASON_PEOPLE_MONTH_COUNTS`), each beside
    its key sum, added below."""


class ServiceUseMonthCounts:
    """The counts of `report_service_use_month` (`SERVICE_USE_MONTH_COUNTS`), each beside its
    key sum, added below."""


class WaitMonthCounts:
    """The counts of `report_wait_month` (`WAIT_MONTH_COUNTS`), each beside its key sum, added
    below."""


class ReasonWaitMonthCounts:
    """The counts of `report_reason_wait_month` (`REASON_WAIT_MONTH_COUNTS`), each beside its
    key sum, added below."""


class ActivityTotalCounts:
    """The counts of `report_activity_total` (`workers.ACTIVITY_TOTAL_COUNTS`), each beside its
    key sum, added below."""


for _counts, _names in (
    (ReferralMonthCounts, REFERRAL_MONTH_COUNTS),
    (ReasonMonthCounts, REASON_MONTH_COUNTS),
    (SupportMonthCounts, SUPPORT_MONTH_COUNTS),
    (ReasonPeopleMonthCounts, REASON_PEOPLE_MONTH_COUNTS),
    (ServiceUseMonthCounts, SERVICE_USE_MONTH_COUNTS),
    (WaitMonthCounts, WAIT_MONTH_COUNTS),
    (ReasonWaitMonthCounts, REASON_WAIT_MONTH_COUNTS),
    (ActivityTotalCounts, ACTIVITY_TOTAL_COUNTS),
):
    for _count in _names:
        _type = BigInteger if _count in TAG_SUMS else Integer
        setattr(_counts, _count, mapped_column(_type, nullable=False))
        setattr(_counts, f"{_count}_cell_key", mapped_column(BigInteger, nullable=False))


class ReportReferralMonth(ReferralMonthCounts, Base):
    """The referral facts counted per month, role, source system and lifecycle status
    (`REFERRAL_MONTH_COUNTS`, with their record keys' sums): the `reason-pairs` report's
    denominators and the completeness, attendance and outcomes reports' counts over whole
    months. Kept by the refresh like `report_reason_pair_month`."""

    __tablename__ = "report_referral_month"

    month: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    role: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    source_system: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    status: Mapped[int] = mapped_column(SmallInteger, primary_key=True)


class ReportReasonMonth(ReasonMonthCounts, Base):
    """The reason facts counted per month, role, source system, reason and reason group
    (`REASON_MONTH_COUNTS`, with their record keys' sums): every reason row, the rows first of
    their referral's group and of their referral, and the support-match counts on the group
    rows. A reason with no group is kept under `NO_VALUE` (-1), which reads as no value. Kept
    by the refresh like `report_reason_pair_month`."""

    __tablename__ = "report_reason_month"

    month: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    role: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    source_system: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    reason: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    reason_group: Mapped[int] = mapped_column(SmallInteger, primary_key=True)


class ReportSupportMonth(SupportMonthCounts, Base):
    """The support facts counted per month, role, source system, support, support group and
    their referral's status (`SUPPORT_MONTH_COUNTS`, with their record keys' sums): every row,
    the rows first of their referral's group, the offers and the onward referrals. Kept by the
    refresh like `report_reason_pair_month`."""

    __tablename__ = "report_support_month"

    month: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    role: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    source_system: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    support: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    support_group: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    status: Mapped[int] = mapped_column(SmallInteger, primary_key=True)


class ReportReasonPeopleMonth(ReasonPeopleMonthCounts, Base):
    """The reason facts counted per month, reason group and the previous months people are
    counted by (`REASON_PEOPLE_MONTH_COUNTS`): the group rows by `previous_month_by_reason_group`
    (`previous`) and the referrals' first rows by `previous_month` (`first_previous`), each
    with the person tags summed; no group is kept under `NO_VALUE` (-1), no previous month
    under `NO_MONTH` (below every month).
    The referrals report by reason group over whole months, unfiltered, reads this. Kept by the
    refresh like `report_reason_pair_month`."""

    __tablename__ = "report_reason_people_month"

    month: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    reason_group: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    previous: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    first_previous: Mapped[int] = mapped_column(SmallInteger, primary_key=True)


class ReportServiceUseMonth(ServiceUseMonthCounts, Base):
    """The service-use facts by reason group counted per month, role, reason group, measure and
    the previous months people are counted by (`SERVICE_USE_MONTH_COUNTS`): in the reason group
    (`previous_group`), in the role and reason group (`previous_role_group`) and of any group
    (`first_previous`); no group under `NO_VALUE` (-1), no previous month under `NO_MONTH`
    (below every month). The service-use report by
    reason group (and role) over whole months, unfiltered, reads this. Kept by the refresh like
    `report_reason_pair_month`."""

    __tablename__ = "report_service_use_month"

    month: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    role: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    reason_group: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    measure: Mapped[str] = mapped_column(String(32), primary_key=True)
    previous_group: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    previous_role_group: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    first_previous: Mapped[int] = mapped_column(SmallInteger, primary_key=True)


class ReportWaitMonth(WaitMonthCounts, Base):
    """The referral facts counted per month, role, source system and histogram of the
    waiting-times report (`wait`, `facts_repository.WAIT_CODES`): every referral under 0
    (`days` 0); under 1 and 2 those with a first attended contact and those closed, by the
    days they waited. The waiting-times report over whole months, grouped and filtered by
    month, role and source system alone, reads this. Kept by the refresh like
    `report_reason_pair_month`."""

    __tablename__ = "report_wait_month"

    month: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    role: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    source_system: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    wait: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    days: Mapped[int] = mapped_column(Integer, primary_key=True)


class ReportReasonWaitMonth(ReasonWaitMonthCounts, Base):
    """The reason facts counted per month, reason group and histogram, as `report_wait_month`:
    every row, the group rows and, of them, the referrals' first rows; no group is kept under
    `NO_VALUE` (-1). The waiting-times report by reason group over whole months, unfiltered,
    reads this. Kept by the refresh like `report_reason_pair_month`."""

    __tablename__ = "report_reason_wait_month"

    month: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    reason_group: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    wait: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    days: Mapped[int] = mapped_column(Integer, primary_key=True)


class ReportReasonPairMonth(Base):
    """The reason-pair facts summed per month and role: how many referrals carry each pair
    (of reasons, `level` 1, or of reason groups, `level` 2) and their record keys' sum. Kept
    by the refresh as it replaces pair facts (their counts taken off, the new ones added), so
    the `reason-pairs` report over whole months, grouped and filtered by role and month alone,
    reads this rather than every pair."""

    __tablename__ = "report_reason_pair_month"

    month: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    role: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    first: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    second: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    referrals: Mapped[int] = mapped_column(Integer)
    referrals_cell_key: Mapped[int] = mapped_column(BigInteger)


class ReportSupport(ReferralDimensions, Base):
    """One type of support offered to a referral: how many times, how many as onward
    referrals. `group_first` is 1 on one row per (referral, support group), so group counts
    count referrals. The referral's lifecycle `status` is copied onto it, so referrals by
    support group and status need no join."""

    __tablename__ = "report_support"

    support: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    support_group: Mapped[int] = mapped_column(SmallInteger)
    group_first: Mapped[int] = mapped_column(SmallInteger, server_default="0")
    offers: Mapped[int] = mapped_column(SmallInteger)
    onward_referrals: Mapped[int] = mapped_column(SmallInteger)
    status: Mapped[int | None] = mapped_column(SmallInteger)

    __table_args__ = (PrimaryKeyConstraint("referral_key", "support"),)


class ReportScore(ReferralDimensions, Base):
    """A referral's paired wellbeing score: its first baseline and last later follow-up."""

    __tablename__ = "report_score"

    measure: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    instrument: Mapped[int] = mapped_column(SmallInteger)
    baseline: Mapped[float] = mapped_column(Float)
    follow_up: Mapped[float] = mapped_column(Float)

    __table_args__ = (PrimaryKeyConstraint("referral_key", "measure"),)


class ReportServiceUse(ReferralDimensions, CopiedMeasures, Base):
    """A referral's paired service use for one measure: its live counts in the period before
    and in the period after (`service_use`); a referral without both has no row. The
    referral's pseudonym and tag are copied onto it, so people are counted with no join."""

    __tablename__ = "report_service_use"

    measure: Mapped[str] = mapped_column(String(32), primary_key=True)
    before: Mapped[int] = mapped_column(Integer)
    after: Mapped[int] = mapped_column(Integer)

    previous_month: Mapped[int | None] = mapped_column(SmallInteger)
    previous_month_by_role: Mapped[int | None] = mapped_column(SmallInteger)

    __table_args__ = (PrimaryKeyConstraint("referral_key", "measure"),)


class ReportServiceUseReason(ReferralDimensions, CopiedMeasures, Base):
    """A row of `report_service_use` once per reason group of its referral (the reason
    facts' `group_first` rows), so service use by reason group needs no join. `use_first` is
    1 on one row per referral and measure (its referral's `referral_first` reason), so the
    same scan counts the whole scope once. Its previous months
    (`SERVICE_USE_PREVIOUS_MONTH_COLUMNS`) are in the group; `previous_month`, of any group,
    is copied from `report_service_use`."""

    __tablename__ = "report_service_use_reason"

    measure: Mapped[str] = mapped_column(String(32), primary_key=True)
    # The group's first reason (the reason facts' `group_first` row it was copied with).
    reason: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    reason_group: Mapped[int | None] = mapped_column(SmallInteger)
    use_first: Mapped[int] = mapped_column(SmallInteger)
    before: Mapped[int] = mapped_column(Integer)
    after: Mapped[int] = mapped_column(Integer)
    previous_month: Mapped[int | None] = mapped_column(SmallInteger)
    previous_month_by_reason_group: Mapped[int | None] = mapped_column(SmallInteger)
    previous_month_by_role_reason_group: Mapped[int | None] = mapped_column(SmallInteger)

    __table_args__ = (PrimaryKeyConstraint("referral_key", "measure", "reason"),)


class ReportActivity(Base):
    """A worker's activity on a referral, for the workers report: a contact they were a
    participant in (`contact` numbers the referral's live contacts from 1; `day` and `until`
    its date, `outcome` its attendance outcome), or the referral held as its Task's owner
    (`contact` 0; `day` the referral date, `until` the day it ended, NULL while open).
    `worker` and `role` are `report_code` codes; `record_key` is the referral's. The
    `first_of_*` flags (`workers.FIRST_FLAGS`, added below) mark the first row of each
    referral and contact per grouping."""

    __tablename__ = "report_activity"

    referral_key: Mapped[int] = mapped_column(Integer)
    contact: Mapped[int] = mapped_column(Integer)
    worker: Mapped[int] = mapped_column(Integer)
    role: Mapped[int] = mapped_column(SmallInteger)
    record_key: Mapped[int] = mapped_column(SmallInteger)
    day: Mapped[date | None] = mapped_column(Date)
    until: Mapped[date | None] = mapped_column(Date)
    # 1 attended, 2 did not attend, 3 arrived late and not seen (`workers.OUTCOME_CODES`).
    outcome: Mapped[int | None] = mapped_column(SmallInteger)

    __table_args__ = (PrimaryKeyConstraint("referral_key", "contact", "worker", "role"),)


for _flag in ACTIVITY_FLAGS:
    setattr(ReportActivity, _flag, mapped_column(SmallInteger, nullable=False))


class ReportActivityTotal(ActivityTotalCounts, Base):
    """The activity facts counted per role, worker and attendance outcome over all time
    (`workers.ACTIVITY_TOTAL_COUNTS`, each beside its key sum, added below): every row, the
    contact rows and the first-row flags. No outcome counted (a referral held; a contact with
    another outcome, or none yet) is kept under `NO_VALUE` (-1). The workers report over all
    time, grouped and filtered by role and worker alone, reads this. Kept by the refresh like
    `report_reason_pair_month`."""

    __tablename__ = "report_activity_total"

    role: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    worker: Mapped[int] = mapped_column(Integer, primary_key=True)
    outcome: Mapped[int] = mapped_column(SmallInteger, primary_key=True)


class QualityFlags:
    """Whether a referral has any recorded gap, each warning's and the others: one 0/1 column
    per `data_quality.QUALITY_FLAGS` entry, added below."""


class QualityCounts:
    """Per `data_quality.QUALITY_FLAGS` entry, the referrals flagged and their key sum,
    added below."""


for _flag in QUALITY_FLAGS:
    setattr(QualityFlags, _flag, mapped_column(SmallInteger, nullable=False))
    setattr(QualityCounts, _flag, mapped_column(Integer, nullable=False))
    setattr(QualityCounts, f"{_flag}_cell_key", mapped_column(BigInteger, nullable=False))


class ReportQuality(QualityFlags, Base):
    """A referral as the data-quality report counts it: the day (UTC) Signpost received it,
    its source system and sender, its record key and its gap flags."""

    __tablename__ = "report_quality"

    referral_key: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    received_on: Mapped[date] = mapped_column(Date)
    source_system: Mapped[str] = mapped_column(String(16))
    sender: Mapped[str] = mapped_column(String(10))
    record_key: Mapped[int] = mapped_column(SmallInteger)

    __table_args__ = (
        Index("ix_report_quality_received_on", "received_on", "source_system", "sender"),
    )


class ReportQualityDay(QualityCounts, Base):
    """The data-quality counts of one day, source system and sender: the referrals received
    and those flagged, each with its key sum (key sums add up like the counts), so a report
    sums a few rows per sender and day instead of counting every referral. The refresh
    derives again the days of the referrals it derives."""

    __tablename__ = "report_quality_day"
    __table_args__ = (
        # One system and sender's days in a range: the refresh sums a month's days again per
        # (month, system, sender) key, a backlog 1,000 keys a statement.
        Index("ix_report_quality_day_sender", "source_system", "sender", "received_on"),
    )

    received_on: Mapped[date] = mapped_column(Date, primary_key=True)
    source_system: Mapped[str] = mapped_column(String(16), primary_key=True)
    sender: Mapped[str] = mapped_column(String(10), primary_key=True)
    referrals: Mapped[int] = mapped_column(Integer)
    referrals_cell_key: Mapped[int] = mapped_column(BigInteger)


class ReportQualityMonth(QualityCounts, Base):
    """The data-quality counts of one month (UTC), source system and sender: the sums of its
    days (`ReportQualityDay`), which the refresh sums again for the months of the days it
    counts again. A report over whole months (its default: every month) sums these, about a
    twentieth of the day rows."""

    __tablename__ = "report_quality_month"

    # Months since January 2000 (`expressions.day_month_number`).
    month: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    source_system: Mapped[str] = mapped_column(String(16), primary_key=True)
    sender: Mapped[str] = mapped_column(String(10), primary_key=True)
    referrals: Mapped[int] = mapped_column(Integer)
    referrals_cell_key: Mapped[int] = mapped_column(BigInteger)


class ReportUnmapped(Base):
    """An unmapped code recorded as a gap of a referral (once per element and code), with the
    referral's day received, source system, sender and record key."""

    __tablename__ = "report_unmapped"

    referral_key: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    element: Mapped[str] = mapped_column(String(255))
    code: Mapped[str | None] = mapped_column(String(320))
    received_on: Mapped[date] = mapped_column(Date)
    source_system: Mapped[str] = mapped_column(String(16))
    sender: Mapped[str] = mapped_column(String(10))
    record_key: Mapped[int] = mapped_column(SmallInteger)


# The facts that carry the referral's dimensions; `report_referral` first.
FACT_TABLES = (
    ReportReferral,
    ReportReason,
    ReportReasonPair,
    ReportSupport,
    ReportScore,
    ReportServiceUse,
    ReportServiceUseReason,
)
