"""FHIR search: parameter parsing (strict), paging and searchset Bundles built from stored JSON.

Unknown parameters are refused with 400 rather than silently ignored, so a client never mistakes
an unfiltered result for a filtered one.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Literal
from urllib.parse import urlencode

import orjson

from signpost_platform.errors import BadRequest

ParamType = Literal["token", "date", "reference", "string", "number", "uri"]
DatePrefix = Literal["eq", "gt", "lt", "ge", "le"]

CONTROL_PARAMETERS = {"_count", "_offset", "_sort", "_total", "_format"}


@dataclass(frozen=True, slots=True)
class SearchParameter:
    """One supported search parameter, as parsed and as advertised in the CapabilityStatement."""

    name: str
    type: ParamType
    documentation: str
    definition: str | None = None


@dataclass(frozen=True, slots=True)
class Token:
    """A token value: `system|code`, `|code` (no system) or `code` (any system)."""

    system: str | None
    code: str


@dataclass(frozen=True, slots=True)
class DateRange:
    """A date parameter as a half-open interval [start, end) and the comparison prefix."""

    prefix: DatePrefix
    start: datetime
    end: datetime


@dataclass
class SearchQuery:
    """A parsed search: each parameter's values (one list per occurrence), paging and sorting."""

    values: dict[str, list[str]] = field(default_factory=dict)
    count: int = 20
    offset: int = 0
    sort: list[tuple[str, bool]] = field(default_factory=list)  # (key, descending)
    total: bool = True

    def occurrences(self, name: str) -> list[list[str]]:
        """Each occurrence of `name` split on commas: occurrences AND together, values OR."""
        return [value.split(",") for value in self.values.get(name, [])]


def parse_search(
    query: Sequence[tuple[str, str]],
    supported: Sequence[SearchParameter],
    sort_keys: Mapping[str, str],
    *,
    default_count: int,
    max_count: int,
    default_sort: list[tuple[str, bool]],
) -> SearchQuery:
    names = {p.name for p in supported}
    result = SearchQuery(count=default_count, sort=list(default_sort))
    for name, value in query:
        if name not in names and name not in CONTROL_PARAMETERS:
            raise BadRequest(
                f"unknown search parameter {name!r}; supported: {', '.join(sorted(names))}",
                expression=name,
                issue_code="not-supported",
            )
        if value == "":
            raise BadRequest(f"the parameter {name} has an empty value", expression=name)
        if name == "_count":
            result.count = _bounded_int(name, value, 1, max_count)
        elif name == "_offset":
            result.offset = _bounded_int(name, value, 0, 10_000_000)
        elif name == "_sort":
            result.sort = _parse_sort(value, sort_keys)
        elif name == "_total":
            if value not in ("none", "accurate", "estimate"):
                raise BadRequest("_total must be none, estimate or accurate", expression=name)
            result.total = value != "none"
        elif name == "_format":
            if value not in ("json", "application/json", "application/fhir+json"):
                raise BadRequest(
                    "only JSON is supported", expression=name, issue_code="not-supported"
                )
        else:
            result.values.setdefault(name, []).append(value)
    return result


def _bounded_int(name: str, value: str, low: int, high: int) -> int:
    if not value.isdigit() or not low <= int(value) <= high:
        raise BadRequest(f"{name} must be a whole number from {low} to {high}", expression=name)
    return int(value)


def _parse_sort(value: str, sort_keys: Mapping[str, str]) -> list[tuple[str, bool]]:
    sort = []
    for part in value.split(","):
        descending = part.startswith("-")
        key = part.removeprefix("-")
        if key not in sort_keys:
            raise BadRequest(
                f"cannot sort by {key!r}; sortable: {', '.join(sorted(sort_keys))}",
                expression="_sort",
            )
        sort.append((sort_keys[key], descending))
    return sort


def parse_token(name: str, value: str) -> Token:
    if "|" in value:
        system, _, code = value.partition("|")
        if not code:
            raise BadRequest(f"{name}: a code is needed after '|'", expression=name)
        return Token(system, code)
    return Token(None, value)


def parse_date(name: str, value: str) -> DateRange:
    """`ge2026-01-01`, `2026-03`, `lt2026-05-01T09:00:00Z`… as a prefix and a half-open range."""
    prefix: DatePrefix = "eq"
    if value[:2] in ("eq", "gt", "lt", "ge", "le"):
        prefix, value = value[:2], value[2:]  # type: ignore[assignment]
    try:
        start, end = _date_range(value)
    except ValueError:
        raise BadRequest(
            f"{name}: {value!r} is not a FHIR date (YYYY, YYYY-MM, YYYY-MM-DD or a dateTime "
            "with a time zone), optionally after eq, gt, ge, lt or le",
            expression=name,
        ) from None
    return DateRange(prefix, start, end)


def _date_range(value: str) -> tuple[datetime, datetime]:
    if len(value) == 4 and value.isdigit():
        year = int(value)
        return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
    if len(value) == 7:
        year, month = int(value[:4]), int(value[5:7])
        start = datetime(year, month, 1, tzinfo=UTC)
        end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
        return start, end
    if len(value) == 10:
        day = date.fromisoformat(value)
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        return start, start + timedelta(days=1)
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("a dateTime needs a time zone")
    moment = moment.astimezone(UTC)
    return moment, moment + timedelta(seconds=1)


def page_links(
    base_url: str,
    query: Sequence[tuple[str, str]],
    search: SearchQuery,
    total: int | None,
    returned: int,
) -> list[dict[str, str]]:
    """self, first, previous and next links for an offset-paged search."""

    def url(offset: int) -> str:
        params = [(k, v) for k, v in query if k not in ("_offset", "_count")]
        params += [("_count", str(search.count)), ("_offset", str(offset))]
        return f"{base_url}?{urlencode(params)}"

    links = [
        {"relation": "self", "url": url(search.offset)},
        {"relation": "first", "url": url(0)},
    ]
    if search.offset > 0:
        links.append({"relation": "previous", "url": url(max(0, search.offset - search.count))})
    has_more = search.offset + returned < total if total is not None else returned == search.count
    if has_more:
        links.append({"relation": "next", "url": url(search.offset + search.count)})
    return links


def render_searchset(
    resource_base_url: str,
    entries: Sequence[tuple[str, bytes]],
    total: int | None,
    links: list[dict[str, str]],
) -> bytes:
    """A searchset Bundle spliced together from stored resource JSON (no re-serialisation)."""
    head: dict[str, object] = {"resourceType": "Bundle", "type": "searchset"}
    if total is not None:
        head["total"] = total
    head["link"] = links
    parts = [orjson.dumps(head)[:-1], b',"entry":[']
    for index, (resource_id, resource_json) in enumerate(entries):
        if index:
            parts.append(b",")
        parts.append(
            b'{"fullUrl":"' + f"{resource_base_url}/{resource_id}".encode() + b'","resource":'
        )
        parts.append(resource_json)
        parts.append(b',"search":{"mode":"match"}}')
    parts.append(b"]}")
    return b"".join(parts)
