"""The search parameters of `/services` and `/service_at_locations` (one definition serves the
parser in `query.py` and the OpenAPI document), the filter they are read into, ready for the
repository, and what a search finds (`Hit`).

Standard ORUK 3.0 parameters (both readings of the profile) and Signpost's documented
extensions. Every parameter narrows the result (boolean AND); comma-separated values of one
parameter are alternatives (OR).
"""

import math
from dataclasses import dataclass, field
from datetime import date, datetime

from directory_api.config import DirectorySettings
from directory_api.oruk.params import FULL, PAGE, PER_PAGE, SEARCH, TEXT
from directory_api.services.schemas import WEEKDAYS
from signpost_platform.parameters import QueryParameter

DELIVERY_MODES = ("in_person", "phone", "online")
DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MAX_PROXIMITY = DirectorySettings.model_fields["max_proximity_metres"].default
_ANY = "several values, comma-separated or repeated: any of them"

# Standard ORUK 3.0 parameters (openreferraluk.org and uk-profile readings) and legacy v1 `text`.
STANDARD = (
    SEARCH,
    TEXT,
    PAGE,
    PER_PAGE,
    QueryParameter(
        "format",
        "json (default): one page; ndjson: every match, one JSON object a line, unpaginated",
        enum=("json", "ndjson"),
    ),
    QueryParameter(
        "taxonomy_term_id",
        f"Records with this taxonomy term ({_ANY})",
        format="uuid",
        repeatable=True,
    ),
    QueryParameter(
        "taxonomy_id",
        f"Records with any term of this taxonomy ({_ANY})",
        format="uuid",
        repeatable=True,
    ),
    QueryParameter(
        "organization_id",
        f"Services this organisation provides ({_ANY})",
        format="uuid",
        repeatable=True,
    ),
    QueryParameter(
        "modified_after",
        "Records modified on or after this RFC 3339 date-time (a date means its midnight UTC)",
        format="date-time",
        example="2026-11-01T09:00:00Z",
    ),
    FULL,
    QueryParameter(
        "minimum_age",
        "ORUK v1: services whose minimum age is at least this (use age for a person)",
        type="number",
        minimum=0,
        maximum=130,
    ),
    QueryParameter(
        "maximum_age",
        "ORUK v1: services whose maximum age is at most this (use age for a person)",
        type="number",
        minimum=0,
        maximum=130,
    ),
    QueryParameter(
        "day",
        "Open on this day (MO..SU or monday..sunday); several days: open on each",
        enum=(*WEEKDAYS, *DAY_NAMES),
        repeatable=True,
        example="MO",
    ),
    QueryParameter(
        "start_time",
        "With day: open from this time (HH:MM); one, or one for each day",
        repeatable=True,
        example="09:00",
    ),
    QueryParameter(
        "end_time",
        "With day: open until this time (HH:MM); one, or one for each day",
        repeatable=True,
        example="17:00",
    ),
    QueryParameter(
        "postcode",
        "A full UK postcode, or a postcode district alone (E15). Alone: services whose service "
        "area contains it; with proximity: services within proximity metres of its centroid. A "
        "district, or a postcode missing from the lookup, is placed at the centroid of the "
        "district's known postcodes (outward code), and the response says so in notes",
        example="E15 1DA",
    ),
    QueryParameter(
        "proximity",
        f"Metres from the postcode centroid (or lat and lon), at most {_MAX_PROXIMITY} unless "
        "the service is configured otherwise",
        type="number",
        exclusive_minimum=0,
        example=3000,
    ),
)
# Signpost extensions, documented in docs/directory.md and the OpenAPI description.
EXTENSIONS = (
    QueryParameter(
        "lat",
        "Latitude of a point to search from (with lon)",
        type="number",
        minimum=-90,
        maximum=90,
        example=51.5416,
    ),
    QueryParameter(
        "lon",
        "Longitude of a point to search from (with lat)",
        type="number",
        minimum=-180,
        maximum=180,
        example=0.0036,
    ),
    QueryParameter(
        "coverage",
        "A full UK postcode (or a postcode district alone) the service area must contain",
        example="E15 1DA",
    ),
    QueryParameter(
        "age",
        "A person's age: services whose minimum and maximum age admit it",
        type="number",
        minimum=0,
        maximum=130,
    ),
    QueryParameter(
        "need",
        f"A need term (id or code, e.g. SNOMED 422650009), expanded through the needs to "
        f"service types map, child terms included ({_ANY})",
        repeatable=True,
        example="422650009",
    ),
    QueryParameter(
        "service_type",
        f"A service-type term (id or code), child terms included ({_ANY})",
        repeatable=True,
        example="debt-advice",
    ),
    QueryParameter("accepts_self_referral", "Whether people can refer themselves", type="boolean"),
    QueryParameter("free", "true: no cost option with an amount above zero", type="boolean"),
    QueryParameter(
        "delivery_mode",
        f"How the service is delivered ({_ANY})",
        enum=DELIVERY_MODES,
        repeatable=True,
    ),
    QueryParameter(
        "language",
        f"ISO 639 code of a language the service offers ({_ANY})",
        pattern="^[A-Za-z]{2,3}$",
        repeatable=True,
        example="en",
    ),
    QueryParameter(
        "assured_within_months",
        "Assured on or after the same day this many months ago",
        type="integer",
        minimum=1,
        maximum=120,
    ),
    QueryParameter(
        "exclude_temporarily_closed", "true: hide temporarily closed services", type="boolean"
    ),
)
SERVICE_AT_LOCATION_PARAMETERS = (*STANDARD, *EXTENSIONS)
SERVICE_PARAMETERS = (
    *SERVICE_AT_LOCATION_PARAMETERS,
    QueryParameter(
        "minimal",
        "true: every matching id with last_modified, in one response",
        type="boolean",
    ),
)


