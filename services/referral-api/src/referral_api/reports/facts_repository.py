"""All SQL that derives the report facts from the normalised referral tables.

A refresh of a set of referrals (`ids`; None means every referral) is a handful of set-based
statements whatever its size: give new referrals a key (`report_key`) and new dimension values
a code (`report_code`), delete the referrals' facts, then one INSERT ... SELECT per fact table
(and one each for the workers' activity and the data-quality facts), and derive again the
data-quality days (`report_quality_day`) of the referrals, before and after, and their months
(`report_quality_month`).
"""

import functools
from collections.abc import Awaitable, Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Concatenate, ParamSpec

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    Integer,
    SmallInteger,
    String,
    Subquery,
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
    not_,
    null,
    or_,
    select,
    text,
    true,
    tuple_,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.schema import Table
from sqlalchemy.sql.selectable import FromClause, Select, TableValuedAlias
from sqlalchemy.sql.type_api import TypeEngine

from referral_api.db import conflict_insert
from referral_api.geography.models import PracticePcn
from referral_api.lifecycle.models import (
    Assessment,
    AssessmentScore,
    Contact,
    ContactWorker,
    ReferralLifecycle,
    ReferralTask,
    SupportOffered,
)
from referral_api.linkage.models import ReferralLink
from referral_api.people.models import ReferralPerson
from referral_api.quality.models import ReferralGap
from referral_api.referrals.models import Referral, ReferralReason
from referral_api.reports import wellbeing
from referral_api.reports.data_quality import (
    ANY_UNMAPPED,
    OTHER_GAP,
    QUALITY_FLAGS,
    WARNINGS,
    WITH_GAP,
    QualityWarning,
)
from referral_api.reports.dimensions import (
    DIMENSION_COLUMNS,
    FACT_DIMENSIONS,
    SPECS,
    DimensionSpec,
    column_name,
)
from referral_api.reports.expressions import (
    day_month_number,
    first_day_of_month,
    flag,
    month_number,
    utc_date,
)
from referral_api.reports.measures import (
    COMPLETENESS_FLAGS,
    CONTACT_OUTCOME_COLUMNS,
    MEASURES,
    NOT_RECORDED_GROUP,
    ON_REASONS,
    REASON_MONTH_COUNTS,
    REASON_PEOPLE_MONTH_COUNTS,
    REASON_WAIT_MONTH_COUNTS,
    REFERRAL_MONTH_COUNTS,
    SERVICE_USE_MONTH_COUNTS,
    SUPPORT_MONTH_COUNTS,
    UNCODED_GROUPS,
    UNMATCHABLE_GROUPS,
    WAIT_MONTH_COUNTS,
    FactSources,
    MeasureSpec,
    ended_reason,
)
from referral_api.reports.models import (
    FACT_TABLES,
    PREVIOUS_MONTH,
    PREVIOUS_MONTH_COLUMNS,
    REASON_GROUP_PREVIOUS_MONTH,
    SERVICE_USE_PREVIOUS_MONTH_COLUMNS,
    LsoaImd,
    ReportActivity,
    ReportActivityTotal,
    ReportChange,
    ReportCode,
    ReportKey,
    ReportPerson,
    ReportQuality,
    ReportQualityDay,
    ReportQualityMonth,
    ReportReason,
    ReportReasonMonth,
    ReportReasonPair,
    ReportReasonPairMonth,
    ReportReasonPeopleMonth,
    ReportReasonWaitMonth,
    ReportReferral,
    ReportReferralMonth,
    ReportScore,
    ReportServiceUse,
    ReportServiceUseMonth,
    ReportServiceUseReason,
    ReportState,
    ReportSupport,
    ReportSupportMonth,
    ReportUnmapped,
    ReportWaitMonth,
)
from referral_api.reports.tables import key_of
from referral_api.reports.workers import (
    ACTIVITY_FLAGS,
    ACTIVITY_TOTAL_COUNTS,
    OUTCOME_CODES,
    WITHDRAWN,
)
from referral_api.service_use.models import ServiceUse
from signpost_platform.cell_keys import hex_number, key_sum, record_key
from signpost_platform.db import (
    AnySelect,
    DriverStatement,
    Repository,
    aware_utc,
    dialect_of,
    table_of,
)
from signpost_schemas.disclosure import RecordKeys
from signpost_schemas.fhir.gaps import GapKind
from signpost_schemas.fhir.service_use import WITHDRAWN_STATUSES

R = table_of(Referral)
P = table_of(ReferralPerson)
PRACTICE_PCN = table_of(PracticePcn)
IMD = table_of(LsoaImd)
L = table_of(ReferralLifecycle)
RR = table_of(ReferralReason)
C = table_of(Contact)
S = table_of(SupportOffered)
A = table_of(Assessment)
AS = table_of(AssessmentScore)
LINK = table_of(ReferralLink)
CW = table_of(ContactWorker)
T = table_of(ReferralTask)
SU = table_of(ServiceUse)
G = table_of(ReferralGap)
Q = table_of(ReportQuality)
QD = table_of(ReportQualityDay)
QM = table_of(ReportQualityMonth)
PERSON = table_of(ReportPerson)
KEY = table_of(ReportKey)
QUEUE = table_of(ReportChange)
CODE = table_of(ReportCode)
F = table_of(ReportReferral)
REASON_FACTS = table_of(ReportReason)
PAIR_FACTS = table_of(ReportReasonPair)
USE_FACTS = table_of(ReportServiceUse)
USE_REASON_FACTS = table_of(ReportServiceUseReason)
SUPPORT_FACTS = table_of(ReportSupport)
ACTIVITY_FACTS = table_of(ReportActivity)
OTHER = R.alias("other_referral")
# The PCN the referral was received with (the sender's, or the lookup's then), else the one the
# loaded practice-to-PCN lookup gives its practice now: a lookup loaded after the referral
# fills it when the facts are derived (with the person outer-joined to PRACTICE_PCN).
PERSON_PCN = func.coalesce(P.c.pcn_ods, PRACTICE_PCN.c.pcn_ods)
WITH_PRACTICE_PCN = P.outerjoin(PRACTICE_PCN, PRACTICE_PCN.c.practice_ods == P.c.practice_ods)
# The tables a declared dimension (`dimensions.SPECS`) may be read from, by name; the referral
# facts' SELECT joins each of them to the referral.
SOURCES = {
    "referral": R,
    "referral_person": P,
    "referral_reason": RR,
    "support_offered": S,
    "lsoa_imd": IMD,
}


@dataclass(frozen=True)
class MonthlyCounts:
    """Counts of a fact table (or of a SELECT of it with its `referral_key` and `record_key`)
    kept per month and role (and its other `keys`: column of the counts' table, the facts'
    value it holds) by the refresh: `counts` names each count and
    what it sums (None: every row), each beside its key sum. A report over whole months
    grouped and filtered by `dimensions` alone (the report dimensions among the keys) reads
    them (`reports.repository`). The workers' activity is counted over all time, with no
    month (`ACTIVITY_TOTALS`)."""

    table: Table
    facts: FromClause
    dimensions: tuple[str, ...]
    keys: dict[str, ColumnElement[Any]]
    counts: dict[str, ColumnElement[Any] | None]


def _same_names(counts: dict[str, ColumnElement[Any] | None], names: tuple[str, ...]) -> None:
    """What the counts sum is declared here, their names (the tables' columns) in `measures`:
    both must name the same counts, in the same order."""
    if tuple(counts) != names:
        raise RuntimeError(f"monthly counts {tuple(counts)} are not the table's {names}")


def _keys(facts: FromClause, *names: str) -> dict[str, ColumnElement[Any]]:
    """Keys that are the facts' own columns (`names`: report dimensions or column names)."""
    return {column_name(name): facts.c[column_name(name)] for name in names}


