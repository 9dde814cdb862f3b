"""From ORUK query parameters (declared in `search.py`) to a `ServiceFilter`: values checked,
references looked up."""

from datetime import UTC, date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from directory_api.config import DirectorySettings
from directory_api.geography.service import (
    LOAD_LOOKUP_REMEDY,
    PostcodePlace,
    locate,
    locate_district,
)
from directory_api.oruk.params import QueryReader
from directory_api.services.schemas import WEEKDAYS, clock_minutes
from directory_api.services.search import (
    DAY_NAMES,
    DELIVERY_MODES,
    OpeningWanted,
    Point,
    SearchNote,
    ServiceFilter,
)
from directory_api.taxonomy.repository import TaxonomyRepository
from signpost_platform.errors import BadRequest
from signpost_schemas.geography import InvalidPostcode, is_postcode_district, normalise_postcode

_DAY_NAMES = {name: index for index, name in enumerate(DAY_NAMES)}


async def service_filter(
    session: AsyncSession, query: QueryReader, settings: DirectorySettings
) -> ServiceFilter:
    """Validate every filter parameter; raises BadRequest naming the first bad one."""
    taxonomy = TaxonomyRepository(session)
    search = ServiceFilter()
    text = query.search_text()
    search.text_words = [word for word in (text or "").lower().split() if word]

    if term_ids := query.uuids("taxonomy_term_id"):
        known = await taxonomy.terms(term_ids)
        if missing := [t for t in term_ids if t not in known or known[t].retired_at]:
            raise BadRequest(
                f"unknown taxonomy_term_id {missing[0]}", expression="taxonomy_term_id"
            )
        search.term_sets.append(set(term_ids))
    if taxonomy_ids := query.uuids("taxonomy_id"):
        known_taxonomies = await taxonomy.taxonomies(taxonomy_ids)
        if missing := [t for t in taxonomy_ids if t not in known_taxonomies]:
            raise BadRequest(f"unknown taxonomy_id {missing[0]}", expression="taxonomy_id")
        search.taxonomy_ids = taxonomy_ids
    if references := query.items("service_type"):
        terms = await _resolve_terms(taxonomy, "service_type", references)
        search.term_sets.append(await taxonomy.with_descendants(terms))
    if references := query.items("need"):
        needs = await _resolve_terms(taxonomy, "need", references)
        service_types = await taxonomy.service_types_for_needs(needs)
        expanded = await taxonomy.with_descendants(list(service_types))
        if not expanded:
            search.impossible = True
        search.term_sets.append(expanded)

    search.organization_ids = query.uuids("organization_id")
    search.modified_after = query.moment("modified_after")
    search.age = query.number("age")
    search.minimum_age = query.number("minimum_age")
    search.maximum_age = query.number("maximum_age")
    search.openings = _openings(query)
    await _place(session, query, settings, search)
    search.accepts_self_referral = query.boolean("accepts_self_referral")
    search.free_of_charge = query.boolean("free")
    modes = query.items("delivery_mode")
    if bad := [m for m in modes if m not in DELIVERY_MODES]:
        raise BadRequest(
            f"delivery_mode {bad[0]!r}: use {', '.join(DELIVERY_MODES)}", expression="delivery_mode"
        )
    search.delivery_modes = modes
    languages = [code.lower() for code in query.items("language")]
    if bad := [c for c in languages if not (c.isalpha() and 2 <= len(c) <= 3)]:
        raise BadRequest(f"language {bad[0]!r} is not an ISO 639 code", expression="language")
    search.languages = languages
    months = (
        query.integer("assured_within_months", 0) if query.has("assured_within_months") else None
    )
    if months:
        search.assured_since = months_before(datetime.now(UTC).date(), months)
    search.exclude_temporarily_closed = bool(query.boolean("exclude_temporarily_closed"))
    return search


async def _resolve_terms(
    taxonomy: TaxonomyRepository, name: str, references: list[str]
) -> list[str]:
    found: list[str] = []
    for reference in references:
        ids = await taxonomy.find_terms(reference)
        if not ids:
            raise BadRequest(
                f"{name}: no taxonomy term has id or code {reference!r}", expression=name
            )
        found += ids
    return found


