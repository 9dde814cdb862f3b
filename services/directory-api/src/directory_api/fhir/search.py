"""The search parameters of the FHIR view (one definition serves the parser, the OpenAPI
document and the CapabilityStatement), and the reading of `location.near`."""

import math

from directory_api.services.search import Point
from signpost_platform.errors import BadRequest
from signpost_platform.fhir.search import ID, LAST_UPDATED, SearchParameter

HS = "http://hl7.org/fhir/SearchParameter/HealthcareService"

HEALTHCARE_SERVICE_PARAMETERS = [
    ID,
    SearchParameter(
        "service-type",
        "token",
        "A service type: system|code (system = the taxonomy uri) or a code; child "
        "terms included; comma-separated values OR",
        f"{HS}-service-type",
        example="debt-advice",
    ),
    SearchParameter(
        "name",
        "string",
        "The name starts with this (name:contains for anywhere)",
        f"{HS}-name",
        repeatable=False,
        example="Social prescribing",
    ),
    SearchParameter(
        "name:contains",
        "string",
        "The name contains this",
        repeatable=False,
        example="link worker",
    ),
    SearchParameter(
        "location.near",
        "token",
        "latitude|longitude|distance|units (units km or m, default km): services "
        "with a location within the distance, nearest first",
        repeatable=False,
        example="51.5416|0.0036|3|km",
    ),
    SearchParameter(
        "active",
        "token",
        "true: active or temporarily closed; false: inactive",
        f"{HS}-active",
        repeatable=False,
        example="true",
    ),
    SearchParameter(
        "_lastUpdated",
        "date",
        "When the service (or anything in it) last changed; eq, ge, gt, le or lt",
        example="ge2026-01-01",
    ),
]
NAME_PARAMETERS = [
    ID,
    LAST_UPDATED,
    SearchParameter("name", "string", "The name contains this", repeatable=False),
]


def parse_near(value: str) -> tuple[Point, float]:
    """`location.near`: latitude|longitude|distance|units (km, the default, or m) → a point and
    a radius in metres (5 km when no distance is given)."""
    parts = value.split("|")
    try:
        latitude, longitude = float(parts[0]), float(parts[1])
        distance = float(parts[2]) if len(parts) > 2 and parts[2] else 5.0
    except (ValueError, IndexError):
        raise BadRequest(
            "location.near is latitude|longitude|distance|units, e.g. 51.54|0.01|5|km",
            expression="location.near",
        ) from None
    units = parts[3] if len(parts) > 3 and parts[3] else "km"
    if units not in ("km", "m"):
        raise BadRequest("location.near units must be km or m", expression="location.near")
    metres = distance * (1000 if units == "km" else 1)
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180) or not 0 < metres <= 100_000:
        raise BadRequest(
            "location.near: coordinates out of range or distance not in (0, 100 km]",
            expression="location.near",
        )
    if math.isnan(metres):
        raise BadRequest("location.near: distance is not a number", expression="location.near")
    return Point(latitude, longitude), metres