# The dimensions the referral, reason and support facts' monthly counts are kept by: a report
# over whole months grouped and filtered by these alone reads them (`reports.repository`).
MONTHLY_DIMENSIONS = ("month", "role", "source-system")
# A key with no value (a reason with no reason group), as the monthly counts hold it: no code,
# so it reads as no value, as the facts' NULL does.
NO_VALUE = -1
# No previous month, as the monthly counts by previous month hold it: below every month number
# a date can have (months count from January 2000, so December 1999 is -1; this is the
# SMALLINT minimum).
NO_MONTH = -32768
# What each of `REFERRAL_MONTH_COUNTS` sums over the referral facts.
REFERRAL_COUNTS: dict[str, ColumnElement[Any] | None] = {
    "referrals": None,
    "several": F.c.several_reasons,
    "several_groups": F.c.several_reason_groups,
    **{f"has_{field}": F.c[column] for field, column in COMPLETENESS_FLAGS.items()},
    **{name: F.c[name] for name in ("contacts", *CONTACT_OUTCOME_COLUMNS)},
    "referrals_with_contact": flag(F.c.contacts > 0),
    "referrals_with_dna": flag(F.c.dna > 0),
    "offered": F.c.has_support,
    "re_referrals": F.c.re_referral,
    "parallel": F.c.parallel,
}
_same_names(REFERRAL_COUNTS, REFERRAL_MONTH_COUNTS)
# What each of `REASON_MONTH_COUNTS` sums over the reason facts: the reasons report counts
# reason rows (`reasons`) or, by reason group, the group's first rows, and each referral once on
# its first row; the support-match report its needs on the group rows and its referrals once.
_GROUP_ROW = REASON_FACTS.c.group_first
REASON_COUNTS: dict[str, ColumnElement[Any] | None] = {
    "reasons": None,
    "group_first": _GROUP_ROW,
    "referral_first": REASON_FACTS.c.referral_first,
    "with_support": _GROUP_ROW * REASON_FACTS.c.has_support,
    "matched": _GROUP_ROW * REASON_FACTS.c.need_met,
    "first_has_need": REASON_FACTS.c.first_has_need,
    "first_with_support": REASON_FACTS.c.first_has_need * REASON_FACTS.c.has_support,
    "first_need_met": REASON_FACTS.c.first_need_met,
}
_same_names(REASON_COUNTS, REASON_MONTH_COUNTS)
REFERRAL_MONTHS = MonthlyCounts(
    table_of(ReportReferralMonth),
    F,
    MONTHLY_DIMENSIONS,
    {**_keys(F, *MONTHLY_DIMENSIONS), "status": F.c.status},
    REFERRAL_COUNTS,
)
REASON_MONTHS = MonthlyCounts(
    table_of(ReportReasonMonth),
    REASON_FACTS,
    MONTHLY_DIMENSIONS,
    {
        **_keys(REASON_FACTS, *MONTHLY_DIMENSIONS, "reason"),
        "reason_group": func.coalesce(REASON_FACTS.c.reason_group, NO_VALUE),
    },
    REASON_COUNTS,
)
# What each of `SUPPORT_MONTH_COUNTS` sums over the support facts.
SUPPORT_COUNTS: dict[str, ColumnElement[Any] | None] = {
    "supports": None,
    "group_first": SUPPORT_FACTS.c.group_first,
    "offers": SUPPORT_FACTS.c.offers,
    "onward_referrals": SUPPORT_FACTS.c.onward_referrals,
}
_same_names(SUPPORT_COUNTS, SUPPORT_MONTH_COUNTS)
SUPPORT_MONTHS = MonthlyCounts(
    table_of(ReportSupportMonth),
    SUPPORT_FACTS,
    MONTHLY_DIMENSIONS,
    {
        **_keys(SUPPORT_FACTS, *MONTHLY_DIMENSIONS, "support", "support_group"),
        "status": func.coalesce(SUPPORT_FACTS.c.status, NO_VALUE),
    },
    SUPPORT_COUNTS,
)
# What each of `REASON_PEOPLE_MONTH_COUNTS` sums over the reason facts: every row, the group
# rows and the referrals' first rows, and the person tags of each (as BIGINT: a tag times a
# record key overflows an INTEGER).
_TAG = cast(func.coalesce(REASON_FACTS.c.person_tag, 0), BigInteger)
REASON_PEOPLE_COUNTS: dict[str, ColumnElement[Any] | None] = {
    "reasons": None,
    "group_rows": _GROUP_ROW,
    # The tag first: the product is typed BIGINT, so its key sum is not cast to INTEGER.
    "group_tags": _TAG * _GROUP_ROW,
    "first_rows": REASON_FACTS.c.referral_first,
    "first_tags": _TAG * REASON_FACTS.c.referral_first,
}
_same_names(REASON_PEOPLE_COUNTS, REASON_PEOPLE_MONTH_COUNTS)
REASON_PEOPLE_MONTHS = MonthlyCounts(
    table_of(ReportReasonPeopleMonth),
    REASON_FACTS,
    ("month", "reason-group"),
    {
        "month": REASON_FACTS.c.month,
        "reason_group": func.coalesce(REASON_FACTS.c.reason_group, NO_VALUE),
        "previous": func.coalesce(REASON_FACTS.c[REASON_GROUP_PREVIOUS_MONTH], NO_MONTH),
        "first_previous": func.coalesce(REASON_FACTS.c[PREVIOUS_MONTH], NO_MONTH),
    },
    REASON_PEOPLE_COUNTS,
)
# What each of `SERVICE_USE_MONTH_COUNTS` sums over the service-use facts by reason group, as
# the report counts them (`service_use_repository._change_measures`).
_USE_TAG = cast(func.coalesce(USE_REASON_FACTS.c.person_tag, 0), BigInteger)
_FEWER = flag(USE_REASON_FACTS.c.after < USE_REASON_FACTS.c.before)
_USE_FIRST = USE_REASON_FACTS.c.use_first
SERVICE_USE_COUNTS: dict[str, ColumnElement[Any] | None] = {
    "pairs": None,
    "tags": _USE_TAG,
    "before_sum": USE_REASON_FACTS.c.before,
    "after_sum": USE_REASON_FACTS.c.after,
    "fewer": _FEWER,
    "once_pairs": _USE_FIRST,
    "once_tags": _USE_TAG * _USE_FIRST,
    "once_before_sum": USE_REASON_FACTS.c.before * _USE_FIRST,
    "once_after_sum": USE_REASON_FACTS.c.after * _USE_FIRST,
    "once_fewer": _FEWER * _USE_FIRST,
}
_same_names(SERVICE_USE_COUNTS, SERVICE_USE_MONTH_COUNTS)
SERVICE_USE_MONTHS = MonthlyCounts(
    table_of(ReportServiceUseMonth),
    USE_REASON_FACTS,
    ("month", "role", "reason-group"),
    {
        "month": USE_REASON_FACTS.c.month,
        "role": USE_REASON_FACTS.c.role,
        "reason_group": func.coalesce(USE_REASON_FACTS.c.reason_group, NO_VALUE),
        "measure": USE_REASON_FACTS.c.measure,
        "previous_group": func.coalesce(USE_REASON_FACTS.c[REASON_GROUP_PREVIOUS_MONTH], NO_MONTH),
        "previous_role_group": func.coalesce(
            USE_REASON_FACTS.c.previous_month_by_role_reason_group, NO_MONTH
        ),
        "first_previous": func.coalesce(USE_REASON_FACTS.c[PREVIOUS_MONTH], NO_MONTH),
    },
    SERVICE_USE_COUNTS,
)
PAIR_MONTHS = MonthlyCounts(
    table_of(ReportReasonPairMonth),
    PAIR_FACTS,
    ("month", "role"),
    _keys(PAIR_FACTS, "month", "role", "level", "first", "second"),
    {"referrals": None},
)
# The waiting-times report's histograms as the monthly counts by wait hold them (`wait`): every
# fact row under "referrals" (`days` 0), and each wait reached (the facts' `<wait>_days`) with its
# days.
WAIT_CODES = {"referrals": 0, "first_contact": 1, "closure": 2}


# One row per histogram, to read each fact row once per histogram it is in (`_by_wait`).
_WAIT_ROWS = union_all(
    *(select(literal(code, SmallInteger).label("wait")) for code in WAIT_CODES.values())
).subquery("waits")


def _by_wait(facts: Table, *columns: str) -> Subquery:
    """The rows of `facts` once per histogram of `WAIT_CODES` they are in, with their `columns`,
    `referral_key` and `record_key`. A join, not a UNION ALL of the facts: a refresh batch's
    referrals are then looked up by their key once, where a union was scanned whole."""
    wait = _WAIT_ROWS.c.wait
    days = case(
        *((wait == code, facts.c[f"{name}_days"]) for name, code in WAIT_CODES.items() if code),
        else_=literal(0),
    )
    kept = [facts.c[name] for name in ("referral_key", "record_key", *columns)]
    return (
        select(*kept, wait, days.label("days"))
        .select_from(facts.join(_WAIT_ROWS, true()))
        .where(days.is_not(None))
        .subquery(f"{facts.name}_by_wait")
    )


_REFERRAL_WAITS = _by_wait(F, *(column_name(name) for name in MONTHLY_DIMENSIONS))
WAIT_COUNTS: dict[str, ColumnElement[Any] | None] = {"referrals": None}
_same_names(WAIT_COUNTS, WAIT_MONTH_COUNTS)
WAIT_MONTHS = MonthlyCounts(
    table_of(ReportWaitMonth),
    _REFERRAL_WAITS,
    MONTHLY_DIMENSIONS,
    _keys(_REFERRAL_WAITS, *MONTHLY_DIMENSIONS, "wait", "days"),
    WAIT_COUNTS,
)
_REASON_WAITS = _by_wait(REASON_FACTS, "month", "reason_group", "group_first", "referral_first")
# What each of `REASON_WAIT_MONTH_COUNTS` sums over the reason facts: the waits by reason group
# count each group's first row, and the whole scope's each referral's first row among those.
REASON_WAIT_COUNTS: dict[str, ColumnElement[Any] | None] = {
    "reasons": None,
    "group_rows": _REASON_WAITS.c.group_first,
    "first_rows": _REASON_WAITS.c.group_first * _REASON_WAITS.c.referral_first,
}
_same_names(REASON_WAIT_COUNTS, REASON_WAIT_MONTH_COUNTS)
REASON_WAIT_MONTHS = MonthlyCounts(
    table_of(ReportReasonWaitMonth),
    _REASON_WAITS,
    ("month", "reason-group"),
    {
        "month": _REASON_WAITS.c.month,
        "reason_group": func.coalesce(_REASON_WAITS.c.reason_group, NO_VALUE),
        "wait": _REASON_WAITS.c.wait,
        "days": _REASON_WAITS.c.days,
    },
    REASON_WAIT_COUNTS,
)
# What each of `ACTIVITY_TOTAL_COUNTS` sums over the activity facts.
ACTIVITY_COUNTS: dict[str, ColumnElement[Any] | None] = {
    "activities": None,
    "contacts": flag(ACTIVITY_FACTS.c.contact > 0),
    **{name: ACTIVITY_FACTS.c[name] for name in ACTIVITY_FLAGS},
}
_same_names(ACTIVITY_COUNTS, ACTIVITY_TOTAL_COUNTS)
# The activity facts' counts over all time, not per month: their first-row flags hold over a
# referral's whole activity, which spans months, so only whole referrals add up.
ACTIVITY_TOTALS = MonthlyCounts(
    table_of(ReportActivityTotal),
    ACTIVITY_FACTS,
    ("role", "worker"),
    {
        "role": ACTIVITY_FACTS.c.role,
        "worker": ACTIVITY_FACTS.c.worker,
        "outcome": func.coalesce(ACTIVITY_FACTS.c.outcome, NO_VALUE),
    },
    ACTIVITY_COUNTS,
)
MONTHLY_COUNTS = (
    REFERRAL_MONTHS,
    REASON_MONTHS,
    SUPPORT_MONTHS,
    PAIR_MONTHS,
    REASON_PEOPLE_MONTHS,
    SERVICE_USE_MONTHS,
    WAIT_MONTHS,
    REASON_WAIT_MONTHS,
    ACTIVITY_TOTALS,
)


