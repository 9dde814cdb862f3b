"""The measures of the referral facts, declared once (`MEASURES`).

A measure is a column of `report_referral` that is not a dimension: the person's pseudonym and
tag, the lifecycle status and how the referral ended, the waits, the contacts by attendance
outcome, the links to other referrals, the support match and which minimum-dataset fields are
present and coded. Each `MeasureSpec` names its column, what it holds (`kind`, which gives the
column's type), what it means, and the expression it is derived from (`value`, over the tables
and per-referral aggregates a refresh joins to each referral: `FactSources`, built by
`reports.facts_repository`). `reports.models` makes the ORM columns from the specs and
`reports.facts_repository` the referral facts' SELECT list; the measures `on_reasons` are
copied onto the reason facts too. A new measure is one entry here and one migration adding its
column; `tests/reports/test_facts.py` fails until the `report_change` triggers watch every
column its expression reads.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import FromClause, Subquery, Table, and_, case, exists, func
from sqlalchemy.sql.elements import ColumnElement

from referral_api.reports.expressions import days_between, flag
from signpost_platform.cell_keys import hashed, hex_number, non_negative
from signpost_schemas.disclosure import RecordKeys
from signpost_schemas.fhir.binding import UNCODED_GROUP, UNMAPPED_GROUP
from signpost_schemas.fhir.task import CLOSURE_NOT_RECORDED

NOT_RECORDED_GROUP = "not-recorded"
# Reasons that are not coded (completeness), and needs the reason-support map cannot match.
UNCODED_GROUPS = (NOT_RECORDED_GROUP, UNCODED_GROUP)
UNMATCHABLE_GROUPS = (NOT_RECORDED_GROUP, UNCODED_GROUP, UNMAPPED_GROUP)
UNKNOWN_SOURCE_GROUP = "unknown"
GENDER_NOT_KNOWN = "not-known"
ETHNIC_CATEGORY_NOT_KNOWN = "99"

# The per-outcome contact counts of a referral's facts: column name → contact attendance outcome.
CONTACT_OUTCOME_COLUMNS = {
    "attended": "attended",
    "dna": "dna",
    "not_seen": "not-seen",
    "cancelled_by_patient": "cancelled-by-patient",
    "cancelled_by_provider": "cancelled-by-provider",
    "booked": "booked",
}


@dataclass(frozen=True, slots=True)
class FactSources:
    """What a referral's measures are derived from, joined to the referral by the refresh:
    the normalised tables (one row or none per referral) and per-referral aggregates of the
    others (built for the referrals being refreshed)."""

    referral: Table
    # Any other referral (an alias of `referral`), for "the person has other referrals".
    other_referral: FromClause
    person: Table
    # The person's PCN: the one received, else the one the practice-to-PCN lookup gives.
    person_pcn: ColumnElement[Any]
    lifecycle: Table
    # The person's keyed pseudonym (`report_person`).
    pseudonym: Table
    # Per referral: `contacts`, and one count per `CONTACT_OUTCOME_COLUMNS` column.
    contacts: Subquery
    # Per referral: `re_referral` and `parallel` flags.
    links: Subquery
    # Per referral: how many `reasons`, whether any is `coded`, whether any is a known `need`.
    reasons: Subquery
    # The referrals offered any support.
    supported: Subquery
    # Per referral: `met`, whether support offered addresses a reason's group.
    needs_met: Subquery
    dialect: str
    keys: RecordKeys


# What a measure column holds: a 0/1 flag, a count, a `report_code` code, whole days, the
# person's pseudonym or their disclosure-control tag.
MeasureKind = Literal["flag", "count", "code", "days", "pseudonym", "tag"]


@dataclass(frozen=True, slots=True)
class MeasureSpec:
    """One measure of the referral facts, declared once.

    `value` is the expression the refresh derives it from; a `code` measure's value is coded
    in `dimension`'s `report_code` codes. `required` says a value is always there (else the
    column is nullable); `default` is the column's server default; `on_reasons` copies it
    onto the reason facts, so counts and waits by reason need no join."""

    column: str
    kind: MeasureKind
    meaning: str
    value: Callable[[FactSources], ColumnElement[Any]]
    required: bool = True
    dimension: str | None = None
    default: str | None = None
    on_reasons: bool = False


def ended_reason(lifecycle: Table) -> ColumnElement[Any]:
    """The closure reason of a closed referral, the rejection reason of a declined one."""
    return case(
        (lifecycle.c.status == "closed", lifecycle.c.closure_reason_code),
        (lifecycle.c.status == "declined", lifecycle.c.decline_reason_code),
    )


def _closed(s: FactSources) -> ColumnElement[bool]:
    return s.lifecycle.c.status == "closed"


def _recorded(column: ColumnElement[Any], *unknown: str) -> ColumnElement[int]:
    """1 when the value is present and not one of the `unknown` ones."""
    present = column.is_not(None)
    return flag(and_(present, column.not_in(unknown)) if unknown else present)


def _contacts(column: str) -> Callable[[FactSources], ColumnElement[Any]]:
    """A count of the referral's contacts (0 when it has none)."""
    return lambda s: func.coalesce(s.contacts.c[column], 0)


