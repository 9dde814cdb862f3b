"""The Signpost service-use count: how often the person used a service around a referral.

`code` names the measure from the service-use list (GP appointments, A&E attendances, emergency
admissions), `effectivePeriod` the days counted (start and end required, at most six months:
`MAX_PERIOD_DAYS`), `valueQuantity` (or `valueInteger`) the count, a whole number from 0 to
`MAX_COUNT`, and `basedOn` the referral. Whether the count is of the six months before or after
the referral is read from the period against the referral date, by the service that knows the
referral (`period_of`): a period that straddles the referral date is refused.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from pydantic import model_validator

from signpost_schemas import codes
from signpost_schemas.codes import Concept
from signpost_schemas.dates import months_after
from signpost_schemas.fhir.binding import custom_error, describe_codings, first_match
from signpost_schemas.fhir.observation import Quantity, ReferralObservation
from signpost_schemas.fhir.task import DatePeriod, as_moment

Period = Literal["before", "after"]
PERIODS: tuple[Period, ...] = ("before", "after")
# Six months at most (184 days: the longest six calendar months).
MAX_PERIOD_DAYS = 184
# More than this in six months (about three a day) is not a count Signpost can trust.
MAX_COUNT = 500
# Counts that no longer stand.
WITHDRAWN_STATUSES = ("entered-in-error", "cancelled")


@dataclass(frozen=True, slots=True)
class CountedPeriod:
    """The days a count covers: from `start` up to and including `end` (dates)."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def six_months(referral_day: date, period: Period) -> CountedPeriod:
    """The six calendar months before the referral date (ending the day before it), or after
    it (starting on it)."""
    if period == "before":
        return CountedPeriod(months_after(referral_day, -6), referral_day - timedelta(days=1))
    return CountedPeriod(referral_day, months_after(referral_day, 6) - timedelta(days=1))


def period_of(counted: CountedPeriod, referral_day: date) -> Period | None:
    """before when the period ends before the referral date, after when it starts on or after
    it; None when it straddles the referral date."""
    if counted.end < referral_day:
        return "before"
    if counted.start >= referral_day:
        return "after"
    return None


class ServiceUseObservation(ReferralObservation):
    """A count of service use (Observation) recorded against a referral."""

    # `id` is the sender's; optional (one count per referral, measure and period is kept).

    effectivePeriod: DatePeriod
    valueQuantity: Quantity | None = None
    valueInteger: int | None = None

    @model_validator(mode="after")
    def _count_and_period(self) -> "ServiceUseObservation":
        self.measure  # noqa: B018 - refuses a code outside the service-use list
        period = self.effectivePeriod
        if period.start is None or period.end is None:
            raise custom_error(
                "required",
                "a service-use count needs the start and end of the period it counts",
                "Observation.effectivePeriod",
            )
        counted = self.counted_period
        if counted.end < counted.start:
            raise custom_error(
                "value_error", "the period ends before it starts", "Observation.effectivePeriod"
            )
        if counted.days > MAX_PERIOD_DAYS:
            raise custom_error(
                "business_rule",
                "a service-use count covers at most six months ({days} days); this period is "
                "{got} days",
                "Observation.effectivePeriod",
                days=MAX_PERIOD_DAYS,
                got=counted.days,
            )
        values = [v for v in (self.valueQuantity, self.valueInteger) if v is not None]
        if len(values) != 1:
            raise custom_error(
                "required",
                "a service-use count needs exactly one value (valueQuantity or valueInteger)",
                "Observation.value[x]",
            )
        value = self.valueQuantity.value if self.valueQuantity else self.valueInteger
        assert value is not None
        if not 0 <= value <= MAX_COUNT or value != int(value):
            raise custom_error(
                "value_error",
                "the count {value} is out of range: a whole number from 0 to {high}",
                "Observation.valueQuantity.value"
                if self.valueQuantity
                else "Observation.valueInteger",
                value=str(value),
                high=MAX_COUNT,
            )
        return self

    # Typed views.

    @property
    def measure(self) -> Concept:
        match = first_match(self.code, codes.service_use())
        if match is None:
            raise custom_error(
                "code_invalid",
                "Observation.code must name a measure from the service-use list "
                "(gp-appointments, ae-attendances, emergency-admissions; got {got})",
                "Observation.code",
                got=describe_codings(self.code),
            )
        return match[1]

    @property
    def counted_period(self) -> CountedPeriod:
        start, end = self.effectivePeriod.start, self.effectivePeriod.end
        assert start is not None and end is not None
        return CountedPeriod(_day(start), _day(end))

    @property
    def count(self) -> int:
        value = self.valueQuantity.value if self.valueQuantity else self.valueInteger
        assert value is not None
        return int(value)


def _day(value: datetime | date) -> date:
    return as_moment(value).date() if isinstance(value, datetime) else value
