"""CarePlan search parameters, and the filter they are read into.

The team worklist of overdue reviews is a search: `review-due=lt<today>&status=active` with the
team named by the referral it belongs to (`based-on.performer`, the receiving organisation, and
`based-on.performer-type`, the role), sorted by `review-due`.
"""

from dataclasses import dataclass, field
from datetime import date, time, timedelta

from referral_api.lifecycle.search import referral_ids
from referral_api.referrals.search import (
    PATIENT_PARAMETERS,
    ReferralFilter,
    organisations,
    patient_parameters,
    patient_value,
    system_code,
)
from signpost_platform.errors import BadRequest
from signpost_platform.fhir.search import (
    ID,
    LAST_UPDATED,
    DateRange,
    SearchParameter,
    SearchQuery,
    parse_date,
)
from signpost_schemas import systems

CP = "http://hl7.org/fhir/SearchParameter/CarePlan"
STATUSES = ("draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown")
STATUS_SYSTEM = "http://hl7.org/fhir/request-status"
REVIEW_DUE_DEFINITION = f"{systems.LOCAL_BASE}/SearchParameter/CarePlan-review-due"

BASED_ON = SearchParameter(
    "based-on",
    "reference",
    "The referral: ServiceRequest/<id> or the id; comma-separated values OR",
    f"{CP}-based-on",
    example="ServiceRequest/2f1c6a0e-4b7d-4c1e-9f3a-0d5b8e7c6a21",
)
PARAMETERS = [
    BASED_ON,
    *patient_parameters(CP),
    SearchParameter(
        "status",
        "token",
        "CarePlan.status; comma-separated values OR",
        f"{CP}-status",
        example="active",
    ),
    SearchParameter(
        "date",
        "date",
        "The time the plan covers (CarePlan.period; from its created date when no period is "
        "sent), with eq, ge, gt, le or lt; repeat for a range",
        f"{CP}-date",
        example="ge2026-01-01",
    ),
    SearchParameter(
        "review-due",
        "date",
        "When the plan's next review is due (its next review date, else twelve months after "
        "the last review or the plan's creation), with eq, ge, gt, le or lt: "
        "review-due=lt<today> lists overdue reviews",
        REVIEW_DUE_DEFINITION,
        example="lt2026-12-01",
    ),
    SearchParameter(
        "based-on.performer",
        "reference",
        "The team: the organisation that received the referral, Organization/<ODS code> (or the "
        "ODS code alone); comma-separated values OR",
        example="Organization/Y02001",
    ),
    SearchParameter(
        "based-on.performer-type",
        "token",
        "The team's role: the personalised-care role the referral was made to",
        example="social-prescribing-link-worker",
    ),
    ID,
    LAST_UPDATED,
]
SORT_KEYS = {
    "review-due": "review_due_on",
    "date": "period_start_at",
    "_lastUpdated": "last_updated_at",
}
DEFAULT_SORT = [("review_due_on", False)]


@dataclass(frozen=True, slots=True)
class DayRange:
    """A date parameter on a column of days: the prefix and the days [start, end)."""

    prefix: str
    start: date
    end: date


@dataclass
class CarePlanFilter:
    """A validated CarePlan search, ready for the repository."""

    referral_ids: list[list[str]] = field(default_factory=list)
    # Conditions on the referral the plan belongs to: person, receiving organisation, role.
    referral: ReferralFilter = field(default_factory=ReferralFilter)
    statuses: list[list[str]] = field(default_factory=list)
    dates: list[DateRange] = field(default_factory=list)
    review_due: list[DayRange] = field(default_factory=list)
    ids: list[list[str]] = field(default_factory=list)
    last_updated: list[DateRange] = field(default_factory=list)
    count: int = 20
    offset: int = 0
    sort: list[tuple[str, bool]] = field(default_factory=lambda: list(DEFAULT_SORT))
    with_total: bool = True

    @property
    def names_referral(self) -> bool:
        referral = self.referral
        return bool(referral.patients or referral.performers or referral.roles)


def care_plan_filter(query: SearchQuery) -> CarePlanFilter:
    """Translate parsed FHIR parameters into a `CarePlanFilter`, validating each value."""
    return CarePlanFilter(
        referral_ids=referral_ids(BASED_ON.name, query.occurrences(BASED_ON.name)),
        referral=ReferralFilter(
            patients=[
                [patient_value(name, v) for v in o]
                for name in PATIENT_PARAMETERS
                for o in query.occurrences(name)
            ],
            performers=organisations(query, "based-on.performer"),
            roles=[
                [
                    system_code("based-on.performer-type", v, systems.PERSONALISED_CARE_ROLE)
                    for v in o
                ]
                for o in query.occurrences("based-on.performer-type")
            ],
        ),
        statuses=[[_status(v) for v in o] for o in query.occurrences("status")],
        dates=[parse_date("date", v) for v in query.values.get("date", [])],
        review_due=[_days("review-due", v) for v in query.values.get("review-due", [])],
        ids=query.ids(),
        last_updated=query.last_updated(),
        count=query.rows_read,
        offset=query.offset,
        sort=query.sort or list(DEFAULT_SORT),
        with_total=query.total,
    )


def _status(value: str) -> str:
    code = system_code("status", value, STATUS_SYSTEM)
    if code not in STATUSES:
        raise BadRequest(
            f"status must be one of {', '.join(STATUSES)} (got {code!r})", expression="status"
        )
    return code


def _days(name: str, value: str) -> DayRange:
    """A date parameter read as whole days: a moment counts as its day (UTC)."""
    parsed = parse_date(name, value)
    start = parsed.start.date()
    # A range ending inside a day (a moment) covers that day too.
    end = parsed.end.date() + (timedelta(days=1) if parsed.end.time() != time(0) else timedelta())
    return DayRange(parsed.prefix, start, max(end, start + timedelta(days=1)))
