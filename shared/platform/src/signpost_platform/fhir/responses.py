"""FHIR responses: JSON bodies, versions as weak ETags, preconditions."""

import re
from datetime import datetime
from email.utils import format_datetime
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
    return {"ETag": etag(version), "Last-Modified": format_datetime(last_updated, usegmt=True)}


def parse_if_match(value: str) -> int:
    """The version number in an `If-Match` header (`W/"3"` or `"3"`)."""
    match = _WEAK_ETAG.match(value.strip())
    if not match:
        raise BadRequest('If-Match must be a version ETag such as W/"1"', expression="If-Match")
    return int(match.group(1))


def instant(moment: datetime) -> str:
    """A FHIR instant in UTC with millisecond precision: 2026-11-22T14:03:11.123Z."""
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
