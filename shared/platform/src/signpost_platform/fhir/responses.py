"""FHIR responses: JSON bodies, versions as weak ETags, preconditions."""

import re
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.responses import Response

from signpost_platform.errors import BadRequest

FHIR_JSON = "application/fhir+json"
_WEAK_ETAG = re.compile(r'^(?:W/)?"(\d+)"$')


class FhirResponse(Response):
    """A FHIR JSON response; accepts a dict or already-serialised JSON bytes."""

    media_type = FHIR_JSON

    def render(self, content: Any) -> bytes:
        if isinstance(content, bytes):
            return content
        return orjson.dumps(content)


def etag(version: int) -> str:
    return f'W/"{version}"'


def version_headers(version: int, last_updated: datetime) -> dict[str, str]:
    return {"ETag": etag(version), "Last-Modified": http_date(last_updated)}


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def http_date(moment: datetime) -> str:
    """`moment`, a UTC datetime, as an HTTP date (RFC 9110 5.6.7), as
    `email.utils.format_datetime(moment, usegmt=True)` writes it, in under half the time (it
    was 4% of a read's CPU)."""
    if moment.tzinfo != UTC:
        raise ValueError("an HTTP date is of a UTC datetime")
    return "%s, %02d %s %04d %02d:%02d:%02d GMT" % (  # noqa: UP031 (twice as fast as an f-string)
        _DAYS[moment.weekday()],
        moment.day,
        _MONTHS[moment.month - 1],
        moment.year,
        moment.hour,
        moment.minute,
        moment.second,
    )


def served_json(
    resource_type: str,
    resource_id: str,
    version: int,
    at: datetime,
    profile: str,
    content: dict[str, Any],
) -> str:
    """A resource as served: our id and meta (version, last updated, the profile it is served
    under) first, then its content, whose own resourceType, id and meta give way to ours."""
    document: dict[str, Any] = {
        "resourceType": resource_type,
        "id": resource_id,
        "meta": {"versionId": str(version), "lastUpdated": instant(at), "profile": [profile]},
    }
    document.update((key, value) for key, value in content.items() if key not in document)
    return orjson.dumps(document).decode()


def parse_if_match(value: str) -> int:
    """The version number in an `If-Match` header (`W/"3"` or `"3"`)."""
    match = _WEAK_ETAG.match(value.strip())
    if not match:
        raise BadRequest('If-Match must be a version ETag such as W/"1"', expression="If-Match")
    return int(match.group(1))


def instant(moment: datetime) -> str:
    """A FHIR instant in UTC with millisecond precision: 2026-11-22T14:03:11.123Z."""
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


# What `Prefer: return=...` asks a create or update to answer with (FHIR RESTful API).
RETURN_REPRESENTATION = "representation"
RETURN_MINIMAL = "minimal"
RETURN_OPERATION_OUTCOME = "OperationOutcome"
_PREFER_RETURN = re.compile(r"(?:^|[;,])\s*return\s*=\s*\"?([A-Za-z]+)\"?", re.IGNORECASE)


def preferred_return(prefer: str | None) -> str:
    """The `return` preference of a `Prefer` header: representation (the default), minimal or
    OperationOutcome. An unknown value is ignored, as RFC 7240 asks of preferences."""
    match = _PREFER_RETURN.search(prefer or "")
    if match is None:
        return RETURN_REPRESENTATION
    for known in (RETURN_REPRESENTATION, RETURN_MINIMAL, RETURN_OPERATION_OUTCOME):
        if match.group(1).lower() == known.lower():
            return known
    return RETURN_REPRESENTATION


def written(
    resource: bytes,
    status_code: int,
    headers: dict[str, str],
    *,
    prefer: str | None,
    outcome: dict[str, Any],
) -> Response:
    """The answer to a create or update, as `Prefer: return=` asks: the resource, nothing, or
    `outcome` (an OperationOutcome). The status and headers are the same whichever is sent."""
    wanted = preferred_return(prefer)
    headers = {**headers, "Preference-Applied": f"return={wanted}"} if prefer else headers
    if wanted == RETURN_MINIMAL:
        return Response(b"", status_code, headers)
    if wanted == RETURN_OPERATION_OUTCOME:
        return FhirResponse(outcome, status_code, headers)
    return FhirResponse(resource, status_code, headers)