def source_value(spec: DimensionSpec) -> ColumnElement[Any]:
    """The normalised value of a declared dimension (the PCN falls back to the lookup's)."""
    if spec.name == "pcn":
        return PERSON_PCN
    table, column = spec.source.split(".")
    return SOURCES[table].c[column]


PAIR_LEVELS = {"reason": 1, "reason-group": 2}
# Every table derived per referral, in the order a refresh writes them.
# The facts of one referral that do not depend on its person (nor on the person's other
# referrals): a refresh derives them for the changed referrals only, not their siblings.
REFERRAL_ONLY_TABLES = (ReportActivity, ReportQuality, ReportUnmapped)
DERIVED_TABLES = (*FACT_TABLES, *REFERRAL_ONLY_TABLES)
# A day's data-quality counts: (day received, source system, sender).
QualityDay = tuple[date, str, str]
# A month (months since January 2000), source system and sender.
QualityMonth = tuple[int, str, str]
# The counted columns of the data-quality day and month rows, with their key sums.
_QUALITY_COUNTS = (
    "referrals",
    key_of("referrals"),
    *(column for name in QUALITY_FLAGS for column in (name, key_of(name))),
)
# Days derived again per statement (three parameters each).
DAYS_PER_STATEMENT = 1_000
# One refresher at a time on PostgreSQL (a transaction-scoped advisory lock).
REFRESH_LOCK = 7_244_019_311
# The fewest rows changed since a table was last analysed for a refresh to analyse it again
# (`FactRepository.analyse_grown`; half the table's rows too).
ANALYSE_AFTER_CHANGES = 1_000


def _source_tables() -> tuple[str, ...]:
    """The tables the facts are derived from, and the keys and codes they are given."""
    sources = (R, P, PRACTICE_PCN, IMD, L, RR, C, CW, T, S, A, AS, LINK, SU, G)
    return (*(t.name for t in sources), "report_person", "report_key", "report_code")


def _fact_tables() -> tuple[str, ...]:
    """The tables of facts, the keys and codes they name, and the counts kept beside them."""
    return (
        "report_person",
        "report_key",
        "report_code",
        *(t.__tablename__ for t in DERIVED_TABLES),
        *(kept.table.name for kept in MONTHLY_COUNTS),
        "report_quality_day",
        "report_quality_month",
    )


def _keys_table(*columns: tuple[str, TypeEngine[Any]]) -> TableValuedAlias:
    """Rows of keys as one table, `chosen`, each column an array parameter of its name, given
    when the statement runs (PostgreSQL)."""
    arrays = (bindparam(name, type_=ARRAY(kind)) for name, kind in columns)
    return func.unnest(*arrays).table_valued(*(n for n, _ in columns)).render_derived("chosen")


Ids = Sequence[str] | None


def _kept_for(kept: MonthlyCounts, ids: Ids, changed: Ids) -> Ids:
    """The referrals whose facts `kept` counts are replaced in a refresh: `changed` for the
    facts that do not depend on the person (`REFERRAL_ONLY_TABLES`), else `ids`."""
    referral_only = any(kept.facts is table_of(table) for table in REFERRAL_ONLY_TABLES)
    return changed if referral_only else ids


def _matches(warning: QualityWarning) -> ColumnElement[bool]:
    """A recorded gap is of the warning's kind, on its element or one inside it."""
    condition = G.c.kind == warning.kind.value
    if warning.element is not None:
        condition = and_(condition, G.c.element.startswith(warning.element, autoescape=True))
    return condition


def _staff(system: ColumnElement[str], value: ColumnElement[str]) -> ColumnElement[str]:
    """A worker's staff identifier as the workers report names them: system|value."""
    return system + literal("|", String) + value


def _service_use_windows(table: Table) -> dict[str, frozenset[str]]:
    """The previous-month columns `table` (the service-use facts, or those by reason group)
    sets by windows, and the dimensions of each one's groups: its breakdown's and the
    measure."""
    by_reason = table is USE_REASON_FACTS
    return {
        column: dims | {"measure"}
        for dims, column in SERVICE_USE_PREVIOUS_MONTH_COLUMNS.items()
        if ("reason-group" in dims) == by_reason
    }


class _Codes:
    """Joins that turn dimension values into their `report_code` codes in one statement."""

    def __init__(self) -> None:
        self.joins: list[tuple[FromClause, ColumnElement[bool]]] = []

    def code(self, dimension: str, value: ColumnElement[Any]) -> ColumnElement[Any]:
        alias = CODE.alias(f"code_{len(self.joins)}")
        self.joins.append((alias, and_(alias.c.dimension == dimension, alias.c.value == value)))
        return alias.c.code

    def apply(self, source: FromClause) -> FromClause:
        for alias, on in self.joins:
            source = source.outerjoin(alias, on)
        return source


def _measure_value(spec: MeasureSpec, sources: FactSources, codes: _Codes) -> ColumnElement[Any]:
    """A declared measure's fact column: its value, as a `report_code` code if it is coded."""
    value = spec.value(sources)
    return value if spec.dimension is None else codes.code(spec.dimension, value)


# How long a refresh waits for a table lock another transaction holds before it gives way.
GIVE_WAY = "200ms"
# The cost of a page read out of order, to the refresh's planner (PostgreSQL's default is 4,
# a spinning disk's). A batch of 2,000 queued referrals names its ids as one array; at 100,000
# referrals the default planned sequential scans of the person, reason, support, contact-worker
# and task tables for it, and with 1.1 (pages in memory or on SSD) it reads them through their
# referral_id indexes: the batch took 2.54-2.86 s rather than 3.20-3.39 s (bench/README.md).
# Reports, which read whole fact tables, keep the server's value.
RANDOM_PAGE_COST = 1.1


def _month_sums(kept: MonthlyCounts, sign: int) -> tuple[list[str], Select[Any]]:
    """The columns of `kept`'s counts table and the SELECT that sums its facts into them, each
    count times `sign`."""
    facts = kept.facts
    counts: list[ColumnElement[Any]] = []
    for name, value in kept.counts.items():
        total = func.count() if value is None else func.coalesce(func.sum(value), 0)
        counts += [(total * sign).label(name), (key_sum(facts.c.record_key, value) * sign)]
    names = [*kept.keys, *(n for name in kept.counts for n in (name, key_of(name)))]
    return names, select(*kept.keys.values(), *counts).group_by(*kept.keys.values())


# The statements of a refresh, built and compiled once per process (`FactRepository.built`).
_BUILT: dict[tuple[Hashable, ...], tuple[DriverStatement, ...]] = {}


class _Batch(tuple[str, ...]):
    """Stands for a refresh batch's referral ids in a statement built once (`per_batch`):
    `FactRepository.among` makes it the parameter `ids`, given when the statement runs."""


BATCH = _Batch()

Args = ParamSpec("Args")


def per_batch(
    build: "Callable[Concatenate[FactRepository, Ids, Args], Iterator[Executable]]",
) -> "Callable[Concatenate[FactRepository, Ids, Args], Awaitable[None]]":
    """Runs the statements `build` yields for a batch of referrals (`ids`; None: every
    referral). For a batch they are built once per process (per dialect and value of the other
    arguments) with the ids as a parameter, and compiled once: a refresh runs the same few
    dozen statements every pass, and building them again was most of a pass's CPU."""

    @functools.wraps(build)
    async def run(
        self: "FactRepository", ids: Ids, /, *args: Args.args, **kwargs: Args.kwargs
    ) -> None:
        if ids is None:
            for statement in build(self, None, *args, **kwargs):
                await self.session.execute(statement)
            return
        key = (
            build.__name__,
            *(_variant(a) for a in args),
            *((name, _variant(value)) for name, value in sorted(kwargs.items())),
        )
        params = {"ids": list(ids)}
        for built in self.built(key, lambda: tuple(build(self, BATCH, *args, **kwargs))):
            await built.fetch(self.session, params)

    return run


def _variant(argument: Any) -> Hashable:
    """What a statement built by `per_batch` depends on in `argument`, as a key."""
    if isinstance(argument, dict):
        return tuple(argument.items())
    if isinstance(argument, RecordKeys):
        return argument.fingerprint
    if isinstance(argument, MonthlyCounts):
        return argument.table.name
    if isinstance(argument, tuple):
        return tuple(_variant(a) for a in argument)
    hashable: Hashable = argument
    return hashable


def _day_counts() -> list[ColumnElement[Any]]:
    """The data-quality day counts (`report_quality_day`) over the data-quality facts."""
    return [
        func.count(),
        key_sum(Q.c.record_key),
        *(
            column
            for name in QUALITY_FLAGS
            for column in (func.sum(Q.c[name]), key_sum(Q.c.record_key, Q.c[name]))
        ),
    ]


def _month_counts() -> list[ColumnElement[Any]]:
    """The data-quality month counts (`report_quality_month`) over the day counts."""
    return [func.sum(QD.c[name]) for name in _QUALITY_COUNTS]


def _arrays(keys: list[tuple[Any, ...]], *names: str) -> dict[str, list[Any]]:
    """`keys` as one array of each of their columns, by `names` (for `_keys_table`)."""
    return {name: [key[i] for key in keys] for i, name in enumerate(names)}


def _recount_days() -> tuple[Executable, ...]:
    """`_recounted` for the days given as arrays (`received_on`, `source_system`, `sender`)."""
    keys = _keys_table(("received_on", Date()), ("source_system", String()), ("sender", String()))
    on = and_(
        Q.c.received_on == keys.c.received_on,
        Q.c.source_system == keys.c.source_system,
        Q.c.sender == keys.c.sender,
    )
    groups = (keys.c.received_on, keys.c.source_system, keys.c.sender)
    return _recounted(QD, _day_counts(), keys.join(Q, on), groups)


