"""Strict reading of ORUK query parameters: every problem names the parameter (400).

Each list reads its query string with the `QueryParameter` definitions it accepts; the same
definitions are its parameters in the OpenAPI document (`signpost_platform.parameters.declare`).
Unknown parameters are refused rather than ignored, so a client never mistakes an unfiltered
list for a filtered one.
"""

import math
import re
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime

from directory_api.config import DirectorySettings
from signpost_platform.errors import BadRequest
from signpost_platform.parameters import QueryParameter
from signpost_schemas.dates import as_utc

_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}
_WHOLE_NUMBER = re.compile(r"-?[0-9]+")

_PER_PAGE_DEFAULT = DirectorySettings.model_fields["oruk_default_per_page"].default
_PER_PAGE_MAX = DirectorySettings.model_fields["oruk_max_per_page"].default

# The parameters the ORUK 3.0 lists share (names and meanings from the ORUK 3.0 OpenAPI).
SEARCH = QueryParameter("search", "Full text search (ORUK 3.0)", example="debt")
TEXT = QueryParameter("text", "Full text search: the ORUK v1 name of `search`")
PAGE = QueryParameter(
    "page",
    "Page number of the paginated result, from 1",
    type="integer",
    minimum=1,
    maximum=1_000_000,
    default=1,
)
PER_PAGE = QueryParameter(
    "per_page",
    f"Results in one page (default {_PER_PAGE_DEFAULT}, at most {_PER_PAGE_MAX} unless the "
    "service is configured otherwise; more is refused, not trimmed)",
    type="integer",
    minimum=1,
    example=20,
)
FORMAT_JSON = QueryParameter(
    "format",
    "Only json here (ndjson streams are offered by /services and /service_at_locations)",
    enum=("json",),
)
FULL = QueryParameter(
    "full", "true: fully nested records; false (default): one-to-one fields", type="boolean"
)
FULL_SERVICE = QueryParameter(
    "full_service",
    "true: the organisation's services fully nested; false (default): their ids and names",
    type="boolean",
)
LIST_PARAMETERS = (SEARCH, TEXT, PAGE, PER_PAGE, FORMAT_JSON)


class QueryReader:
    """The query string of one request, read parameter by parameter against its definitions."""

    def __init__(
        self, items: Sequence[tuple[str, str]], parameters: Iterable[QueryParameter]
    ) -> None:
        self.definitions = {parameter.name: parameter for parameter in parameters}
        self.values: dict[str, list[str]] = {}
        for name, value in items:
            if name not in self.definitions:
                raise BadRequest(
                    f"unknown query parameter {name!r}; supported: "
                    f"{', '.join(sorted(self.definitions))}",
                    expression=name,
                    issue_code="not-supported",
                )
            self.values.setdefault(name, []).append(value.strip())

    def has(self, name: str) -> bool:
        return name in self.values

    def text(self, name: str) -> str | None:
        values = self.values.get(name)
        if not values:
            return None
        if len(values) > 1:
            raise BadRequest(f"{name} may be given once", expression=name)
        if values[0] == "":
            raise BadRequest(f"{name} is empty", expression=name)
        return values[0]

    def search_text(self) -> str | None:
        """The full text search: `search`, else its ORUK v1 name `text`."""
        return self.text(SEARCH.name) or self.text(TEXT.name)

    def items(self, name: str) -> list[str]:
        """Comma-separated (or repeated) values of one parameter."""
        result = []
        for value in self.values.get(name, []):
            parts = [part.strip() for part in value.split(",")]
            if any(not part for part in parts):
                raise BadRequest(f"{name} has an empty value", expression=name)
            result += parts
        return result

    def integer(self, name: str, default: int | None = None, *, maximum: int | None = None) -> int:
        """A whole number within the definition's bounds (`maximum` overrides its maximum);
        `default` (or the definition's) when absent."""
        definition = self.definitions[name]
        value = self.text(name)
        if value is None:
            chosen = definition.default if default is None else default
            if not isinstance(chosen, int):
                raise TypeError(f"{name} has no default")
            return chosen
        low = int(definition.minimum) if definition.minimum is not None else -(2**63)
        high = maximum if maximum is not None else definition.maximum
        high = int(high) if high is not None else 2**63 - 1
        if not _WHOLE_NUMBER.fullmatch(value) or not low <= int(value) <= high:
            raise BadRequest(f"{name} must be a whole number from {low} to {high}", expression=name)
        return int(value)

    def number(self, name: str) -> float | None:
        """A finite number within the definition's bounds, or None when absent."""
        definition = self.definitions[name]
        value = self.text(name)
        if value is None:
            return None
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            raise BadRequest(f"{name} must be a number", expression=name)
        low, high = definition.minimum, definition.maximum
        if (low is not None and number < low) or (high is not None and number > high):
            if low is not None and high is not None:
                bounds = f"from {low:g} to {high:g}"
            else:
                bounds = f"at least {low:g}" if low is not None else f"at most {high:g}"
            raise BadRequest(f"{name} must be {bounds}", expression=name)
        return number

    def boolean(self, name: str) -> bool | None:
        value = self.text(name)
        if value is None:
            return None
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
        raise BadRequest(f"{name} must be true or false", expression=name)

    def choice(self, name: str) -> str | None:
        """One of the definition's `enum` values, or None when absent."""
        value = self.text(name)
        allowed = self.definitions[name].enum
        if value is not None and value not in allowed:
            raise BadRequest(f"{name} must be {' or '.join(allowed)}", expression=name)
        return value

    def uuids(self, name: str) -> list[str]:
        return [as_uuid(name, value) for value in self.items(name)]

    def moment(self, name: str) -> datetime | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "+"))
            return as_utc(moment)
        except (ValueError, OverflowError):  # not a date-time, or out of the representable range
            raise BadRequest(
                f"{name} must be an RFC 3339 date-time (2026-11-01T09:00:00Z) or a date",
                expression=name,
            ) from None


def as_uuid(name: str, value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise BadRequest(f"{name}: {value!r} is not a UUID", expression=name) from None