@dataclass(frozen=True, slots=True)
class Point:
    latitude: float
    longitude: float

    def metres_to(self, latitude: float, longitude: float) -> float:
        """Great-circle distance (haversine) in metres."""
        radius = 6_371_008.8
        phi1, phi2 = math.radians(self.latitude), math.radians(latitude)
        d_phi = phi2 - phi1
        d_lambda = math.radians(longitude - self.longitude)
        a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
        return 2 * radius * math.asin(math.sqrt(a))


@dataclass(frozen=True, slots=True)
class OpeningWanted:
    """Open on `weekday` (0 = Monday), for the whole of [start, end) when given (minutes)."""

    weekday: int
    start_minute: int | None = None
    end_minute: int | None = None


@dataclass(frozen=True, slots=True)
class SearchNote:
    """How a parameter was read when it could not be read exactly (an approximation), for the
    response to say (ORUK `notes`, a `Warning` header)."""

    parameter: str
    code: str
    detail: str

    def as_json(self) -> dict[str, str]:
        return {"parameter": self.parameter, "code": self.code, "detail": self.detail}


@dataclass
class ServiceFilter:
    text_words: list[str] = field(default_factory=list)
    # Each set is one condition (any of its terms); the sets AND together.
    term_sets: list[set[str]] = field(default_factory=list)
    taxonomy_ids: list[str] = field(default_factory=list)
    organization_ids: list[str] = field(default_factory=list)
    modified_after: datetime | None = None
    age: float | None = None
    minimum_age: float | None = None
    maximum_age: float | None = None
    openings: list[OpeningWanted] = field(default_factory=list)
    point: Point | None = None
    radius_metres: float | None = None
    coverage_area_codes: list[str] | None = None
    accepts_self_referral: bool | None = None
    free_of_charge: bool | None = None
    delivery_modes: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    assured_since: date | None = None
    exclude_temporarily_closed: bool = False
    # FHIR view: name starts with (or contains) this, case-insensitive; _lastUpdated bounds.
    name_starts: str | None = None
    name_contains: str | None = None
    modified_bounds: list[tuple[str, datetime]] = field(default_factory=list)
    # FHIR _id: each set is one condition (any of its ids); the sets AND together.
    id_sets: list[set[str]] = field(default_factory=list)
    # Only services whose status counts as FHIR active (or not).
    fhir_active: bool | None = None
    # Matches nothing (e.g. a need with no mapped service types): skip the query.
    impossible: bool = False
    # Approximations made while reading the parameters (a postcode placed by its district).
    notes: list[SearchNote] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Page:
    """1-based page; `size` None means every match (ndjson export, minimal)."""

    number: int = 1
    size: int | None = 50

    @property
    def offset(self) -> int:
        return 0 if self.size is None else (self.number - 1) * self.size


@dataclass(frozen=True, slots=True)
class Hit:
    """One search result: its id, stored JSON and distance in metres (when a point was given)."""

    id: str
    body: str
    last_modified_at: datetime
    distance_metres: float | None = None
