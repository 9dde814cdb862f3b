"""SQL expressions the report statements share, written once for both databases: a 0/1 flag
reports can SUM, and the UTC date, month number and whole days between two moments."""

from typing import Any

from sqlalchemy import Date, Integer, case, cast, func
from sqlalchemy.sql.elements import ColumnElement


def flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """1 when `condition` holds, else 0."""
    return case((condition, 1), else_=0)


def utc_date(dialect: str, moment: ColumnElement[Any]) -> ColumnElement[Any]:
    """The calendar date (UTC) of a moment."""
    if dialect == "postgresql":
        return cast(func.timezone("UTC", moment), Date)
    return func.date(moment)


def month_number(dialect: str, moment: ColumnElement[Any]) -> ColumnElement[int]:
    """Months since January 2000 of a UTC moment (2026-01 is 312)."""
    return _months(dialect, func.timezone("UTC", moment) if dialect == "postgresql" else moment)


def day_month_number(dialect: str, day: ColumnElement[Any]) -> ColumnElement[int]:
    """Months since January 2000 of a calendar date (read as it is: no time zone applies)."""
    return _months(dialect, day)


def _months(dialect: str, value: ColumnElement[Any]) -> ColumnElement[int]:
    year: ColumnElement[int]
    month: ColumnElement[int]
    if dialect == "postgresql":
        year, month = func.extract("year", value), func.extract("month", value)
    else:
        year = cast(func.strftime("%Y", value), Integer)
        month = cast(func.strftime("%m", value), Integer)
    return cast((year - 2000) * 12 + month - 1, Integer)


def days_between(
    dialect: str, earlier: ColumnElement[Any], later: ColumnElement[Any]
) -> ColumnElement[Any]:
    """Whole calendar days (UTC) from `earlier` to `later`."""
    if dialect == "postgresql":
        return utc_date(dialect, later) - utc_date(dialect, earlier)
    return cast(func.julianday(func.date(later)) - func.julianday(func.date(earlier)), Integer)