def _openings(query: QueryReader) -> list[OpeningWanted]:
    days = []
    for value in query.items("day"):
        token = value.strip().lower()
        if token.upper() in WEEKDAYS:
            days.append(WEEKDAYS.index(token.upper()))
        elif token in _DAY_NAMES:
            days.append(_DAY_NAMES[token])
        else:
            raise BadRequest(f"day {value!r}: use MO..SU or monday..sunday", expression="day")
    starts = [_minutes("start_time", v) for v in query.items("start_time")]
    ends = [_minutes("end_time", v) for v in query.items("end_time")]
    if (starts or ends) and not days:
        raise BadRequest("start_time and end_time need day", expression="day")
    for name, values in (("start_time", starts), ("end_time", ends)):
        if values and len(values) not in (1, len(days)):
            raise BadRequest(f"give one {name}, or one for each day", expression=name)
    openings = []
    for index, weekday in enumerate(days):
        start = starts[index if len(starts) > 1 else 0] if starts else None
        end = ends[index if len(ends) > 1 else 0] if ends else None
        if start is not None and end is not None and start >= end:
            raise BadRequest("start_time must be before end_time", expression="start_time")
        openings.append(OpeningWanted(weekday, start, end))
    return openings


def _minutes(name: str, value: str) -> int:
    try:
        return clock_minutes(value)
    except ValueError:
        raise BadRequest(f"{name} {value!r} is not a time HH:MM", expression=name) from None


async def _place(
    session: AsyncSession, query: QueryReader, settings: DirectorySettings, search: ServiceFilter
) -> None:
    """postcode / lat+lon (a point), proximity (a radius) and coverage (areas a postcode is in)."""
    postcode = query.text("postcode")
    latitude, longitude = query.number("lat"), query.number("lon")
    if (latitude is None) != (longitude is None):
        raise BadRequest("lat and lon must be given together", expression="lat")
    if postcode and latitude is not None:
        raise BadRequest("give postcode or lat and lon, not both", expression="postcode")
    proximity = query.number("proximity")
    if proximity is not None and not 0 < proximity <= settings.max_proximity_metres:
        raise BadRequest(
            f"proximity is a distance in metres from 1 to {settings.max_proximity_metres}",
            expression="proximity",
        )
    if postcode:
        place = await _known_postcode(session, "postcode", postcode)
        if proximity is None:
            # ORUK: postcode alone means "services whose service area contains the postcode".
            search.coverage_area_codes = place.area_codes
        else:
            search.point = Point(place.latitude, place.longitude)
        _note_approximation(search, "postcode", place, as_point=proximity is not None)
    elif latitude is not None and longitude is not None:
        search.point = Point(latitude, longitude)
    if proximity is not None:
        if search.point is None:
            raise BadRequest("proximity needs postcode, or lat and lon", expression="proximity")
        search.radius_metres = proximity
    if coverage := query.text("coverage"):
        place = await _known_postcode(session, "coverage", coverage)
        search.coverage_area_codes = place.area_codes
        _note_approximation(search, "coverage", place, as_point=False)


async def _known_postcode(session: AsyncSession, name: str, value: str) -> PostcodePlace:
    """The place of a full postcode, or of a postcode district given alone (`E15`, as a
    resident or a leaflet may know it)."""
    if is_postcode_district(value):
        district = value.strip().upper()
        place = await locate_district(session, district)
        if place is None:
            raise BadRequest(
                f"{name}: {district} is not a postcode district the postcode lookup knows; if "
                f"it is one, to search by it, {LOAD_LOOKUP_REMEDY}",
                expression=name,
            )
        return place
    try:
        normalised = normalise_postcode(value)
    except InvalidPostcode:
        raise BadRequest(
            f"{name}: {value!r} is neither a full UK postcode nor a postcode district",
            expression=name,
        ) from None
    place = await locate(session, normalised)
    if place is None:
        district = normalised.split(" ")[0]
        raise BadRequest(
            f"{name}: neither {normalised} nor its postcode district {district} is in the "
            f"postcode lookup; to search by it, {LOAD_LOOKUP_REMEDY}",
            expression=name,
        )
    return place


def _note_approximation(
    search: ServiceFilter, name: str, place: PostcodePlace, *, as_point: bool
) -> None:
    if not place.approximate:
        return
    known = (
        f"{place.district_postcodes} known postcode{'s' if place.district_postcodes > 1 else ''}"
    )
    areas = ", ".join(place.area_codes) or "none known"
    if place.district_given:
        given = f"{place.postcode} is a postcode district, not a full postcode"
        centroid, authorities = f"its {known}", f"its {known} lie in"
    else:
        given = f"{place.postcode} is not in the postcode lookup"
        centroid = f"its district {place.district} ({known})"
        authorities = f"of its district {place.district}"
    if as_point:
        reading = f"distances are measured from the centroid of {centroid}"
    else:
        reading = f"services covering any local authority {authorities} ({areas}) are included"
    search.notes.append(SearchNote(name, "postcode-district", f"{given}: {reading}"))


def months_before(today: date, months: int) -> date:
    """The same day `months` calendar months earlier (the 28th at most, for short months)."""
    year, month = divmod(today.year * 12 + today.month - 1 - months, 12)
    return date(year, month + 1, min(today.day, 28))
