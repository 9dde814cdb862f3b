"""Calendar and clock arithmetic the schemas and services share."""

import calendar
from datetime import UTC, date, datetime


def as_utc(moment: datetime) -> datetime:
    """`moment` in UTC; a naive one is taken to be in UTC already (as SQLite stores them)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def months_after(day: date, months: int) -> date:
    """The same day `months` calendar months later (earlier when negative), or the last day of
    that month when it has no such day (31 January + 1 month is 28 or 29 February)."""
    year, month_index = divmod(day.year * 12 + day.month - 1 + months, 12)
    month = month_index + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
