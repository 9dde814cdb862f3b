"""Strict reading of ORUK query parameters: every problem names the parameter (400).

Unknown parameters are refused rather than ignored, so a client never mistakes an unfiltered
list for a filtered one.
"""

import uuid
from collections.abc import Collection, Sequence
from datetime import UTC, datetime

from signpost_platform.errors import BadRequest

_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}


class QueryReader:
    """The query string of one request, read parameter by parameter."""

    def __init__(self, items: Sequence[tuple[str, str]], allowed: Collection[str]) -> None:
        self.values: dict[str, list[str]] = {}
        for name, value in items:
            if name not in allowed:
                raise BadRequest(
                    f"unknown query parameter {name!r}; supported: {', '.join(sorted(allowed))}",
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

    def items(self, name: str) -> list[str]:
        """Comma-separated (or repeated) values of one parameter."""
        result = []
        for value in self.values.get(name, []):
            parts = [part.strip() for part in value.split(",")]
            if any(not part for part in parts):
                raise BadRequest(f"{name} has an empty value", expression=name)
            result += parts
        return result

    def integer(self, name: str, low: int, high: int, default: int) -> int:
        value = self.text(name)
        if value is None:
            return default
        if not value.lstrip("-").isdigit() or not low <= int(value) <= high:
            raise BadRequest(f"{name} must be a whole number from {low} to {high}", expression=name)
        return int(value)

    def number(self, name: str, low: float, high: float) -> float | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            number = float(value)
        except ValueError:
            raise BadRequest(f"{name} must be a number", expression=name) from None
        if not low <= number <= high:
            raise BadRequest(f"{name} must be from {low:g} to {high:g}", expression=name)
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

    def uuids(self, name: str) -> list[str]:
        return [as_uuid(name, value) for value in self.items(name)]

    def moment(self, name: str) -> datetime | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "+"))
        except ValueError:
            raise BadRequest(
                f"{name} must be an RFC 3339 date-time (2026-11-01T09:00:00Z) or a date",
                expression=name,
            ) from None
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def as_uuid(name: str, value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise BadRequest(f"{name}: {value!r} is not a UUID", expression=name) from None
