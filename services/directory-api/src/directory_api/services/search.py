"""The filters of `/services` and `/service_at_locations`, validated, ready for the repository,
and what a search finds (`Hit`).

Standard ORUK 3.0 parameters (both readings of the profile) and Signpost's documented
extensions. Every parameter narrows the result (boolean AND); comma-separated values of one
parameter are alternatives (OR).
"""

import math
from dataclasses import dataclass, field
from datetime import date, datetime


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
