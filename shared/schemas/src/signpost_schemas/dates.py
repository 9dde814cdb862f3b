"""Calendar arithmetic the schemas share."""

import calendar
from datetime import date


def months_after(day: date, months: int) -> date:
    """The same day `months` calendar months later (earlier when negative), or the last day of
    that month when it has no such day (31 January + 1 month is 28 or 29 February)."""
    year, month_index = divmod(day.year * 12 + day.month - 1 + months, 12)
    month = month_index + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