def _recount_months() -> tuple[Executable, ...]:
    """`_recounted` for the months given as arrays (`month`, `source_system`, `sender`, and
    each month's `first_day` and the `next_month`'s)."""
    keys = _keys_table(
        ("month", Integer()),
        ("source_system", String()),
        ("sender", String()),
        ("first_day", Date()),
        ("next_month", Date()),
    )
    on = and_(
        QD.c.source_system == keys.c.source_system,
        QD.c.sender == keys.c.sender,
        QD.c.received_on >= keys.c.first_day,
        QD.c.received_on < keys.c.next_month,
    )
    groups = (keys.c.month, keys.c.source_system, keys.c.sender)
    return _recounted(QM, _month_counts(), keys.join(QD, on), groups)


def _recounted(
    target: Table,
    measures: Sequence[ColumnElement[Any]],
    rows: FromClause,
    groups: tuple[ColumnElement[Any], ...],
) -> tuple[Executable, ...]:
    """Replace the rows of `target` whose primary keys are the chosen keys with `measures`
    over the rows each key is joined to (PostgreSQL). `rows` are the chosen keys as a table
    (`_keys_table`) joined to the rows they count, and `groups` that table's key columns (the
    target's primary key, in order).

    The keys are joined as arrays (`unnest`), so each key's rows are found through the
    index, or by one hash join for a backlog over many months. Comparing every row in range
    with a list of row values instead took past every timeout at a million referrals for a
    refresh whose referrals span three years (2,000 keys), and could not be cancelled. The
    old rows are deleted through the same keys: at a million referrals, with the days' index
    on system, sender and day, a backlog's days were counted again in 0.5-0.6 s when their
    old rows were deleted by lists of 1,000 row values, in 0.15-0.17 s through the keys."""
    key = tuple(target.primary_key.columns)
    names = [*(column.name for column in key), *_QUALITY_COUNTS]
    matched = (column == group for column, group in zip(key, groups, strict=True))
    query = select(*groups, *measures).select_from(rows).group_by(*groups)
    return delete(target).where(*matched), insert(target).from_select(names, query)


