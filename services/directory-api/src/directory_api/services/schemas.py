"""ORUK service objects as the curation API and the bulk import accept them.

Beyond ORUK 3.0 the service takes the HSDS fields link workers need (`eligibility_description`,
`application_process`, `fees_description`, `phones`, language `name`/`code`) and one Signpost
extension, `accepts_self_referral`.
"""

import re
from datetime import date
from typing import Any, Literal, Self

from pydantic import Field, field_validator, model_validator

from directory_api.fields import (
    Email,
    IsoDate,
    LanguageCode,
    Name,
    OrukInput,
    RecordInput,
    Text,
    Url,
    Uuid,
)
from directory_api.locations.schemas import LocationIn
from directory_api.organizations.schemas import OrganizationIn, PhoneIn
from directory_api.taxonomy.schemas import TaxonomyTermIn

WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_BYDAY = re.compile(r"^(?P<ordinal>[+-]?[1-5])?(?P<day>MO|TU|WE|TH|FR|SA|SU)$")
_CLOCK = re.compile(r"^(?P<hour>[01][0-9]|2[0-3]):(?P<minute>[0-5][0-9])(:[0-5][0-9])?$")
ServiceStatus = Literal["active", "inactive", "defunct", "temporarily closed"]


def clock_minutes(value: str) -> int:
    """`09:30` or `09:30:00` → 570."""
    match = _CLOCK.match(value)
    if not match:
        raise ValueError(f"{value!r} is not a time of day HH:MM")
    return int(match["hour"]) * 60 + int(match["minute"])


def byday_weekdays(byday: str) -> list[int]:
    """`MO,WE` → [0, 2]; `2TU` (second Tuesday) → [1]."""
    days = []
    for token in byday.split(","):
        match = _BYDAY.match(token.strip())
        if not match:
            raise ValueError(
                f"byday {token!r}: use MO..SU, optionally after an ordinal (2TU, -1FR)"
            )
        days.append(WEEKDAYS.index(match["day"]))
    return days


class ScheduleIn(OrukInput):
    id: Uuid | None = None
    service_id: Uuid | None = None
    service_at_location_id: Uuid | None = None
    valid_from: IsoDate | None = None
    valid_to: IsoDate | None = None
    dtstart: str | None = Field(default=None, max_length=30)
    until: str | None = Field(default=None, max_length=30)
    timezone: str | None = Field(default=None, max_length=50)
    freq: Literal["WEEKLY", "MONTHLY"] | None = None
    interval: int | None = Field(default=None, ge=1, le=52)
    byday: str | None = Field(default=None, max_length=100)
    bymonthday: str | None = Field(default=None, max_length=100)
    opens_at: str | None = None
    closes_at: str | None = None
    schedule_link: Url | None = None
    attending_type: str | None = Field(default=None, max_length=100)
    description: str | None = Field(default=None, max_length=2000)
    notes: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _a_consistent_rule(self) -> Self:
        if self.byday is not None:
            byday_weekdays(self.byday)  # refuses a malformed day
            ordinals = [_BYDAY.match(token.strip()) for token in self.byday.split(",")]
            if self.freq == "WEEKLY" and any(m and m["ordinal"] for m in ordinals):
                raise ValueError("a WEEKLY schedule takes plain days (MO,TU), not ordinals")
        if self.freq is not None and not (self.byday or self.bymonthday):
            raise ValueError(f"a {self.freq} schedule needs byday or bymonthday")
        opens = clock_minutes(self.opens_at) if self.opens_at else None
        closes = clock_minutes(self.closes_at) if self.closes_at else None
        if (opens is None) != (closes is None):
            raise ValueError("opens_at and closes_at must be given together")
        if opens is not None and closes is not None and opens >= closes:
            raise ValueError(
                f"opens_at ({self.opens_at}) must be before closes_at ({self.closes_at})"
            )
        if self.valid_from and self.valid_to and self.valid_from > self.valid_to:
            raise ValueError("valid_from must not be after valid_to")
        return self


class ServiceAreaIn(OrukInput):
    id: Uuid | None = None
    service_id: Uuid | None = None
    name: str | None = Field(default=None, max_length=255)
    description: str | None = Field(default=None, max_length=2000)
    extent: str | None = Field(default=None, max_length=1_000_000)
    extent_type: Literal["geojson", "topojson", "kml", "text"] | None = None
    uri: Url | None = None
    service_area: str | None = Field(default=None, max_length=255)


class LanguageIn(OrukInput):
    id: Uuid | None = None
    service_id: Uuid | None = None
    name: str | None = Field(default=None, max_length=100)
    code: LanguageCode | None = None
    note: str | None = Field(default=None, max_length=1000)

    @model_validator(mode="after")
    def _named_or_coded(self) -> Self:
        if not (self.name or self.code):
            raise ValueError("a language needs a name or a code")
        return self


class CostOptionIn(OrukInput):
    id: Uuid | None = None
    service_id: Uuid | None = None
    valid_from: IsoDate | None = None
    valid_to: IsoDate | None = None
    option: str | None = Field(default=None, max_length=255)
    amount: float | None = Field(default=None, ge=0)
    currency: Literal["GBP"] | None = None
    amount_description: str | None = Field(default=None, max_length=1000)


