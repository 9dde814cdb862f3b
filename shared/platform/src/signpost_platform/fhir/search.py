"""FHIR search: parameter parsing, paging and searchset Bundles built from stored JSON.

Searches follow FHIR R4 (3.1.1.4, "handling errors"): a parameter the search does not support,
or one given with an empty value, is ignored and reported in the Bundle as an OperationOutcome
entry (`search.mode = outcome`) and left out of the `self` link; with `Prefer: handling=strict`
it is refused with 400. A supported parameter with a malformed value or an unsupported modifier
is refused with 400 either way, so a client never mistakes an unfiltered result for a filtered
one. The parameters a search parses are the ones its OpenAPI operation declares
(`declare_search`).
"""

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal, Protocol
from urllib.parse import parse_qsl, urlencode

import orjson
from fastapi import Request
from sqlalchemy import ColumnElement, and_, or_

from signpost_platform.binds import Binds, Bound, bound
from signpost_platform.errors import BadRequest, UnsupportedMediaType
from signpost_platform.parameters import QueryParameter, check_parameter_counts, declare

ParamType = Literal["token", "date", "reference", "string", "number", "uri"]
DatePrefix = Literal["eq", "gt", "lt", "ge", "le"]

MAX_OFFSET = 10_000_000
TOTAL_VALUES = ("none", "estimate", "accurate")
FORMAT_VALUES = ("json", "application/json", "application/fhir+json")
SUMMARY_VALUES = ("true", "false", "data", "count")
PRETTY_VALUES = ("true", "false")
SUBSETTED = {
    "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
    "code": "SUBSETTED",
    "display": "subsetted",
}
# Always kept by `_elements` (FHIR R4 3.1.1.5.9): the element names a resource cannot do without.
MANDATORY_ELEMENTS = ("resourceType", "id", "meta")
# Also kept, since "servers SHOULD always return mandatory elements whether they are requested or
# not" (FHIR R4 3.1.1.5.9): the top-level elements FHIR R4 requires (min 1) in each resource type
# Signpost searches. HealthcareService, Location and Organization require none.
REQUIRED_ELEMENTS = {
    "ServiceRequest": ("status", "intent", "subject"),
    "Task": ("status", "intent"),
    "Encounter": ("status", "class"),
    "Observation": ("status", "code"),
    "Questionnaire": ("status",),
    "QuestionnaireResponse": ("status",),
}
# jQuery's cache-buster (`_=1700000000000`): no meaning to the search, ignored without a word.
CACHE_BUSTER = "_"
_ELEMENT_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")
# The result parameters every search takes besides its own (`_sort` only where it sorts).
COUNT = QueryParameter(
    "_count",
    "Page size: matches per page (more than the service's maximum page size is served as the "
    "maximum; 0 answers the total alone, as `_summary=count`)",
    type="integer",
    minimum=0,
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
SUMMARY = QueryParameter(
    "_summary",
    "count: the Bundle carries total and no entries; data: entries without their narrative "
    "(text); true and false: entries whole (Signpost's resources carry only summary elements "
    "and no narrative)",
    enum=SUMMARY_VALUES,
)
ELEMENTS = QueryParameter(
    "_elements",
    "Comma-separated top-level element names: each entry keeps only these (with id, meta, "
    "resourceType and the elements FHIR R4 requires of it) and is tagged SUBSETTED",
    pattern=r"^[A-Za-z][A-Za-z0-9]*(,[A-Za-z][A-Za-z0-9]*)*$",
    example="status,subject",
)
FORMAT = QueryParameter("_format", "The answer is always FHIR JSON", enum=FORMAT_VALUES)
PRETTY = QueryParameter("_pretty", "Accepted; the answer is compact JSON", enum=PRETTY_VALUES)
CONTROL = (COUNT, OFFSET, TOTAL, SUMMARY, ELEMENTS, FORMAT, PRETTY)
SORT = "_sort"
STRICT = re.compile(r"(?:^|[;,])\s*handling\s*=\s*\"?strict\"?\s*(?:$|[;,])", re.IGNORECASE)


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


# The common resource parameters (FHIR R4 3.1.1.4.1): a search lists them where it supports them.
ID = SearchParameter(
    "_id",
    "token",
    "The logical id; comma-separated values OR",
    "http://hl7.org/fhir/SearchParameter/Resource-id",
    example="00000000-0000-4000-8000-000000000000",
)
LAST_UPDATED = SearchParameter(
    "_lastUpdated",
    "date",
    "When the resource last changed (meta.lastUpdated), with eq, ge, gt, le or lt; repeat for a "
    "range",
    "http://hl7.org/fhir/SearchParameter/Resource-lastUpdated",
    example="ge2026-01-01",
)


def search_definitions(
    supported: Sequence[SearchParameter], sort_keys: Collection[str] = ()
) -> list[QueryParameter]:
    """Every query parameter a search parsed with `parse_search(query, supported, sort_keys)`
    takes: its own, then `_count`, `_offset`, `_sort` (when it has sort keys), `_total`,
    `_summary`, `_elements`, `_format` and `_pretty`."""
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
    definitions += [TOTAL, SUMMARY, ELEMENTS, FORMAT, PRETTY]
    return definitions


def declare_search(
    supported: Sequence[SearchParameter], sort_keys: Collection[str] = ()
) -> dict[str, Any]:
    """`openapi_extra` for a search route: see `search_definitions`."""
    return declare(search_definitions(supported, sort_keys))


RESULT_PARAMETERS_NOTE = (
    ". Also the common result parameters (`_count`, `_offset`, `_summary`, `_elements`…). "
    "Unknown and empty parameters are ignored and reported in an OperationOutcome entry, or "
    "refused with 400 under `Prefer: handling=strict`."
)


def search_description(
    supported: Sequence[SearchParameter], rest: str = RESULT_PARAMETERS_NOTE
) -> str:
    """The description of a search route: each parameter with its type and documentation,
    then `rest` (by default the result parameters and how unknown ones are treated)."""
    listed = "; ".join(f"`{p.name}` ({p.type}): {p.documentation}" for p in supported)
    return f"Parameters: {listed}{rest}"


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
    """A parsed search: each parameter's values (one list per occurrence), paging, sorting, the
    result parameters, and what was ignored (with why)."""

    values: dict[str, list[str]] = field(default_factory=dict)
    count: int = 20
    offset: int = 0
    sort: list[tuple[str, bool]] = field(default_factory=list)  # (key, descending)
    total: bool = True
    summary: str | None = None
    elements: list[str] | None = None
    # (parameter, why) of each parameter ignored; reported as an outcome entry.
    ignored: list[tuple[str, str]] = field(default_factory=list)
    # The parameters the search used, in order: what the Bundle's links repeat.
    used: list[tuple[str, str]] = field(default_factory=list)

    def occurrences(self, name: str) -> list[list[str]]:
        """Each occurrence of `name` split on commas: occurrences AND together, values OR."""
        return [value.split(",") for value in self.values.get(name, [])]

    @property
    def returns_entries(self) -> bool:
        """Whether the Bundle carries the matches (not with `_summary=count`)."""
        return self.summary != "count"

    @property
    def rows_read(self) -> int:
        """How many matches to read: the page (`count`), or with `_summary=count` one, the row
        that carries the total in the same statement (no match is served)."""
        return self.count if self.returns_entries else 1

    def ids(self) -> list[list[str]]:
        """The `_id` occurrences (each a list of ids that OR)."""
        return self.occurrences(ID.name)

    def last_updated(self) -> list["DateRange"]:
        """The `_lastUpdated` ranges (they AND)."""
        return [parse_date(LAST_UPDATED.name, v) for v in self.values.get(LAST_UPDATED.name, [])]


def strict_handling(prefer: str | None) -> bool:
    """Whether a `Prefer` header asks for `handling=strict` (the default is lenient)."""
    return bool(prefer and STRICT.search(prefer))


def parse_search(
    query: Sequence[tuple[str, str]],
    supported: Sequence[SearchParameter],
    sort_keys: Mapping[str, str],
    *,
    default_count: int,
    max_count: int,
    default_sort: list[tuple[str, bool]],
    strict: bool = False,
) -> SearchQuery:
    """Parse a search's parameters. Unknown and empty parameters are ignored (and noted in
    `ignored`) unless `strict`, when they are refused; a supported parameter with a bad value or
    an unsupported modifier is refused either way. `_count` over `max_count` is `max_count`."""
    by_name = {p.name: p for p in supported}
    accepted = set(by_name) | {p.name for p in CONTROL} | ({SORT} if sort_keys else set())
    result = SearchQuery(count=default_count, sort=list(default_sort))
    for name, value in query:
        if name == CACHE_BUSTER:
            continue
        if name not in accepted:
            base = name.split(":", 1)[0]
            if ":" in name and base in accepted:
                raise BadRequest(
                    f"unknown search parameter {name!r}: the modifier of {base} is not "
                    f"supported; supported: {', '.join(sorted(accepted))}",
                    expression=name,
                    issue_code="not-supported",
                )
            if strict:
                raise BadRequest(
                    f"unknown search parameter {name!r}; supported: {', '.join(sorted(accepted))}",
                    expression=name,
                    issue_code="not-supported",
                )
            result.ignored.append((name, f"unknown search parameter {name!r}: ignored"))
            continue
        if value == "":
            if strict:
                raise BadRequest(f"the parameter {name} has an empty value", expression=name)
            result.ignored.append((name, f"the parameter {name} has an empty value: ignored"))
            continue
        result.used.append((name, value))
        if name == COUNT.name:
            result.count = min(_bounded_int(name, value, 0, None), max_count)
        elif name == OFFSET.name:
            result.offset = _bounded_int(name, value, 0, MAX_OFFSET)
        elif name == SORT:
            result.sort = _parse_sort(value, sort_keys)
        elif name == TOTAL.name:
            if value not in TOTAL_VALUES:
                raise BadRequest("_total must be none, estimate or accurate", expression=name)
            result.total = value != "none"
        elif name == SUMMARY.name:
            if value not in SUMMARY_VALUES:
                raise BadRequest(
                    f"_summary must be one of {', '.join(SUMMARY_VALUES)} (text is not served)",
                    expression=name,
                    issue_code="not-supported" if value == "text" else "invalid",
                )
            result.summary = value
        elif name == ELEMENTS.name:
            names = [part.strip() for part in value.split(",")]
            if not all(_ELEMENT_NAME.match(n) for n in names):
                raise BadRequest(
                    "_elements is a comma-separated list of top-level element names",
                    expression=name,
                )
            result.elements = [*(result.elements or []), *names]
        elif name == FORMAT.name:
            if value not in FORMAT_VALUES:
                raise BadRequest(
                    "only JSON is supported", expression=name, issue_code="not-supported"
                )
        elif name == PRETTY.name:
            if value not in PRETTY_VALUES:
                raise BadRequest("_pretty must be true or false", expression=name)
        else:
            if name in result.values and not by_name[name].repeatable:
                raise BadRequest(f"{name} may be given once", expression=name)
            if by_name[name].type == "date":
                parse_date(name, value)  # a malformed date is refused before anything runs
            result.values.setdefault(name, []).append(value)
    if result.count == 0:
        result.summary = "count"  # FHIR: a page of no entries asks for the total alone
    if result.summary == "count":
        result.total = True
    return result


async def search_request(
    request: Request,
    supported: Sequence[SearchParameter],
    sort_keys: Mapping[str, str] | None = None,
    default_sort: Sequence[tuple[str, bool]] = (),
) -> SearchQuery:
    """Parse the search `request` asks for: its query string and, for `POST …/_search`, its
    form-encoded body too (FHIR R4 3.1.1.3), as `Prefer: handling` asks, with the service's page
    sizes."""
    settings = request.app.state.settings
    query = list(request.query_params.multi_items())
    if request.method == "POST":
        query += await search_form(request)
    return parse_search(
        query,
        supported,
        sort_keys or {},
        default_count=settings.default_page_size,
        max_count=settings.max_page_size,
        default_sort=list(default_sort),
        strict=strict_handling(request.headers.get("prefer")),
    )


async def search_form(request: Request) -> list[tuple[str, str]]:
    """The parameters of a `POST …/_search` body (application/x-www-form-urlencoded), checked
    as a query string is (no NUL, no flood of values)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = await request.body()
    if not body:
        return []
    if content_type != "application/x-www-form-urlencoded":
        raise UnsupportedMediaType(
            "a search by POST takes application/x-www-form-urlencoded parameters "
            f"(got {content_type or 'none'})"
        )
    try:
        pairs = parse_qsl(body.decode(), keep_blank_values=True, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise BadRequest("the search body is not form-encoded UTF-8") from None
    for name, value in pairs:
        if "\x00" in name or "\x00" in value:
            raise BadRequest(f"{name!r} contains a NUL character", expression=name)
    check_parameter_counts([*request.query_params.multi_items(), *pairs])
    return pairs


def _bounded_int(name: str, value: str, low: int, high: int | None) -> int:
    if (
        not (value.isascii() and value.isdigit() and len(value) <= 12)
        or int(value) < low
        or (high is not None and int(value) > high)
    ):
        limits = f"from {low} to {high}" if high is not None else f"of at least {low}"
        raise BadRequest(f"{name} must be a whole number {limits}", expression=name)
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


@dataclass(frozen=True, slots=True)
class ShapedToken:
    """A token with its system and code as `Binds` gave them; the system stays None (any
    system) or "" (no system), which are part of the shape."""

    system: Any
    code: Any


@dataclass(frozen=True, slots=True)
class ShapedRange:
    """A date parameter with its bounds as `Binds` gave them; the prefix is part of the shape."""

    prefix: DatePrefix
    start: Any
    end: Any


class Interval(Protocol):
    """A date parameter as a half-open interval [start, end) of moments (`DateRange`) or of
    days (a service's own ranges for date columns), with its comparison prefix; the bounds may
    be held by `Binds` (`shaped_range`)."""

    @property
    def prefix(self) -> str: ...

    @property
    def start(self) -> date | Bound: ...

    @property
    def end(self) -> date | Bound: ...


def date_condition(column: Any, date_range: Interval) -> ColumnElement[bool]:
    """The SQL condition of a date parameter on a timestamp column (`_lastUpdated`, …), or on a
    date column with a range of days."""
    start, end = bound(date_range.start), bound(date_range.end)
    match date_range.prefix:
        case "ge":
            return column >= start  # type: ignore[no-any-return]
        case "gt":
            return column >= end  # type: ignore[no-any-return]
        case "le":
            return column < end  # type: ignore[no-any-return]
        case "lt":
            return column < start  # type: ignore[no-any-return]
        case _:
            return and_(column >= start, column < end)


def token_condition(
    system_column: Any, code_column: Any, token: Token | ShapedToken
) -> ColumnElement[bool]:
    """The SQL condition of a token on a system and a code column: `system|code`; `|code`, the
    code with no system (NULL or empty); `code`, the code in any system."""
    code_match: ColumnElement[bool] = code_column == bound(token.code)
    if token.system is None:
        return code_match
    if token.system == "":
        no_system = or_(system_column.is_(None), system_column == "")
        return and_(no_system, code_match)
    return and_(system_column == bound(token.system), code_match)


def shaped_token(binds: Binds, token: Token) -> ShapedToken:
    """`token` with its system (when it names one) and code held by `binds`."""
    system = token.system if not token.system else binds(token.system)
    return ShapedToken(system, binds(token.code))


def shaped_range(binds: Binds, date_range: DateRange) -> ShapedRange:
    """`date_range` with its bounds held by `binds`."""
    return ShapedRange(date_range.prefix, binds(date_range.start), binds(date_range.end))


def page_links(
    base_url: str, search: SearchQuery, total: int | None, returned: int
) -> list[dict[str, str]]:
    """self, first, previous and next links for an offset-paged search: the parameters it used
    (not those it ignored), with the page size it served."""

    used = urlencode([(k, v) for k, v in search.used if k not in ("_offset", "_count")])
    prefix = (
        f"{base_url}?{used}&_count={search.count}" if used else f"{base_url}?_count={search.count}"
    )

    def url(offset: int) -> str:
        return f"{prefix}&_offset={offset}"

    links = [{"relation": "self", "url": url(search.offset)}]
    if search.summary == "count":
        return links
    links.append({"relation": "first", "url": url(0)})
    if search.offset > 0:
        links.append({"relation": "previous", "url": url(max(0, search.offset - search.count))})
    has_more = search.offset + returned < total if total is not None else returned == search.count
    if has_more:
        links.append({"relation": "next", "url": url(search.offset + search.count)})
    return links


def searchset(
    resource_base_url: str,
    search: SearchQuery,
    entries: Sequence[tuple[str, bytes]],
    total: int | None,
) -> bytes:
    """The searchset Bundle answering `search`: paging links, the entries shaped as `_summary`
    and `_elements` ask, and an outcome entry for the parameters it ignored."""
    links = page_links(resource_base_url, search, total, len(entries))
    if search.summary == "count":
        entries = []
    elif search.elements is not None or search.summary == "data":
        entries = [(i, subset(r, search.elements, search.summary == "data")) for i, r in entries]
    return render_searchset(
        resource_base_url, entries, total, links, outcome=ignored_outcome(search.ignored)
    )


def subset(resource_json: bytes, elements: Sequence[str] | None, drop_text: bool) -> bytes:
    """A resource cut to `elements` (plus id, meta, resourceType and the elements FHIR R4
    requires of its type) and without its narrative if `drop_text`, tagged SUBSETTED in
    meta.tag."""
    resource = orjson.loads(resource_json)
    keep = (
        {*elements, *MANDATORY_ELEMENTS, *REQUIRED_ELEMENTS.get(resource.get("resourceType"), ())}
        if elements is not None
        else None
    )
    shaped = {
        key: value
        for key, value in resource.items()
        if (keep is None or key in keep) and not (drop_text and key == "text")
    }
    meta = dict(shaped.get("meta") or {})
    tags = [t for t in meta.get("tag", []) if t.get("code") != SUBSETTED["code"]]
    meta["tag"] = [*tags, SUBSETTED]
    shaped["meta"] = meta
    return orjson.dumps(shaped)


def ignored_outcome(ignored: Sequence[tuple[str, str]]) -> dict[str, Any] | None:
    """The OperationOutcome of the parameters a search ignored, or None."""
    if not ignored:
        return None
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "warning",
                "code": "not-supported" if why.startswith("unknown") else "invalid",
                "diagnostics": why,
                "expression": [name],
            }
            for name, why in ignored
        ],
    }


def render_searchset(
    resource_base_url: str,
    entries: Sequence[tuple[str, bytes]],
    total: int | None,
    links: list[dict[str, str]],
    *,
    outcome: dict[str, Any] | None = None,
) -> bytes:
    """A searchset Bundle spliced together from stored resource JSON (no re-serialisation);
    `outcome`, if any, is the last entry (`search.mode = outcome`). With neither, the Bundle has
    no `entry` at all: FHIR JSON has no empty arrays."""
    head: dict[str, object] = {"resourceType": "Bundle", "type": "searchset"}
    if total is not None:
        head["total"] = total
    head["link"] = links
    if not entries and outcome is None:
        return orjson.dumps(head)
    parts = [orjson.dumps(head)[:-1], b',"entry":[']
    for index, (resource_id, resource_json) in enumerate(entries):
        if index:
            parts.append(b",")
        parts.append(
            b'{"fullUrl":"' + f"{resource_base_url}/{resource_id}".encode() + b'","resource":'
        )
        parts.append(resource_json)
        parts.append(b',"search":{"mode":"match"}}')
    if outcome is not None:
        if entries:
            parts.append(b",")
        parts.append(orjson.dumps({"resource": outcome, "search": {"mode": "outcome"}}))
    parts.append(b"]}")
    return b"".join(parts)
