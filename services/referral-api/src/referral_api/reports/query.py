"""Parsing a report request: period, filters, group-by, output format and disclosure.

Every query parameter is checked: an unknown name, a value outside its code list, an
impossible date or range, or too many group-bys is a 400 whose problem body names the
parameter. Filters select referrals (a reason filter keeps referrals with any of those
reasons); group-bys classify them.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from referral_api.reports.dimensions import Dimension, catalogue
from signpost_platform.errors import BadRequest, Forbidden
from signpost_schemas.disclosure import UNSUPPRESSED_SCOPE

Format = Literal["json", "csv", "svg"]
FORMATS: dict[str, Format] = {"json": "json", "csv": "csv", "svg": "svg"}
MEDIA_TYPES: dict[Format, str] = {
    "json": "application/json",
    "csv": "text/csv",
    "svg": "image/svg+xml",
}
MAX_GROUP_BY = 2
COMMON_PARAMETERS = ("from", "to", "group_by", "format", "disclosure")


@dataclass(frozen=True, slots=True)
class Option:
    """A report-specific parameter: its allowed values (None: a whole number in a range)."""

    name: str
    description: str
    default: str
    values: tuple[str, ...] | None = None
    minimum: int = 1
    maximum: int = 100


@dataclass(frozen=True, slots=True)
class ReportQuery:
    """A validated report request."""

    first_day: date | None = None
    last_day: date | None = None
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)
    group_by: tuple[str, ...] = ()
    options: dict[str, str] = field(default_factory=dict)
    output: Format = "json"
    controlled: bool = True

    @property
    def start(self) -> datetime | None:
        """The first instant included (midnight UTC of `from`)."""
        if self.first_day is None:
            return None
        return datetime(self.first_day.year, self.first_day.month, self.first_day.day, tzinfo=UTC)

    @property
    def end(self) -> datetime | None:
        """The first instant excluded (midnight UTC after `to`)."""
        if self.last_day is None:
            return None
        day = self.last_day + timedelta(days=1)
        return datetime(day.year, day.month, day.day, tzinfo=UTC)

    @property
    def whole_months(self) -> bool:
        """Whether the period starts on a month's first day and ends on a month's last (either
        end may be open): what counts kept per month can answer."""
        first, last = self.first_day, self.last_day
        return (first is None or first.day == 1) and (
            last is None or (last + timedelta(days=1)).day == 1
        )

    def option(self, name: str) -> str:
        return self.options[name]

    def describe(self) -> dict[str, object]:
        """The parameters as applied, echoed in every report."""
        return {
            "from": self.first_day.isoformat() if self.first_day else None,
            "to": self.last_day.isoformat() if self.last_day else None,
            "filters": {name: list(values) for name, values in self.filters.items()},
            "group_by": list(self.group_by),
            **self.options,
        }


def parse_query(
    items: Sequence[tuple[str, str]],
    *,
    accept: str | None,
    may_unsuppress: bool,
    options: Sequence[Option] = (),
    reserved: Iterable[str] = (),
    default_group_by: tuple[str, ...] = (),
    dimensions: Mapping[str, Dimension] | None = None,
    max_group_by: int = MAX_GROUP_BY,
) -> ReportQuery:
    """Validate the query string of a report.

    `reserved` names dimensions the report itself breaks down by (they may be filtered, not
    grouped by); `default_group_by` applies when no group_by is given. `dimensions` are those
    the report filters and groups by (default: the report facts' `catalogue()`).
    """
    dimensions = catalogue() if dimensions is None else dimensions
    allowed_options = {option.name: option for option in options}
    values: dict[str, list[str]] = {}
    for name, value in items:
        if (
            name not in COMMON_PARAMETERS
            and name not in dimensions
            and (name not in allowed_options)
        ):
            raise BadRequest(
                f"unknown parameter {name!r}: use from, to, group_by, format, disclosure, "
                f"{', '.join(allowed_options) + ', ' if allowed_options else ''}"
                "or a filter ("
                + ", ".join(d.name for d in dimensions.values() if d.filterable)
                + ")",
                expression=name,
            )
        values.setdefault(name, []).extend(_split(value))

    first_day = _day(values, "from")
    last_day = _day(values, "to")
    if first_day and last_day and last_day < first_day:
        raise BadRequest(
            f"to ({last_day.isoformat()}) is before from ({first_day.isoformat()})",
            expression="to",
        )
    filters = {
        name: _filter_values(dimensions[name], raw)
        for name, raw in values.items()
        if name in dimensions
    }
    group_by = (
        _group_by(values.get("group_by"), tuple(reserved), dimensions, max_group_by)
        or default_group_by
    )
    chosen = {option.name: _option(option, values.get(option.name)) for option in options}
    return ReportQuery(
        first_day=first_day,
        last_day=last_day,
        filters=filters,
        group_by=group_by,
        options=chosen,
        output=_format(values.get("format"), accept),
        controlled=_controlled(values.get("disclosure"), may_unsuppress),
    )


def _split(value: str) -> list[str]:
    """`a,b` and repeated parameters both give several values."""
    return [part.strip() for part in value.split(",") if part.strip()] or [""]


def _single(values: dict[str, list[str]], name: str) -> str | None:
    given = values.get(name)
    if not given:
        return None
    if len(given) > 1:
        raise BadRequest(f"{name} takes one value", expression=name)
    return given[0]


def _day(values: dict[str, list[str]], name: str) -> date | None:
    text = _single(values, name)
    if text is None:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise BadRequest(
            f"{name} must be a calendar date YYYY-MM-DD (got {text!r})", expression=name
        ) from None
    if len(text) != 10 or not (2000 <= day.year <= 2100):
        raise BadRequest(f"{name} must be a date YYYY-MM-DD between 2000 and 2100", expression=name)
    return day


def _filter_values(dimension: Dimension, raw: list[str]) -> tuple[str, ...]:
    if not dimension.filterable:
        raise BadRequest(
            f"{dimension.name} cannot be filtered on; use from and to for dates",
            expression=dimension.name,
        )
    chosen: list[str] = []
    for value in raw:
        normalised = dimension.normalise(value)
        if not dimension.accepts(normalised):
            allowed = (
                ", ".join(dimension.values) if dimension.values is not None else dimension.expects
            )
            raise BadRequest(
                f"{dimension.name}: {value!r} is not in its code list ({allowed})",
                expression=dimension.name,
            )
        if normalised not in chosen:
            chosen.append(normalised)
    return tuple(chosen)


def _group_by(
    raw: list[str] | None,
    reserved: tuple[str, ...],
    dimensions: Mapping[str, Dimension],
    max_group_by: int,
) -> tuple[str, ...]:
    if not raw:
        return ()
    chosen: list[str] = []
    for name in raw:
        if name not in dimensions:
            raise BadRequest(
                f"group_by: unknown dimension {name!r} (up to {max_group_by} of "
                + ", ".join(dimensions)
                + ")",
                expression="group_by",
            )
        if name in reserved:
            raise BadRequest(
                f"group_by: this report is already broken down by {name}",
                expression="group_by",
            )
        if name in chosen:
            raise BadRequest(f"group_by: {name} is named twice", expression="group_by")
        chosen.append(name)
    if len(chosen) > max_group_by:
        raise BadRequest(f"group_by takes at most {max_group_by} dimensions", expression="group_by")
    return tuple(chosen)


def _option(option: Option, raw: list[str] | None) -> str:
    if not raw:
        return option.default
    if len(raw) > 1:
        raise BadRequest(f"{option.name} takes one value", expression=option.name)
    value = raw[0]
    if option.values is not None:
        if value not in option.values:
            raise BadRequest(
                f"{option.name} is one of {', '.join(option.values)}", expression=option.name
            )
        return value
    if not value.isdigit() or not option.minimum <= int(value) <= option.maximum:
        raise BadRequest(
            f"{option.name} is a whole number from {option.minimum} to {option.maximum}",
            expression=option.name,
        )
    return str(int(value))


def _format(raw: list[str] | None, accept: str | None) -> Format:
    if raw:
        if len(raw) > 1 or raw[0] not in FORMATS:
            raise BadRequest("format is json, csv or svg", expression="format")
        return FORMATS[raw[0]]
    accepted = (accept or "").lower()
    if "text/csv" in accepted:
        return "csv"
    if "image/svg+xml" in accepted:
        return "svg"
    return "json"


def _controlled(raw: list[str] | None, may_unsuppress: bool) -> bool:
    """Disclosure control is on unless the caller holds reports:unsuppressed; such a caller
    may still ask for the controlled (publishable) form with disclosure=controlled."""
    if not raw:
        return not may_unsuppress
    if len(raw) > 1 or raw[0] not in ("controlled", "none"):
        raise BadRequest("disclosure is controlled or none", expression="disclosure")
    if raw[0] == "none" and not may_unsuppress:
        raise Forbidden(
            f"disclosure=none needs the scope {UNSUPPRESSED_SCOPE}", expression="disclosure"
        )
    return raw[0] == "controlled"
