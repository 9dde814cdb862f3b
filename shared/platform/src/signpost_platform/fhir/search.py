"""FHIR search: parameter parsing (strict), paging and searchset Bundles built from stored JSON.

Unknown parameters are refused with 400 rather than silently ignored, so a client never mistakes
an unfiltered result for a filtered one. The parameters a search parses are the ones its OpenAPI
operation declares (`declare_search`).
"""

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal
from urllib.parse import urlencode

import orjson

from signpost_platform.errors import BadRequest
from signpost_platform.parameters import QueryParameter, declare

ParamType = Literal["token", "date", "reference", "string", "number", "uri"]
DatePrefix = Literal["eq", "gt", "lt", "ge", "le"]

MAX_OFFSET = 10_000_000
TOTAL_VALUES = ("none", "estimate", "accurate")
FORMAT_VALUES = ("json", "application/json", "application/fhir+json")
# The result parameters every search takes besides its own (`_sort` only where it sorts).
COUNT = QueryParameter(
    "_count",
    "Page size: matches per page (at most the service's maximum page size; more is refused)",
    type="integer",
    minimum=1,
    example=20,
)
OFFSET = QueryParameter(
    "_offset",
    "How many matches to skip: follow the Bundle's next and previous links rather than "
    "computing it",
    type="integer",
    minimum=0,
    maximum=MAX_OFFSET,
    example=0,
)
TOTAL = QueryParameter(
    "_total",
    "none: the Bundle need not carry total (cheaper); estimate and accurate: it does",
    enum=TOTAL_VALUES,
)
FORMAT = QueryParameter("_format", "The answer is always FHIR JSON", enum=FORMAT_VALUES)
CONTROL = (COUNT, OFFSET, TOTAL, FORMAT)
SORT = "_sort"


@dataclass(frozen=True, slots=True)
class SearchParameter:
    """One supported search parameter, as parsed, advertised in the CapabilityStatement and
    declared in the OpenAPI document.

    A `repeatable` parameter may be given several times (the occurrences AND together); any
    other is refused the second time.
    """

    name: str
    type: ParamType
    documentation: str
    definition: str | None = None
    repeatable: bool = True
    example: str | None = None

    def query_parameter(self) -> QueryParameter:
        """This parameter as a query parameter definition (for the OpenAPI document)."""
        return QueryParameter(
            self.name,
            f"{self.documentation} (FHIR {self.type} search parameter)",
            format="uri" if self.type == "uri" else None,
            repeatable=self.repeatable,
            example=self.example,
        )


def search_definitions(
    supported: Sequence[SearchParameter], sort_keys: Collection[str] = ()
) -> list[QueryParameter]:
    """Every query parameter a search parsed with `parse_search(query, supported, sort_keys)`
    takes: its own, then `_count`, `_offset`, `_sort` (when it has sort keys), `_total` and
    `_format`."""
    definitions = [p.query_parameter() for p in supported]
    definitions += [COUNT, OFFSET]
    if sort_keys:
        keys = sorted(sort_keys)
        one = "-?(" + "|".join(re.escape(key) for key in keys) + ")"
        definitions.append(
            QueryParameter(
                SORT,
                f"Sort by {', '.join(keys)}; prefix - for descending; several keys "
                "comma-separated, the first sorting first",
                pattern=f"^{one}(,{one})*$",
                example=f"-{keys[0]}",
            )
        )
    definitions += [TOTAL, FORMAT]
    return definitions


def declare_search(
    supported: Sequence[SearchParameter], sort_keys: Collection[str] = ()
) -> dict[str, Any]:
    """`openapi_extra` for a search route: see `search_definitions`."""
    return declare(search_definitions(supported, sort_keys))


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
    by_name = {p.name: p for p in supported}
    accepted = set(by_name) | {p.name for p in CONTROL} | ({SORT} if sort_keys else set())
    result = SearchQuery(count=default_count, sort=list(default_sort))
    for name, value in query:
        if name not in accepted:
            raise BadRequest(
                f"unknown search parameter {name!r}; supported: {', '.join(sorted(accepted))}",
                expression=name,
                issue_code="not-supported",
            )
        if value == "":
            raise BadRequest(f"the parameter {name} has an empty value", expression=name)
        if name == COUNT.name:
            result.count = _bounded_int(name, value, 1, max_count)
        elif name == OFFSET.name:
            result.offset = _bounded_int(name, value, 0, MAX_OFFSET)
        elif name == SORT:
            result.sort = _parse_sort(value, sort_keys)
        elif name == TOTAL.name:
            if value not in TOTAL_VALUES:
                raise BadRequest("_total must be none, estimate or accurate", expression=name)
            result.total = value != "none"
        elif name == FORMAT.name:
            if value not in FORMAT_VALUES:
                raise BadRequest(
                    "only JSON is supported", expression=name, issue_code="not-supported"
                )
        else:
            if name in result.values and not by_name[name].repeatable:
                raise BadRequest(f"{name} may be given once", expression=name)
            result.values.setdefault(name, []).append(value)
    return result


def _bounded_int(name: str, value: str, low: int, high: int) -> int:
    if not (value.isascii() and value.isdigit()) or not low <= int(value) <= high:
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
    except (ValueError, OverflowError):  # not a date, or out of the representable range
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