class FactRepository(Repository):
    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session)
        self.dialect = dialect_of(session)

    def among(
        self, column: ColumnElement[Any], ids: Sequence[Any], element: TypeEngine[Any] = String()
    ) -> ColumnElement[bool]:
        """`column` is one of `ids` (values of type `element`: referral ids unless said),
        given as one parameter however many they are (a statement may name the batch several
        times): an array on PostgreSQL, a JSON array on SQLite, whose stock builds allow 32,766
        parameters a statement. In a statement built once (`per_batch`) the batch's ids are
        given when it runs."""
        kind = ARRAY(element) if self.dialect == "postgresql" else JSON()
        value = (
            bindparam("ids", type_=kind)
            if isinstance(ids, _Batch)
            else bindparam(None, list(ids), type_=kind)
        )
        if self.dialect == "postgresql":
            return column == any_(value)
        return column.in_(select(func.json_each(value).table_valued("value").c.value))

    def _only(self, column: ColumnElement[str], ids: Ids) -> list[ColumnElement[bool]]:
        return [] if ids is None else [self.among(column, ids)]

    def built(
        self, key: tuple[Hashable, ...], build: Callable[[], tuple[Executable, ...]]
    ) -> tuple[DriverStatement, ...]:
        """The statements `build` makes, made once per process for each `key` and dialect and
        compiled once (a refresh runs the same few dozen statements every pass, for a new
        batch; building and compiling them again was most of a small pass's CPU)."""
        statements = _BUILT.get((self.dialect, *key))
        if statements is None:
            statements = tuple(DriverStatement(s) for s in build())
            _BUILT[(self.dialect, *key)] = statements
        return statements

    # The change queue -------------------------------------------------------------------------

    async def give_way(self) -> None:
        """Make this transaction give way to others' table locks (PostgreSQL): a statement that
        would wait longer than `GIVE_WAY` for one fails with `lock_not_available` instead. A
        refresh is background work; waiting could make it one side of a deadlock with, say, a
        TRUNCATE or a migration, and PostgreSQL may end the other side. Called first in each
        of the refresh's write transactions (its first check reads one table per statement, so
        it holds no lock while it waits); the refresh fails as a whole and runs again later."""
        if self.dialect == "postgresql":
            await self.session.execute(text(f"SET LOCAL lock_timeout = '{GIVE_WAY}'"))

    async def lock(self, bulk: bool = False) -> None:
        """Serialise refreshers (SQLite transactions already are). A bulk rebuild may sort and
        hash in memory rather than on disk. A refresh's batch reads its referrals' rows through
        the indexes: it is told that a page read out of order costs about what one read in
        order does (`RANDOM_PAGE_COST`)."""
        if self.dialect == "postgresql":
            await self.session.execute(select(func.pg_advisory_xact_lock(REFRESH_LOCK)))
            setting = "work_mem = '128MB'" if bulk else f"random_page_cost = {RANDOM_PAGE_COST}"
            await self.session.execute(text(f"SET LOCAL {setting}"))

    async def pending(self, limit: int) -> list[tuple[int, str]]:
        """The oldest queued changes: (sequence, referral id)."""
        result = await self.session.execute(
            select(ReportChange.sequence, ReportChange.referral_id)
            .order_by(ReportChange.sequence)
            .limit(limit)
        )
        return [(row[0], row[1]) for row in result]

    async def forget(self, sequences: Sequence[int]) -> None:
        """Take a batch's changes (up to `facts.BATCH`) off the queue."""
        await self.session.execute(
            delete(ReportChange).where(self.among(QUEUE.c.sequence, sequences, BigInteger()))
        )

    async def clear_queue(self) -> None:
        await self.session.execute(delete(ReportChange))

    async def queue_without_pcn(self) -> None:
        """Queue the referrals whose PCN comes from the practice-to-PCN lookup (a practice
        and no PCN of their own), after the lookup was reloaded."""
        await self.session.execute(
            insert(ReportChange).from_select(
                ["referral_id"],
                select(P.c.referral_id).where(P.c.pcn_ods.is_(None), P.c.practice_ods.is_not(None)),
            )
        )

    # State ------------------------------------------------------------------------------------

    async def state(self) -> tuple[str, datetime | None] | None:
        row = (
            await self.session.execute(
                select(ReportState.key_fingerprint, ReportState.refreshed_at).where(
                    ReportState.id == 1
                )
            )
        ).first()
        return (row[0], aware_utc(row[1])) if row else None

    async def start_state(self, fingerprint: str) -> None:
        """Record the pseudonym key of a database that has none yet (no-op if it has)."""
        statement = (
            conflict_insert(self.dialect, ReportState)
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

    async def all_person_keys(self) -> list[tuple[str, int, str]]:
        """(referral id, version, person key) of every referral (one scan)."""
        result = await self.session.execute(select(R.c.id, R.c.version, R.c.person_key))
        return [(row[0], row[1], row[2]) for row in result]

    async def person_keys(self, ids: Sequence[str]) -> list[tuple[str, int, str]]:
        """(referral id, version, person key) of `ids`."""
        result = await self.session.execute(
            select(R.c.id, R.c.version, R.c.person_key).where(self.among(R.c.id, ids))
        )
        return [(row[0], row[1], row[2]) for row in result]

    async def forget_pseudonyms(self) -> None:
        await self.session.execute(delete(ReportPerson))

    async def load_pseudonyms(self, rows: list[tuple[str, int, int]]) -> None:
        """Write (referral id, pseudonym, version) rows into an emptied `report_person`: COPY on
        PostgreSQL (a million rows in seconds), batched inserts on SQLite."""
        if self.dialect == "postgresql":
            connection = await self.session.connection()
            raw = await connection.get_raw_connection()
            await raw.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
                "report_person",
                records=rows,
                columns=["referral_id", "person_key", "referral_version"],
            )
            return
        for start in range(0, len(rows), 5_000):
            await self.session.execute(
                insert(ReportPerson),
                [
                    {"referral_id": r[0], "person_key": r[1], "referral_version": r[2]}
                    for r in rows[start : start + 5_000]
                ],
            )

    async def save_pseudonyms(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        statement = conflict_insert(self.dialect, ReportPerson)
        statement = statement.on_conflict_do_update(
            index_elements=["referral_id"],
            set_={
                "person_key": statement.excluded.person_key,
                "referral_version": statement.excluded.referral_version,
            },
        )
        await self.session.execute(statement, rows)

    async def with_siblings(self, ids: Sequence[str]) -> list[str]:
        """`ids` and the other referrals of their people, as now and as the facts last saw
        them (a changed or joined person): their `shared_person` flags and previous months may
        have changed too. Followed until nothing new turns up, so the batch holds every
        referral of every person its referrals have now or had: a referral that moved to
        another person since its facts were derived (its own queue entry in a later batch, or
        its move committed since the queue was read) brings its former person's referrals, and
        one the facts last saw with this person brings its person's now. The previous months
        are set over the batch's rows alone (`_previous_months`)."""
        now, before = self.built(("with_siblings",), self._siblings)

        async def referrals(statement: DriverStatement, of: set[str]) -> set[str]:
            return {row[0] for row in await statement.fetch(self.session, {"ids": sorted(of)})}

        found = set(ids) | await referrals(now, set(ids))
        unseen = found  # referrals whose people as the facts last saw them are not looked up
        while unseen:
            moved = await referrals(before, unseen) - found
            found |= moved
            # The referrals of their people now. (Their people as the facts saw them are
            # already looked up: shared with the referrals that found them.)
            unseen = await referrals(now, moved) - found if moved else set()
            found |= unseen
        return sorted(found)

    def _siblings(self) -> tuple[Executable, ...]:
        """The referrals of the people of `ids` as now, and as the facts last saw them."""
        first, second = R.alias("changed"), R.alias("sibling")
        now = (
            select(second.c.id)
            .join(first, first.c.person_key == second.c.person_key)
            .where(self.among(first.c.id, BATCH))
        )
        key_of, sibling_key, sibling = KEY.alias("changed_key"), KEY.alias("sibling_key"), F.alias()
        before = (
            select(sibling_key.c.referral_id)
            .select_from(
                key_of.join(F, F.c.referral_key == key_of.c.referral_key)
                .join(sibling, sibling.c.person_key == F.c.person_key)
                .join(sibling_key, sibling_key.c.referral_key == sibling.c.referral_key)
            )
            .where(self.among(key_of.c.referral_id, BATCH))
        )
        return now, before

    # Keys and codes ---------------------------------------------------------------------------

    @per_batch
    def assign_keys(self, ids: Ids) -> Iterator[Executable]:
        """A key for every referral of `ids` that has none."""
        missing = select(R.c.id).where(
            *self._only(R.c.id, ids), ~exists().where(KEY.c.referral_id == R.c.id)
        )
        yield insert(ReportKey).from_select(["referral_id"], missing)

    @per_batch
    def assign_codes(self, ids: Ids) -> Iterator[Executable]:
        """A code for every dimension value the referrals of `ids` use that has none: the
        next numbers of its dimension, in value order."""
        referral = self._only(R.c.id, ids)
        person = self._only(P.c.referral_id, ids)
        lifecycle = self._only(L.c.referral_id, ids)
        reasons = self._only(RR.c.referral_id, ids)
        support = self._only(S.c.referral_id, ids)
        contact_workers = self._only(CW.c.referral_id, ids)
        tasks = self._only(T.c.referral_id, ids)

        def values(
            dimension: str,
            column: ColumnElement[Any],
            *where: ColumnElement[bool],
            source: FromClause | None = None,
        ) -> AnySelect:
            query = select(literal(dimension).label("dimension"), column.label("value"))
            if source is not None:
                query = query.select_from(source)
            return query.where(column.is_not(None), *where)

        only = {
            "referral": referral,
            "referral_person": person,
            "referral_reason": reasons,
            "support_offered": support,
        }
        declared = [
            values(
                spec.name,
                source_value(spec),
                *only[spec.source.split(".")[0]],
                source=WITH_PRACTICE_PCN if spec.name == "pcn" else None,
            )
            for spec in SPECS
            if spec.name is not None and spec.coding == "code"
        ]
        found = union_all(
            *declared,
            values("status", func.coalesce(L.c.status, "received"), *lifecycle),
            select(literal("status").label("dimension"), literal("received").label("value")),
            values("ended-reason", ended_reason(L), *lifecycle),
            values("support", S.c.support_code, *support),
            values("role", CW.c.role, *contact_workers),
            values("worker", _staff(CW.c.worker_system, CW.c.worker_value), *contact_workers),
            values("worker", _staff(T.c.owner_system, T.c.owner_value), *tasks),
            *(
                select(literal("measure").label("dimension"), literal(m).label("value"))
                for m in wellbeing.measures()
            ),
            *(
                select(literal("instrument").label("dimension"), literal(i).label("value"))
                for i in sorted({wellbeing.instrument_of(m) for m in wellbeing.measures()})
            ),
        ).subquery("found")
        new = (
            select(found.c.dimension, found.c.value)
            .where(
                ~exists().where(
                    CODE.c.dimension == found.c.dimension, CODE.c.value == found.c.value
                )
            )
            .distinct()
            .subquery("new")
        )
        highest = (
            select(func.coalesce(func.max(CODE.c.code), 0))
            .where(CODE.c.dimension == new.c.dimension)
            .scalar_subquery()
        )
        numbered = select(
            new.c.dimension,
            new.c.value,
            highest + func.row_number().over(partition_by=new.c.dimension, order_by=new.c.value),
        )
        yield insert(ReportCode).from_select(["dimension", "value", "code"], numbered)

    async def delete_facts(self, ids: Ids, changed: Ids) -> None:
        """The facts of `ids` (all facts when None). Of the facts that do not depend on the
        referral's person (`REFERRAL_ONLY_TABLES`), and of the keys of deleted referrals, only
        those of `changed` (all when None): a deleted sibling keeps its key until its own queue
        entry is refreshed, which finds and deletes the rest of its facts through that key.
        First the facts are taken off their months' counts (`MONTHLY_COUNTS`)."""
        for kept in MONTHLY_COUNTS:
            await self.sum_months(_kept_for(kept, ids, changed), kept, -1)
        for table in reversed(DERIVED_TABLES):
            await self._delete_facts_of(changed if table in REFERRAL_ONLY_TABLES else ids, table)
        await self._delete_keys(changed)

    @per_batch
    def _delete_facts_of(self, ids: Ids, table: Any) -> Iterator[Executable]:
        """The rows of fact `table` (a model) of the referrals of `ids`."""
        statement = delete(table)
        if ids is not None:
            keys = select(KEY.c.referral_key).where(self.among(KEY.c.referral_id, ids))
            statement = statement.where(table.referral_key.in_(keys))
        yield statement

    @per_batch
    def _delete_keys(self, ids: Ids) -> Iterator[Executable]:
        """The keys of the referrals of `ids` that are no more."""
        yield delete(ReportKey).where(
            *self._only(KEY.c.referral_id, ids), ~exists().where(R.c.id == KEY.c.referral_id)
        )

    # Facts ------------------------------------------------------------------------------------

    async def insert_facts(
        self, ids: Ids, changed: Ids, mapping: dict[str, tuple[str, ...]], keys: RecordKeys
    ) -> None:
        """Every fact of the referrals of `ids` (their old facts deleted first, as
        `delete_facts` does): the referral facts, then those that copy them (reasons, reason
        pairs, support, scores, service use); and of `changed`, the facts that do not depend on
        the person: the workers' activity and data quality; then the new facts are added to their
        months' counts (`MONTHLY_COUNTS`). `mapping` gives the reason groups each support
        group addresses."""
        await self.insert_referral_facts(ids, mapping, keys)
        await self.set_previous_months(ids)
        await self.insert_reason_facts(ids, mapping)
        await self.set_reason_group_previous_months(ids)
        await self.insert_pair_facts(ids)
        await self.insert_support_facts(ids)
        await self.insert_score_facts(ids)
        await self.insert_service_use_facts(ids)
        await self.set_service_use_previous_months(ids)
        await self.insert_service_use_reason_facts(ids)
        await self.insert_activity_facts(changed)
        await self.insert_quality_facts(changed)
        await self.insert_unmapped_facts(changed)
        for kept in MONTHLY_COUNTS:
            await self.sum_months(_kept_for(kept, ids, changed), kept, 1)

    @per_batch
    def insert_referral_facts(
        self, ids: Ids, mapping: dict[str, tuple[str, ...]], keys: RecordKeys
    ) -> Iterator[Executable]:
        """One row per referral (before its other facts: they copy its dimensions and record
        key): its declared dimensions and measures. `keys` give the record key and person tag
        for disclosure control."""
        sources = self.fact_sources(ids, mapping, keys)
        codes = _Codes()
        columns: dict[str, ColumnElement[Any]] = {
            "referral_key": KEY.c.referral_key,
            **{
                spec.column: self._fact_value(spec, codes, keys)
                for spec in FACT_DIMENSIONS
                if spec.column
            },
            **{spec.column: _measure_value(spec, sources, codes) for spec in MEASURES},
        }
        source = (
            R.join(KEY, KEY.c.referral_id == R.c.id)
            .outerjoin(P, P.c.referral_id == R.c.id)
            .outerjoin(PRACTICE_PCN, PRACTICE_PCN.c.practice_ods == P.c.practice_ods)
            .outerjoin(IMD, IMD.c.lsoa_code == P.c.lsoa_code)
            .outerjoin(L, L.c.referral_id == R.c.id)
            .outerjoin(PERSON, PERSON.c.referral_id == R.c.id)
        )
        for aggregate in (
            sources.contacts,
            sources.links,
            sources.reasons,
            sources.supported,
            sources.needs_met,
        ):
            source = source.outerjoin(aggregate, aggregate.c.referral_id == R.c.id)
        query = (
            select(*(expr.label(name) for name, expr in columns.items()))
            .select_from(codes.apply(source))
            .where(*self._only(R.c.id, ids))
        )
        yield insert(ReportReferral).from_select(list(columns), query)

    @per_batch
    def set_previous_months(self, ids: Ids) -> Iterator[Executable]:
        """The previous months of the referral facts (`PREVIOUS_MONTH_COLUMNS`) of the people
        of `ids` (everyone's when None), by windows over each person's rows
        (`set_reason_group_previous_months` does the reason facts'). The batch holds every
        referral of its people, as they are now and as they were (`with_siblings`), so those
        rows are current. Only people with other referrals have any: a person referred once
        keeps NULL."""
        yield from self._previous_months(
            F, {column: dims for dims, column in PREVIOUS_MONTH_COLUMNS.items()}, ids
        )

    @per_batch
    def set_reason_group_previous_months(self, ids: Ids) -> Iterator[Executable]:
        """`set_previous_months` for the reason facts, once they are derived."""
        yield from self._previous_months(
            REASON_FACTS,
            {REASON_GROUP_PREVIOUS_MONTH: frozenset({"reason-group"})},
            ids,
            REASON_FACTS.c.group_first == 1,
        )

    @per_batch
    def set_service_use_previous_months(self, ids: Ids) -> Iterator[Executable]:
        """`set_previous_months` for the service-use facts, per measure, once they are
        derived (before `insert_service_use_reason_facts` copies `previous_month`)."""
        yield from self._previous_months(USE_FACTS, _service_use_windows(USE_FACTS), ids)

    @per_batch
    def insert_service_use_reason_facts(self, ids: Ids) -> Iterator[Executable]:
        """The service-use facts of the referrals of `ids` once per reason group of their
        referral (the reason facts' `group_first` rows; `use_first` on the referral's
        `referral_first` one), with their previous months in the group."""
        copied = [c.name for c in USE_REASON_FACTS.columns if c.name in USE_FACTS.c]
        use, reasons = USE_FACTS, REASON_FACTS
        query = (
            select(
                *(use.c[name] for name in copied),
                reasons.c.reason,
                reasons.c.reason_group,
                reasons.c.referral_first,
            )
            .join(reasons, reasons.c.referral_key == use.c.referral_key)
            .where(reasons.c.group_first == 1)
        )
        if ids is not None:
            keys = select(KEY.c.referral_key).where(self.among(KEY.c.referral_id, ids))
            query = query.where(use.c.referral_key.in_(keys))
        names = [*copied, "reason", "reason_group", "use_first"]
        yield insert(ReportServiceUseReason).from_select(names, query)
        yield from self._previous_months(
            USE_REASON_FACTS, _service_use_windows(USE_REASON_FACTS), ids
        )

    def _previous_months(
        self,
        table: Table,
        columns: dict[str, frozenset[str]],
        ids: Ids,
        *rows: ColumnElement[bool],
    ) -> Iterator[Executable]:
        """Set each of `columns` (name: the dimensions of its groups) on the `rows` of
        `table` of the people of `ids` to the month of the person's previous row in the same
        group (by referral date, then referral key)."""
        where = [table.c.shared_person == 1, *rows]
        if ids is not None:  # every row of their people is a row of `ids` (`with_siblings`)
            keys = select(KEY.c.referral_key).where(self.among(KEY.c.referral_id, ids))
            where.append(table.c.referral_key.in_(keys))
        order = [table.c.authored_on, table.c.referral_key]
        previous = (
            select(
                *table.primary_key.columns,
                *(
                    func.lag(table.c.month)
                    .over(
                        partition_by=[
                            table.c.person_key,
                            *(table.c[column_name(d)] for d in sorted(dims)),
                        ],
                        order_by=order,
                    )
                    .label(column)
                    for column, dims in columns.items()
                ),
            )
            .where(*where)
            .subquery("previous")
        )
        yield (
            update(table)
            .where(*(key == previous.c[key.name] for key in table.primary_key.columns))
            .values({column: previous.c[column] for column in columns})
        )

    def fact_sources(
        self, ids: Ids, mapping: dict[str, tuple[str, ...]], keys: RecordKeys
    ) -> FactSources:
        """What the measures of the referrals of `ids` are derived from: the tables joined to
        each referral and the per-referral aggregates of contacts, links, reasons and support
        (`mapping`: the reason groups each support group addresses)."""
        outcome = C.c.attendance_outcome
        contacts = (
            select(
                C.c.referral_id,
                func.count().label("contacts"),
                *(
                    func.sum(flag(outcome == value)).label(name)
                    for name, value in CONTACT_OUTCOME_COLUMNS.items()
                ),
            )
            .where(C.c.status != "entered-in-error", *self._only(C.c.referral_id, ids))
            .group_by(C.c.referral_id)
            .subquery("contact_counts")
        )
        # Concurrent links are stored both ways; a pair is one parallel referral, the later one
        # (in the linkage's own order: referral date, then id).
        this, linked = R.alias("this_referral"), R.alias("linked_referral")
        is_later = or_(
            this.c.authored_at > linked.c.authored_at,
            and_(this.c.authored_at == linked.c.authored_at, this.c.id > linked.c.id),
        )
        links = (
            select(
                LINK.c.referral_id,
                func.max(flag(LINK.c.link_type == "re-referral-of")).label("re_referral"),
                func.max(flag(and_(LINK.c.link_type == "concurrent-other-role", is_later))).label(
                    "parallel"
                ),
            )
            .join(this, this.c.id == LINK.c.referral_id)
            .join(linked, linked.c.id == LINK.c.linked_referral_id)
            .where(*self._only(LINK.c.referral_id, ids))
            .group_by(LINK.c.referral_id)
            .subquery("link_flags")
        )
        group = RR.c.reason_group
        coded_reason = and_(group.is_not(None), group.not_in(UNCODED_GROUPS))
        # A need the map can match: not missing, text only or outside every group.
        known_need = and_(group.is_not(None), group.not_in(UNMATCHABLE_GROUPS))
        reasons = (
            select(
                RR.c.referral_id,
                func.count().label("reasons"),
                # The groups that can pair (`insert_pair_facts`): "not recorded" is none.
                func.count(func.distinct(case((group != NOT_RECORDED_GROUP, group)))).label(
                    "groups"
                ),
                func.max(flag(coded_reason)).label("coded"),
                func.max(flag(known_need)).label("need"),
            )
            .where(*self._only(RR.c.referral_id, ids))
            .group_by(RR.c.referral_id)
            .subquery("reason_counts")
        )
        supported = (
            select(S.c.referral_id)
            .where(*self._only(S.c.referral_id, ids))
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
            .where(*self._only(RR.c.referral_id, ids))
            .group_by(RR.c.referral_id)
            .subquery("needs_met")
        )
        return FactSources(
            referral=R,
            other_referral=OTHER,
            person=P,
            person_pcn=PERSON_PCN,
            lifecycle=L,
            pseudonym=PERSON,
            contacts=contacts,
            links=links,
            reasons=reasons,
            supported=supported,
            needs_met=needs_met,
            dialect=self.dialect,
            keys=keys,
        )

    def _fact_value(
        self, spec: DimensionSpec, codes: _Codes, keys: RecordKeys
    ) -> ColumnElement[Any]:
        """A declared dimension's fact column, as its coding stores it."""
        value = source_value(spec)
        if spec.coding == "date":
            return utc_date(self.dialect, value)
        if spec.coding == "month":
            return month_number(self.dialect, value)
        if spec.coding == "record-key":
            return record_key(keys.record, hex_number(self.dialect, value))
        if spec.coding == "code":
            assert spec.name is not None
            return codes.code(spec.name, value)
        return value

    def _facts(
        self, referral_id: ColumnElement[str], query: AnySelect, names: Sequence[str]
    ) -> tuple[list[str], AnySelect]:
        """A child fact query with the referral's key and dimensions (its report_referral
        row) added: `names` name the query's own columns, after the key."""
        keyed = query.join(KEY, KEY.c.referral_id == referral_id).join(
            F, F.c.referral_key == KEY.c.referral_key
        )
        joined = keyed.add_columns(F.c.referral_key, *(F.c[n] for n in DIMENSION_COLUMNS))
        return [*names, "referral_key", *DIMENSION_COLUMNS], joined

    @per_batch
    def insert_reason_facts(
        self, ids: Ids, mapping: dict[str, tuple[str, ...]]
    ) -> Iterator[Executable]:
        """One row per reason; `need_met` when support in a group the map gives is offered."""
        offered = (
            select(S.c.referral_id, S.c.support_group)
            .where(*self._only(S.c.referral_id, ids))
            .group_by(S.c.referral_id, S.c.support_group)
            .subquery("offered")
        )
        addressed = or_(
            *(
                and_(RR.c.reason_group == group, offered.c.support_group.in_(targets))
                for group, targets in mapping.items()
            )
        )
        position = func.row_number().over(
            partition_by=(RR.c.referral_id, RR.c.reason_group), order_by=func.min(RR.c.rank)
        )
        # The referral's first reason: the first of its group too.
        overall = func.row_number().over(
            partition_by=RR.c.referral_id, order_by=(func.min(RR.c.rank), RR.c.reason_code)
        )
        codes = _Codes()
        reason = codes.code("reason", RR.c.reason_code)
        group = codes.code("reason-group", RR.c.reason_group)
        query = (
            select(
                reason,
                group,
                flag(position == 1),
                flag(overall == 1),
                func.max(flag(offered.c.referral_id.is_not(None))),
                func.max(flag(addressed)),
            )
            .select_from(
                codes.apply(RR.outerjoin(offered, offered.c.referral_id == RR.c.referral_id))
            )
            .where(*self._only(RR.c.referral_id, ids))
            .group_by(RR.c.referral_id, RR.c.reason_code, RR.c.reason_group, reason, group)
        )
        names, joined = self._facts(
            RR.c.referral_id,
            query,
            ["reason", "reason_group", "group_first", "referral_first", "has_support", "need_met"],
        )
        # With the referral's previous month (of any group): people in total from the reason scan.
        copied = [spec.column for spec in ON_REASONS] + [PREVIOUS_MONTH]
        names += [*copied, "first_has_need", "first_need_met"]
        joined = joined.add_columns(
            *(F.c[n] for n in copied),
            # The referral's own need and match, on its first reason's row alone.
            flag(overall == 1) * F.c.has_need,
            flag(overall == 1) * F.c.need_met,
        ).group_by(
            F.c.referral_key,
            *(F.c[n] for n in (*DIMENSION_COLUMNS, *copied, "has_need", "need_met")),
        )
        yield insert(ReportReason).from_select(names, joined)

    @per_batch
    def insert_pair_facts(self, ids: Ids) -> Iterator[Executable]:
        """Pairs of reasons, and of distinct reason groups, on one referral (by code)."""
        for level, column, dimension in (
            ("reason", "reason_code", "reason"),
            ("reason-group", "reason_group", "reason-group"),
        ):
            first = RR.alias("first_reason")
            second = RR.alias("second_reason")
            codes = _Codes()
            first_code = codes.code(dimension, first.c[column])
            second_code = codes.code(dimension, second.c[column])
            pairs = (
                select(
                    first.c.referral_id.label("referral_id"),
                    first_code.label("first"),
                    second_code.label("second"),
                )
                .select_from(
                    codes.apply(first.join(second, second.c.referral_id == first.c.referral_id))
                )
                .where(
                    first_code < second_code,  # a reason without a code (text only) has none
                    *(
                        # "Not recorded" is no group of need: it pairs with none.
                        (
                            first.c[column] != NOT_RECORDED_GROUP,
                            second.c[column] != NOT_RECORDED_GROUP,
                        )
                        if level == "reason-group"
                        else ()
                    ),
                    *self._only(first.c.referral_id, ids),
                )
                .distinct()
                .subquery("pairs")
            )
            query = select(literal(PAIR_LEVELS[level]), pairs.c.first, pairs.c.second)
            names, joined = self._facts(pairs.c.referral_id, query, ["level", "first", "second"])
            yield insert(ReportReasonPair).from_select(names, joined)

    @per_batch
    def sum_months(self, ids: Ids, kept: MonthlyCounts, sign: int) -> Iterator[Executable]:
        """Add (`sign` 1, once derived) or take off (-1, before they are deleted) the facts of
        the referrals of `ids` in their months' counts (`kept`), dropping the counts of a
        month that has no rows left. With `ids` None, all of them: the counts are emptied (-1)
        or summed from every fact (1)."""
        summary, facts = kept.table, kept.facts
        if ids is None and sign < 0:
            yield delete(summary)
            return
        names, summed = _month_sums(kept, sign)
        if ids is None:
            yield insert(summary).from_select(names, summed)
            return
        batch = select(KEY.c.referral_key).where(self.among(KEY.c.referral_id, ids))
        statement = conflict_insert(self.dialect, summary).from_select(
            names, summed.where(facts.c.referral_key.in_(batch))
        )
        yield statement.on_conflict_do_update(
            index_elements=list(kept.keys),
            set_={
                name: summary.c[name] + statement.excluded[name]
                for name in names
                if name not in kept.keys
            },
        )
        if sign < 0:
            first = next(iter(kept.counts))  # every row's count: 0 when none is left
            yield delete(summary).where(summary.c[first] == 0)

    @per_batch
    def insert_support_facts(self, ids: Ids) -> Iterator[Executable]:
        """One row per type of support; `group_first` on the lowest support code of each
        support group of the referral."""
        codes = _Codes()
        support = codes.code("support", S.c.support_code)
        group = codes.code("support-group", S.c.support_group)
        position = func.row_number().over(
            partition_by=(F.c.referral_key, func.max(group)), order_by=support
        )
        query = (
            select(
                support,
                func.max(group),
                flag(position == 1),
                func.count(),
                func.sum(flag(S.c.kind == "referral")),
            )
            .select_from(codes.apply(S))
            .where(*self._only(S.c.referral_id, ids))
        )
        names, joined = self._facts(
            S.c.referral_id,
            query,
            ["support", "support_group", "group_first", "offers", "onward_referrals"],
        )
        names.append("status")
        joined = joined.add_columns(F.c.status).group_by(
            support, F.c.referral_key, F.c.status, *(F.c[n] for n in DIMENSION_COLUMNS)
        )
        yield insert(ReportSupport).from_select(names, joined)

    @per_batch
    def insert_score_facts(self, ids: Ids) -> Iterator[Executable]:
        """Per referral and score: the first baseline and the last follow-up after it."""
        live = A.c.status.not_in(wellbeing.WITHDRAWN_STATUSES)
        mine = self._only(A.c.referral_id, ids)

        def scored(measure: Any, value: Any) -> Select[Any]:
            """The assessments' scores of a measure: a total or an item's value."""
            return select(
                A.c.referral_id,
                A.c.id.label("assessment_id"),
                measure.label("measure"),
                A.c.timepoint,
                A.c.assessed_at,
                value.label("value"),
            )

        totals = scored(A.c.instrument, A.c.total_score).where(
            live,
            A.c.total_score.is_not(None),
            A.c.instrument.in_(wellbeing.TOTAL_MEASURES),
            *mine,
        )
        items = (
            scored(AS.c.item_code, AS.c.value)
            .select_from(A.join(AS, AS.c.assessment_id == A.c.id))
            .where(
                live, AS.c.value.is_not(None), AS.c.item_code.in_(wellbeing.ITEM_MEASURES), *mine
            )
        )
        scores = union_all(totals, items).subquery("score")

        def chosen(timepoints: Sequence[str], latest: bool, name: str) -> Subquery:
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
        codes = _Codes()
        query = select(
            codes.code("measure", baseline.c.measure),
            codes.code("instrument", instrument),
            baseline.c.value,
            follow_up.c.value,
        ).select_from(
            codes.apply(
                baseline.join(
                    follow_up,
                    and_(
                        follow_up.c.referral_id == baseline.c.referral_id,
                        follow_up.c.measure == baseline.c.measure,
                        follow_up.c.assessed_at > baseline.c.assessed_at,
                    ),
                )
            )
        )
        names, joined = self._facts(
            baseline.c.referral_id, query, ["measure", "instrument", "baseline", "follow_up"]
        )
        yield insert(ReportScore).from_select(names, joined)

    @per_batch
    def insert_service_use_facts(self, ids: Ids) -> Iterator[Executable]:
        """Per referral and measure with a live count both before and after: the two counts.

        A join of the counts before to those after: a referral holds at most one count per
        measure and period (the table's unique key)."""
        before, after = SU.alias("before_count"), SU.alias("after_count")
        query = (
            select(before.c.measure, before.c.count, after.c.count)
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
                *self._only(before.c.referral_id, ids),
            )
        )
        names, joined = self._facts(before.c.referral_id, query, ["measure", "before", "after"])
        copied = [spec.column for spec in ON_REASONS]
        names += copied
        joined = joined.add_columns(*(F.c[n] for n in copied))
        yield insert(ReportServiceUse).from_select(names, joined)

    @per_batch
    def insert_activity_facts(self, ids: Ids) -> Iterator[Executable]:
        """Per worker and referral: each live contact they took part in (numbered within the
        referral; its date and attendance outcome) and the referral while they hold its Task
        (from the referral date to the day it ended). A worker's role is the one given on the
        contact, else the role the referral was made to. The referral's role, date and record
        key come from its referral facts (written first), not from the `referral` table."""
        contact_day = utc_date(self.dialect, C.c.contact_at)
        outcome = case(
            *((C.c.attendance_outcome == value, code) for value, code in OUTCOME_CODES.items()),
            else_=null(),
        )
        contact_codes = _Codes()
        contacts = (
            select(
                CW.c.referral_id,
                func.dense_rank()
                .over(partition_by=CW.c.referral_id, order_by=CW.c.contact_id)
                .label("contact"),
                contact_codes.code("worker", _staff(CW.c.worker_system, CW.c.worker_value)).label(
                    "worker"
                ),
                contact_codes.code("role", CW.c.role).label("given_role"),
                contact_day.label("day"),
                outcome.label("outcome"),
            )
            .select_from(contact_codes.apply(CW.join(C, C.c.id == CW.c.contact_id)))
            .where(C.c.status != WITHDRAWN, *self._only(CW.c.referral_id, ids))
        )
        ended = func.coalesce(L.c.closed_at, L.c.declined_at, L.c.cancelled_at)
        held_codes = _Codes()
        held = (
            select(
                T.c.referral_id,
                literal(0).label("contact"),
                held_codes.code("worker", _staff(T.c.owner_system, T.c.owner_value)).label(
                    "worker"
                ),
                null().label("given_role"),
                utc_date(self.dialect, ended).label("day"),
                null().label("outcome"),
            )
            .select_from(held_codes.apply(T.outerjoin(L, L.c.referral_id == T.c.referral_id)))
            .where(
                T.c.owner_system.is_not(None),
                T.c.owner_value.is_not(None),
                T.c.status != WITHDRAWN,
                *self._only(T.c.referral_id, ids),
            )
        )
        activity = union_all(contacts, held).subquery("activity")
        is_contact = activity.c.contact > 0
        role = func.coalesce(activity.c.given_role, F.c.role)
        # A contact is dated its day; a referral is held from its referral date until the day
        # it ended (the held rows carry that day as `day`).
        day = case((is_contact, activity.c.day), else_=F.c.authored_on)
        until = activity.c.day

        def first_of(*within: ColumnElement[Any]) -> ColumnElement[int]:
            """1 on the first row of each referral (and `within` values)."""
            number = func.row_number().over(
                partition_by=(KEY.c.referral_key, *within),
                order_by=(activity.c.contact, activity.c.worker, role),
            )
            return flag(number == 1)

        def first_contact_of(*within: ColumnElement[Any]) -> ColumnElement[int]:
            return flag(and_(is_contact, first_of(activity.c.contact, *within) == 1))

        flags = {
            "first_of_referral": first_of(),
            "first_of_referral_role": first_of(role),
            "first_of_referral_worker": first_of(activity.c.worker),
            "first_of_referral_role_worker": first_of(role, activity.c.worker),
            "first_of_contact": first_contact_of(),
            "first_of_contact_role": first_contact_of(role),
            "first_of_contact_worker": first_contact_of(activity.c.worker),
        }
        # One row per (referral, contact, worker, role): a worker named twice on a contact, or
        # holding two of the referral's Tasks, is one activity.
        query = (
            select(
                KEY.c.referral_key,
                activity.c.contact,
                activity.c.worker,
                role,
                F.c.record_key,
                func.min(day),
                func.max(until),
                func.max(activity.c.outcome),
                *flags.values(),
            )
            .select_from(
                activity.join(KEY, KEY.c.referral_id == activity.c.referral_id).join(
                    F, F.c.referral_key == KEY.c.referral_key
                )
            )
            .group_by(
                KEY.c.referral_key,
                activity.c.contact,
                activity.c.worker,
                role,
                F.c.record_key,
                F.c.authored_on,
            )
        )
        names = [
            *("referral_key", "contact", "worker", "role", "record_key"),
            *("day", "until", "outcome", *flags),
        ]
        yield insert(ReportActivity).from_select(names, query)

    @per_batch
    def insert_quality_facts(self, ids: Ids) -> Iterator[Executable]:
        """Per referral: the day received, source system, sender, record key and gap flags
        (any gap; each warning; gaps no warning names; an unmapped code on any element)."""
        named = [_matches(warning) for warning in WARNINGS]
        conditions = {
            **{w.name: m for w, m in zip(WARNINGS, named, strict=True)},
            OTHER_GAP: not_(or_(*named)),
            ANY_UNMAPPED: G.c.kind == GapKind.UNMAPPED_CODE.value,
        }
        gaps = (
            select(
                G.c.referral_id,
                *(func.max(flag(c)).label(name) for name, c in conditions.items()),
            )
            .where(*self._only(G.c.referral_id, ids))
            .group_by(G.c.referral_id)
            .subquery("gap_flags")
        )
        flags = {
            WITH_GAP: flag(gaps.c.referral_id.is_not(None)),
            **{name: func.coalesce(gaps.c[name], 0) for name in conditions},
        }
        query = (
            select(
                KEY.c.referral_key,
                utc_date(self.dialect, R.c.created_at),
                R.c.source_system,
                R.c.requester_ods,
                F.c.record_key,
                *(flags[name] for name in QUALITY_FLAGS),
            )
            .select_from(
                R.join(KEY, KEY.c.referral_id == R.c.id)
                .join(F, F.c.referral_key == KEY.c.referral_key)
                .outerjoin(gaps, gaps.c.referral_id == R.c.id)
            )
            .where(*self._only(R.c.id, ids))
        )
        names = [
            *("referral_key", "received_on", "source_system", "sender", "record_key"),
            *QUALITY_FLAGS,
        ]
        yield insert(ReportQuality).from_select(names, query)

    @per_batch
    def insert_unmapped_facts(self, ids: Ids) -> Iterator[Executable]:
        """Each unmapped code recorded as a gap of a referral, once per element and code."""
        received = (Q.c.received_on, Q.c.source_system, Q.c.sender, Q.c.record_key)
        query = (
            select(Q.c.referral_key, func.min(G.c.position), G.c.element, G.c.code, *received)
            .select_from(
                G.join(KEY, KEY.c.referral_id == G.c.referral_id).join(
                    Q, Q.c.referral_key == KEY.c.referral_key
                )
            )
            .where(G.c.kind == GapKind.UNMAPPED_CODE.value, *self._only(G.c.referral_id, ids))
            .group_by(Q.c.referral_key, G.c.element, G.c.code, *received)
        )
        names = [
            *("referral_key", "position", "element", "code"),
            *("received_on", "source_system", "sender", "record_key"),
        ]
        yield insert(ReportUnmapped).from_select(names, query)

    async def quality_days(self, ids: Sequence[str]) -> set[QualityDay]:
        """The days (day received, source system, sender) the data-quality facts of `ids`
        count in now."""
        result = await self.session.execute(
            select(Q.c.received_on, Q.c.source_system, Q.c.sender)
            .join(KEY, KEY.c.referral_key == Q.c.referral_key)
            .where(self.among(KEY.c.referral_id, ids))
            .distinct()
        )
        return {(row[0], row[1], row[2]) for row in result}

    async def derive_quality_days(self, days: set[QualityDay] | None) -> None:
        """Count `days` ((day received, source system, sender) keys; every day when None) again
        from the data-quality facts: the referrals received and those flagged, with their key
        sums."""
        if days is None or self.dialect != "postgresql":
            received = (Q.c.received_on, Q.c.source_system, Q.c.sender)
            await self._replace_counts(QD, received, _day_counts(), days)
            return
        await self._recount_joined(
            self.built(("quality-days",), _recount_days),
            days,
            lambda batch: _arrays(batch, "received_on", "source_system", "sender"),
        )

    async def derive_quality_months(self, months: set[QualityMonth] | None) -> None:
        """Sum `months` ((month, source system, sender) keys; every month when None) again from
        their days."""
        if months is None or self.dialect != "postgresql":

            def within(batch: list[Any]) -> list[ColumnElement[bool]]:
                # The days of the batch's months (sorted by month first), which the index finds.
                return [
                    QD.c.received_on >= first_day_of_month(batch[0][0]),
                    QD.c.received_on < first_day_of_month(batch[-1][0] + 1),
                ]

            month = day_month_number(self.dialect, QD.c.received_on)
            grouped_by = (month, QD.c.source_system, QD.c.sender)
            await self._replace_counts(QM, grouped_by, _month_counts(), months, within)
            return
        await self._recount_joined(
            self.built(("quality-months",), _recount_months),
            months,
            lambda batch: _arrays(
                [(m, s, x, first_day_of_month(m), first_day_of_month(m + 1)) for m, s, x in batch],
                *("month", "source_system", "sender", "first_day", "next_month"),
            ),
        )

    async def _replace_counts(
        self,
        target: Table,
        grouped_by: tuple[ColumnElement[Any], ...],
        measures: Sequence[ColumnElement[Any]],
        chosen: set[Any] | None,
        within: Callable[[list[Any]], list[ColumnElement[bool]]] | None = None,
    ) -> None:
        """Replace the rows of `target` whose primary keys are `chosen` (every row when None)
        with `measures` (its `_QUALITY_COUNTS`) over the rows `grouped_by` computes those keys
        from; `within` narrows each batch's scan. For SQLite's small databases and rebuilds:
        PostgreSQL recounts chosen keys with `_recount_joined`."""
        key = tuple(target.primary_key.columns)
        names = [*(column.name for column in key), *_QUALITY_COUNTS]
        if chosen is None:
            await self.session.execute(delete(target))
            query = select(*grouped_by, *measures).group_by(*grouped_by)
            await self.session.execute(insert(target).from_select(names, query))
            return
        keys = sorted(chosen)
        for start in range(0, len(keys), DAYS_PER_STATEMENT):
            batch = keys[start : start + DAYS_PER_STATEMENT]
            await self.session.execute(delete(target).where(tuple_(*key).in_(batch)))
            query = (
                select(*grouped_by, *measures)
                .where(*(within(batch) if within else ()), tuple_(*grouped_by).in_(batch))
                .group_by(*grouped_by)
            )
            await self.session.execute(insert(target).from_select(names, query))

    async def _recount_joined(
        self,
        statements: tuple[DriverStatement, ...],
        chosen: set[Any],
        arrays: Callable[[list[Any]], dict[str, list[Any]]],
    ) -> None:
        """Run `statements` (`_recount_days`, `_recount_months`: PostgreSQL) for the keys
        `chosen`, in batches, each given as the arrays `arrays` makes of it."""
        ordered = sorted(chosen)
        for start in range(0, len(ordered), DAYS_PER_STATEMENT):
            params = arrays(ordered[start : start + DAYS_PER_STATEMENT])
            for statement in statements:
                await statement.fetch(self.session, params)

    async def update_imd(self) -> None:
        """The IMD decile of every fact row, after the IMD lookup was reloaded."""
        decile = (
            select(IMD.c.imd_decile)
            .select_from(
                KEY.join(P, P.c.referral_id == KEY.c.referral_id).join(
                    IMD, IMD.c.lsoa_code == P.c.lsoa_code
                )
            )
            .where(KEY.c.referral_key == F.c.referral_key)
            .scalar_subquery()
        )
        await self.session.execute(update(ReportReferral).values(imd_decile=decile))
        for table in FACT_TABLES[1:]:
            await self.session.execute(
                update(table).values(
                    imd_decile=select(F.c.imd_decile)
                    .where(F.c.referral_key == table.referral_key)
                    .scalar_subquery()
                )
            )

    async def analyse_sources(self) -> None:
        """Planner statistics for the tables a bulk rebuild reads and the keys and codes it
        has just assigned, before the statements that join them (PostgreSQL). After a bulk
        load autovacuum may not have analysed the loaded tables yet; planned blind, one
        statement took a minute at 20,000 referrals instead of a second."""
        if self.dialect == "postgresql":
            for name in _source_tables():
                await self.session.execute(text(f"ANALYZE {name}"))

    async def analyse(self) -> None:
        """Fresh planner statistics after a bulk (re)build (PostgreSQL)."""
        if self.dialect == "postgresql":
            for table in _fact_tables():
                await self.session.execute(text(f"ANALYZE {table}"))

    async def analyse_grown(self) -> list[str]:
        """Fresh planner statistics for the tables a refresh reads and writes that have changed
        by at least half as many rows as they hold (inserts, updates and deletes: the refresh's
        own deletes and inserts of facts among them) and by `ANALYSE_AFTER_CHANGES` since they
        were last analysed (PostgreSQL); the tables analysed. Autovacuum analyses a table only
        after a tenth of it has changed and within a minute or so; until then, in a new
        database, after an import or through a burst of writes, the planner reads a table of
        thousands of rows as the few it last saw, and a batch's joins go row by row: at 3,000
        referrals made in ten seconds, one batch's statements took ten seconds, not a tenth of
        one. ANALYZE reads a sample of a table, so its cost stops growing with the table.

        Through `report_analyse_grown` (revision 9d4f7a2c6e31), which runs as the tables' owner
        (a deployment's service role may not analyse them) and skips a table autovacuum or
        another replica is analysing now. Run in a session that commits each statement: the
        statistics are kept whatever becomes of the batch."""
        if self.dialect != "postgresql":
            return []
        rows = await self.session.execute(
            text("SELECT report_analyse_grown(:tables, :least)"),
            {
                "tables": sorted({*_source_tables(), *_fact_tables()}),
                "least": ANALYSE_AFTER_CHANGES,
            },
        )
        return [row[0] for row in rows]