MEASURES: tuple[MeasureSpec, ...] = (
    MeasureSpec(
        "person_key",
        "pseudonym",
        "The keyed pseudonym of the referral's person",
        lambda s: s.pseudonym.c.person_key,
        required=False,
        on_reasons=True,
    ),
    MeasureSpec(
        "shared_person",
        "flag",
        "1 when the person has other referrals: people are the referrals of the others plus "
        "the distinct pseudonyms of these (a distinct count over a fraction of the rows)",
        lambda s: flag(
            exists().where(
                s.other_referral.c.person_key == s.referral.c.person_key,
                s.other_referral.c.id != s.referral.c.id,
            )
        ),
        default="0",
        on_reasons=True,
    ),
    MeasureSpec(
        "person_tag",
        "tag",
        "The person's tag for disclosure control: a keyed hash of the pseudonym, or of the "
        "referral when the person has none (a person of one referral); a count of people sums "
        "each person's tag once for its key",
        lambda s: case(
            (
                s.pseudonym.c.person_key.is_(None),
                hashed(s.keys.person, hex_number(s.dialect, s.referral.c.id)),
            ),
            else_=hashed(s.keys.person, non_negative(s.pseudonym.c.person_key)),
        ),
        required=False,
        on_reasons=True,
    ),
    MeasureSpec(
        "status",
        "code",
        "The lifecycle status (received when nothing has come back)",
        lambda s: func.coalesce(s.lifecycle.c.status, "received"),
        dimension="status",
    ),
    MeasureSpec(
        "ended_reason",
        "code",
        "The closure reason of a closed referral, the rejection reason of a declined one",
        lambda s: ended_reason(s.lifecycle),
        required=False,
        dimension="ended-reason",
    ),
    MeasureSpec(
        "first_contact_days",
        "days",
        "Days from the referral date to the first attended contact",
        lambda s: days_between(s.dialect, s.referral.c.authored_at, s.lifecycle.c.first_contact_at),
        required=False,
        on_reasons=True,
    ),
    MeasureSpec(
        "closure_days",
        "days",
        "Days from the referral date to closure (closed referrals only)",
        lambda s: case(
            (
                and_(_closed(s), s.lifecycle.c.closed_at.is_not(None)),
                days_between(s.dialect, s.referral.c.authored_at, s.lifecycle.c.closed_at),
            ),
        ),
        required=False,
        on_reasons=True,
    ),
    MeasureSpec(
        "contacts",
        "count",
        "Contacts recorded (not entered in error)",
        _contacts("contacts"),
    ),
    *(
        MeasureSpec(
            column,
            "count",
            f"Contacts with the attendance outcome {outcome}",
            _contacts(column),
        )
        for column, outcome in CONTACT_OUTCOME_COLUMNS.items()
    ),
    MeasureSpec(
        "several_reasons",
        "flag",
        "1 when the referral gives more than one reason",
        lambda s: flag(func.coalesce(s.reasons.c.reasons, 0) > 1),
    ),
    MeasureSpec(
        "several_reason_groups",
        "flag",
        "1 when the referral's reasons are in more than one reason group, 'not recorded' not "
        "counted (it forms a pair of groups)",
        lambda s: flag(func.coalesce(s.reasons.c.groups, 0) > 1),
        default="0",
    ),
    MeasureSpec(
        "has_need",
        "flag",
        "1 when a reason is in a group the reason-support map can match",
        lambda s: func.coalesce(s.reasons.c.need, 0),
    ),
    MeasureSpec(
        "has_support",
        "flag",
        "1 when any support was offered",
        lambda s: flag(s.supported.c.referral_id.is_not(None)),
    ),
    MeasureSpec(
        "need_met",
        "flag",
        "1 when support offered addresses the group of one of the reasons",
        lambda s: func.coalesce(s.needs_met.c.met, 0),
    ),
    MeasureSpec(
        "re_referral",
        "flag",
        "1 when the referral is a re-referral of the person to the same role",
        lambda s: func.coalesce(s.links.c.re_referral, 0),
    ),
    MeasureSpec(
        "parallel",
        "flag",
        "1 when the referral is the later of two concurrent referrals of the person to other roles",
        lambda s: func.coalesce(s.links.c.parallel, 0),
    ),
    MeasureSpec(
        "reason_coded",
        "flag",
        "1 when a reason is coded",
        lambda s: func.coalesce(s.reasons.c.coded, 0),
    ),
    MeasureSpec(
        "source_coded",
        "flag",
        "1 when the source of referral is recorded and known",
        lambda s: _recorded(
            s.referral.c.source_of_referral_group, UNKNOWN_SOURCE_GROUP, NOT_RECORDED_GROUP
        ),
    ),
    MeasureSpec(
        "has_person",
        "flag",
        "1 when the person's details were received",
        lambda s: _recorded(s.person.c.referral_id),
    ),
    MeasureSpec(
        "has_age_band",
        "flag",
        "1 when the person's age band is known",
        lambda s: _recorded(s.person.c.age_band),
    ),
    MeasureSpec(
        "gender_coded",
        "flag",
        "1 when the person's gender is recorded and known",
        lambda s: _recorded(s.person.c.gender, GENDER_NOT_KNOWN),
    ),
    MeasureSpec(
        "ethnicity_coded",
        "flag",
        "1 when the person's ethnic category is recorded and known",
        lambda s: _recorded(s.person.c.ethnic_category, ETHNIC_CATEGORY_NOT_KNOWN),
    ),
    MeasureSpec(
        "has_lsoa",
        "flag",
        "1 when the person's LSOA is known",
        lambda s: _recorded(s.person.c.lsoa_code),
    ),
    MeasureSpec(
        "has_practice",
        "flag",
        "1 when the person's GP practice is known",
        lambda s: _recorded(s.person.c.practice_ods),
    ),
    MeasureSpec(
        "has_pcn",
        "flag",
        "1 when the person's PCN is known (received, or given by the lookup)",
        lambda s: _recorded(s.person_pcn),
    ),
    MeasureSpec(
        "closure_reason_recorded",
        "flag",
        "1 when a closed referral's closure reason is recorded",
        lambda s: flag(
            and_(
                _closed(s),
                s.lifecycle.c.closure_reason_code.is_not(None),
                s.lifecycle.c.closure_reason_code != CLOSURE_NOT_RECORDED,
            )
        ),
    ),
)
# The completeness report's fields and the referral facts' flag of each (present and coded);
# whether the closure reason applies (`closed`) is read from the referral's `status`.
COMPLETENESS_FLAGS = {
    "reason": "reason_coded",
    "source": "source_coded",
    "person": "has_person",
    "age_band": "has_age_band",
    "gender": "gender_coded",
    "ethnicity": "ethnicity_coded",
    "lsoa": "has_lsoa",
    "practice": "has_practice",
    "pcn": "has_pcn",
    "closure_reason": "closure_reason_recorded",
}
# The attendance report's counts: contacts by outcome, summed, and the referrals with a contact
# and with a did-not-attend.
ATTENDANCE_COUNTS = (
    "contacts",
    *CONTACT_OUTCOME_COLUMNS,
    "referrals_with_contact",
    "referrals_with_dna",
)
# The counts of the referral facts the refresh keeps per month, role, source system and status
# (`report_referral_month`; `facts_repository.REFERRAL_COUNTS` says what each sums): referrals,
# those with several reasons and several reason groups (the `reason-pairs` report's
# denominators), the completeness and attendance reports' counts, the referrals offered any
# support, and the re-referrals and referrals in parallel (the `re-referrals` report's).
REFERRAL_MONTH_COUNTS = (
    "referrals",
    "several",
    "several_groups",
    *(f"has_{field}" for field in COMPLETENESS_FLAGS),
    *ATTENDANCE_COUNTS,
    "offered",
    "re_referrals",
    "parallel",
)
# The counts of the reason facts the refresh keeps per month, role, source system, reason and
# reason group (`report_reason_month`; `facts_repository.REASON_COUNTS` says what each sums):
# the reasons report's and the support-match report's.
REASON_MONTH_COUNTS = (
    "reasons",
    "group_first",
    "referral_first",
    "with_support",
    "matched",
    "first_has_need",
    "first_with_support",
    "first_need_met",
)
# The counts of the support facts the refresh keeps per month, role, source system, support,
# support group and status (`report_support_month`; `facts_repository.SUPPORT_COUNTS` says what
# each sums): the support report's and, by support group, the outcomes report's.
SUPPORT_MONTH_COUNTS = ("supports", "group_first", "offers", "onward_referrals")
# The counts of the reason facts the refresh keeps per month, reason group and previous months
# (`report_reason_people_month`; `facts_repository.REASON_PEOPLE_COUNTS` says what each sums):
# the referrals report's referrals and people by reason group, by their previous month in the
# group, and its totals, by the previous month of any group (docs/reports.md). A `*_tags` count
# sums the person tags the people's cell keys add (its own key sum is not read); `reasons`,
# every row, says when a month's row has none left.
REASON_PEOPLE_MONTH_COUNTS = ("reasons", "group_rows", "group_tags", "first_rows", "first_tags")
# The counts of the service-use facts by reason group the refresh keeps per month, role, reason
# group, measure and previous months (`report_service_use_month`; `facts_repository.
# SERVICE_USE_COUNTS` says what each sums): the service-use report's pairs, person tags, sums
# before and after and fewer after, of every row and (`once_`) of each pair's `use_first` row.
SERVICE_USE_MONTH_COUNTS = (
    "pairs",
    "tags",
    "before_sum",
    "after_sum",
    "fewer",
    "once_pairs",
    "once_tags",
    "once_before_sum",
    "once_after_sum",
    "once_fewer",
)
# The counts of the referral facts the refresh keeps per month, role, source system and
# histogram of waits (`report_wait_month`; `facts_repository.WAIT_COUNTS`): the waiting-times
# report's referrals, and those that waited so many days to first contact and to closure.
WAIT_MONTH_COUNTS = ("referrals",)
# The counts of the reason facts the refresh keeps per month, reason group and histogram of
# waits (`report_reason_wait_month`; `facts_repository.REASON_WAIT_COUNTS`): the waiting-times
# report's referrals by reason group (the group rows) and in total (their referrals' first rows);
# `reasons`, every row, says when a month's row has none left.
REASON_WAIT_MONTH_COUNTS = ("reasons", "group_rows", "first_rows")
# Sums of person tags (each up to 2^31): kept as BIGINT.
TAG_SUMS = frozenset(("group_tags", "first_tags", "tags", "once_tags"))
# The measures copied onto the reason facts, and the fact columns holding a `report_code` code
# of a measure → its dictionary dimension.
ON_REASONS = tuple(spec for spec in MEASURES if spec.on_reasons)
CODED_MEASURES = {spec.column: spec.dimension for spec in MEASURES if spec.dimension}