class FundingIn(OrukInput):
    id: Uuid | None = None
    service_id: Uuid | None = None
    source: Text


class ContactIn(OrukInput):
    id: Uuid | None = None
    service_id: Uuid | None = None
    name: str | None = Field(default=None, max_length=255)
    title: str | None = Field(default=None, max_length=255)
    department: str | None = Field(default=None, max_length=255)
    email: Email | None = None
    phones: list[PhoneIn] | None = None


class AttributeIn(OrukInput):
    id: Uuid | None = None
    link_id: Uuid | None = None
    link_type: str | None = Field(default=None, max_length=100)
    link_entity: str | None = Field(default=None, max_length=50)
    value: str | None = Field(default=None, max_length=1000)
    taxonomy_term_id: Uuid | None = None
    # Accepted from exports: the term is created or updated along with the service.
    taxonomy_term: TaxonomyTermIn | None = None

    @model_validator(mode="after")
    def _names_a_term(self) -> Self:
        nested_id = self.taxonomy_term.id if self.taxonomy_term else None
        if not (self.taxonomy_term_id or nested_id):
            raise ValueError("an attribute needs taxonomy_term_id (or a taxonomy_term with an id)")
        if self.taxonomy_term_id and nested_id and self.taxonomy_term_id != nested_id:
            raise ValueError("taxonomy_term_id differs from taxonomy_term.id")
        return self

    @property
    def term_id(self) -> str:
        return self.taxonomy_term_id or self.taxonomy_term.id  # type: ignore[union-attr,return-value]


class ServiceAtLocationIn(OrukInput):
    id: Uuid | None = None
    service_id: Uuid | None = None
    location_id: Uuid | None = None
    # Accepted from exports: the location is created or updated along with the service.
    location: LocationIn | None = None
    description: str | None = Field(default=None, max_length=2000)
    schedules: list[ScheduleIn] | None = None
    phones: list[PhoneIn] | None = None

    @model_validator(mode="after")
    def _names_a_location(self) -> Self:
        nested_id = self.location.id if self.location else None
        if not (self.location_id or nested_id):
            raise ValueError("service_at_location needs location_id (or a location with an id)")
        if self.location_id and nested_id and self.location_id != nested_id:
            raise ValueError("location_id differs from location.id")
        return self

    @property
    def target_location_id(self) -> str:
        return self.location_id or self.location.id  # type: ignore[union-attr,return-value]


class ServiceIn(RecordInput):
    organization_id: Uuid | None = None
    # Accepted from exports: the organisation is created or updated along with the service.
    organization: OrganizationIn | None = None
    name: Name
    alternate_name: str | None = Field(default=None, max_length=255)
    description: Text | None = None
    url: Url | None = None
    email: Email | None = None
    status: ServiceStatus = "active"
    fees: str | None = Field(default=None, max_length=2000)
    fees_description: str | None = Field(default=None, max_length=2000)
    accreditations: str | None = Field(default=None, max_length=2000)
    eligibility_description: str | None = Field(default=None, max_length=4000)
    application_process: str | None = Field(default=None, max_length=4000)
    interpretation_services: str | None = Field(default=None, max_length=2000)
    minimum_age: int | float | None = Field(default=None, ge=0, le=130)
    maximum_age: int | float | None = Field(default=None, ge=0, le=130)
    assured_date: IsoDate | None = None
    assurer_email: Email | None = None
    alert: str | None = Field(default=None, max_length=2000)
    accepts_self_referral: bool | None = None
    # Sent by exports; the directory sets its own.
    last_modified: str | None = None
    metadata: list[dict[str, Any]] | None = None
    phones: list[PhoneIn] | None = None
    schedules: list[ScheduleIn] | None = None
    service_areas: list[ServiceAreaIn] | None = None
    service_at_locations: list[ServiceAtLocationIn] | None = None
    languages: list[LanguageIn] | None = None
    funding: list[FundingIn] | None = None
    cost_options: list[CostOptionIn] | None = None
    contacts: list[ContactIn] | None = None
    attributes: list[AttributeIn] | None = None

    @field_validator("assured_date")
    @classmethod
    def _assured_not_in_the_future(cls, value: date | None) -> date | None:
        if value is not None and value > date.today():
            raise ValueError("assured_date is in the future")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if (
            self.minimum_age is not None
            and self.maximum_age is not None
            and self.minimum_age > self.maximum_age
        ):
            raise ValueError("minimum_age is above maximum_age")
        nested_org_id = self.organization.id if self.organization else None
        if not (self.organization_id or nested_org_id):
            raise ValueError("a service needs organization_id (the organisation that provides it)")
        if self.organization_id and nested_org_id and self.organization_id != nested_org_id:
            raise ValueError("organization_id differs from organization.id")
        return self

    @property
    def provider_id(self) -> str:
        return self.organization_id or self.organization.id  # type: ignore[union-attr,return-value]


class AssuranceIn(OrukInput):
    """Who checked a service's entry, and when (today unless given)."""

    assurer_email: Email | None = None
    assured_date: IsoDate | None = None

    @field_validator("assured_date")
    @classmethod
    def _not_in_the_future(cls, value: date | None) -> date | None:
        if value is not None and value > date.today():
            raise ValueError("assured_date is in the future")
        return value
