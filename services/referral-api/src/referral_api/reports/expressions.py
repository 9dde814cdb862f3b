"""SQL expressions the report statements share, written once for both databases: a 0/1 flag
reports can SUM, and the UTC date, month number and whole days between two moments; and the
month numbers in Python."""

from datetime import date
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


def month_of_day(day: date) -> int:
    """Months since January 2000 of a date, as `day_month_number` computes them in SQL."""
    return (day.year - 2000) * 12 + day.month - 1


def first_day_of_month(number: int) -> date:
    """The first day of a month given as months since January 2000."""
    return date(2000 + number // 12, number % 12 + 1, 1)


def month_label(number: int) -> str:
    """A month number as YYYY-MM."""
    return f"{2000 + number // 12:04d}-{number % 12 + 1:02d}"


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
