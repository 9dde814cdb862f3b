"""Hostile requests for every operation of a service, built from its OpenAPI document.

* Searches and lists (a GET of a collection, or a search whose parameters travel in a form
  body): each query parameter oversized (an identifier-shaped `system|value` of 10,000
  characters, and of 256+ where the parameter takes identifiers) and, where it takes a date, at
  extreme dates (year 1 at an offset that puts it before year 1 in UTC, 9999-12-31 at -12:00,
  year 0, year 10000, a negative year, a day no calendar has, and the FHIR prefixes that widen a
  date past its bounds); plus one of the values the edge must refuse or read safely: a NUL,
  repeated 60 or 500 times, 500 comma-separated values, control characters, bytes that are not
  UTF-8, an identifier of 256+.
* Writes with a documented JSON example: each string, date and number of the example in turn
  oversized, at extreme dates or past 64 bits, plus one of a NUL, control characters, a lone
  surrogate or empty; their header parameters oversized or past 64 bits.
* Reads of an item: oversized, NUL and control-character ids.

Bounded and deterministic (`Coverage`): every parameter and element definition meets every value
that reaches the database and one edge value, a definition shared by other operations meets the
others in turn there, and writes are capped per operation.
"""

import copy
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from tests.support.documented import (
    FORM,
    WRITE_METHODS,
    body_example,
    collection_of,
    is_date_parameter,
    operations,
    parameters,
)

NUL = "a\x00b"
CONTROL = "a\x01\x08\x0b\x1b\x7f\u2028\ufeffb\r\n"
LONG_SYSTEM = "https://hostile.example/" + "s" * 256
IDENTIFIER_256 = f"{LONG_SYSTEM}|{'v' * 256}"
IDENTIFIER_10K = f"{LONG_SYSTEM}|{'v' * 10_000}"
NOT_UTF8 = "%ff%fe%ed%a0%80"  # sent as written: bytes no UTF-8 decoder takes
# Each a different way out of range: a moment before year 1 or after 9999 once in UTC, year 0,
# year 10000, a negative year, a day no calendar has, and the first and last days (a search
# widens a day to the next one, a report's end is the day after).
DATES = [
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-12:00",
    "0000-01-01",
    "10000-01-01",
    "-0001-01-01",
    "2026-02-30",
    "0001-01-01",
    "9999-12-31",
]
# FHIR search prefixes that move a date past its own bounds (after the last day, before the first).
PREFIXED_DATES = [
    "gt9999-12-31",
    "ge9999",
    "sa9999-12-31T23:59:59-12:00",
    "lt0001-01-01",
    "le0001-01-01T00:00:00+14:00",
    "eb0001",
]
NUMBERS = [
    ("2^31", 2**31),
    ("2^63", 2**63),
    ("-2^63 - 1", -(2**63) - 1),
    ("10^400", 10**400),
    ("1e308", 1e308),
]
IDS = [quote("v" * 10_000), "a%00b", quote("\x01\x7f..%2F", safe="")]
HEADERS = [
    ("identifier-shaped, 10,000", f"identifier={IDENTIFIER_10K}"),
    ("a version past 64 bits", 'W/"99999999999999999999"'),
    ("a negative version", 'W/"-1"'),
]
# Writes of one operation sent at most (the bulk import of a nested ORUK service has hundreds).
MAX_WRITES_PER_OPERATION = 30
_DATE = re.compile(r"^\d{4}-\d\d(-\d\d(T[\d:.]+(Z|[+-]\d\d:\d\d)?)?)?$")


class Coverage:
    """Which values a parameter or element gets. The first time a definition is met (a parameter
    of that name and schema, an element at that place of that kind of record) it gets every value
    that reaches the database and one of the edge values, the edge values taken in turn along the
    document. Met again in another operation (the filters every report shares, the result
    parameters of every FHIR search), it gets one value every `AGAIN`th time, taken in turn from
    them all, and an operation whose definitions were all met before gets one value for its first.
    So every definition meets every value that reaches the database, and every operation meets
    hostile values."""

    AGAIN = 3

    def __init__(self) -> None:
        self.met: dict[Any, int] = {}
        self.turn = 0

    def values(
        self, key: Any, core: list[Any], edge: list[Any], owed: bool = False
    ) -> list[tuple[Any, bool]]:
        """The values for one more meeting of `key`, each with whether it is one of `core`;
        `owed`: the operation has had none yet and this is its last chance."""
        times = self.met.get(key, 0)
        self.met[key] = times + 1
        every = [(value, True) for value in core] + [(value, False) for value in edge]
        if times > 0:
            if times % self.AGAIN and not owed:
                return []
            return [every[(times // self.AGAIN + times % self.AGAIN) % len(every)]]
        if not edge:
            return every
        self.turn += 1
        return [*every[: len(core)], every[len(core) + self.turn % len(edge)]]


@dataclass(frozen=True)
class HostileCase:
    """One request. A write's body is its documented example with `element` replaced by `value`
    (`element` None: unchanged); `path` may name an item, which the test fills in."""

    method: str
    path: str
    label: str
    query: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    media_type: str | None = None
    body: Any = None
    element: tuple[str | int, ...] | None = None
    value: Any = None
    # Whether the value gets past the edge checks to the parsers and the SQL (an oversized value,
    # a date) rather than being refused by the checks every route shares (a NUL, a repeat).
    reaches_database: bool = True

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path} [{self.label}]"

    def content(self, body: Any) -> Any:
        """`body` (the example as sent, fresh ids and all) with the hostile value put in."""
        if self.element is None:
            return body
        changed = copy.deepcopy(body)
        node = changed
        for step in self.element[:-1]:
            node = node[step]
        node[self.element[-1]] = self.value
        return changed


def query_cases(document: dict[str, Any]) -> Iterator[HostileCase]:
    """Hostile values for the parameters of every search and list."""
    coverage = Coverage()
    for method, path, operation in operations(document):
        form = body_example(operation)
        as_form = method == "post" and form is not None and form[0] == FORM
        if as_form:
            assert form is not None
            found = [{"name": name, "example": str(value)} for name, value in form[1].items()]
        elif method == "get" and "{" not in path:
            found = parameters(operation, "query")
        else:
            continue
        yielded = False
        for position, parameter in enumerate(found):
            name = parameter["name"]
            core = [("identifier-shaped, 10,000", _pair(name, IDENTIFIER_10K))]
            just_over = ("identifier-shaped, 256+", _pair(name, IDENTIFIER_256))
            if _takes_identifier(parameter):  # one character past the columns that hold them
                core.append(just_over)
            if is_date_parameter(parameter):
                dates = DATES + (PREFIXED_DATES if _is_fhir_date(parameter) else [])
                core += [(f"date {d}", _pair(name, d)) for d in dates]
            key = (name, json.dumps(parameter.get("schema"), sort_keys=True))
            edge = _edge_queries(name, _example(parameter))
            if just_over not in core:
                edge.append(just_over)
            owed = not yielded and position == len(found) - 1
            for (label, query), deep in coverage.values(key, core, edge, owed):
                yielded = True
                label = f"{name}: {label}"
                if as_form:
                    yield HostileCase(
                        method, path, label, media_type=FORM, body=query, reaches_database=deep
                    )
                else:
                    yield HostileCase(method, path, label, query=query, reaches_database=deep)


def body_cases(document: dict[str, Any]) -> Iterator[HostileCase]:
    """Every JSON write with one element of its documented example made hostile, and each of
    its header parameters; at most `MAX_WRITES_PER_OPERATION` per operation, spread evenly."""
    coverage = Coverage()
    for method, path, operation in operations(document):
        example = body_example(operation)
        if method not in WRITE_METHODS or example is None or example[0] == FORM:
            continue
        media_type, body = example
        cases = []
        elements = [
            (element, value)
            for element, value in _leaves(body)
            if not isinstance(value, bool) and value is not None
        ]
        for position, (element, value) in enumerate(elements):
            if isinstance(value, str):
                core: list[tuple[str, Any]] = [
                    ("256+ characters", (value + "x" * 256)[:257]),
                    ("10,000 characters", (value + "x" * 10_000)[:10_000]),
                ]
                if _DATE.match(value):
                    core += [(f"date {d}", d) for d in DATES]
                edge = _edge_strings(value)
            else:
                core, edge = [(f"number {label}", n) for label, n in NUMBERS], []
            key = _place(collection_of(path), body, element)
            owed = not cases and position == len(elements) - 1
            for (kind, hostile), deep in coverage.values(key, core, edge, owed):
                cases.append(
                    HostileCase(
                        method,
                        path,
                        f"{_fhirpath(element)}: {kind}",
                        media_type=media_type,
                        body=body,
                        element=element,
                        value=hostile,
                        reaches_database=deep,
                    )
                )
        for header in parameters(operation, "header"):
            for kind, hostile in HEADERS:
                cases.append(
                    HostileCase(
                        method,
                        path,
                        f"header {header['name']}: {kind}",
                        headers={header["name"]: hostile},
                        media_type=media_type,
                        body=body,
                    )
                )
        stride = max(1, -(-len(cases) // MAX_WRITES_PER_OPERATION))
        yield from cases[::stride]


def _place(collection: str, body: Any, element: tuple[str | int, ...]) -> tuple[Any, ...]:
    """Where an element is, as a definition: the kind of record it is in (the nearest FHIR
    resource, else the collection written to) and its path there, without list positions."""
    kind: Any = collection
    place: list[str | int] = []
    node = body
    for step in element:
        if isinstance(node, dict) and "resourceType" in node:
            kind, place = node["resourceType"], []
        place.append("*" if isinstance(step, int) else step)
        node = node[step]
    return (kind, *place)


def id_cases(document: dict[str, Any]) -> Iterator[HostileCase]:
    """Every read of an item with oversized, NUL and control-character ids."""
    for method, path, operation in operations(document):
        names = [p["name"] for p in parameters(operation, "path")]
        if method != "get" or not names:
            continue
        for hostile in IDS:
            filled = path
            for name in names:
                filled = filled.replace(f"{{{name}}}", hostile)
            yield HostileCase(method, filled, f"id {hostile[:16]}…")


def _example(parameter: dict[str, Any]) -> str:
    example = parameter.get("example", "x")
    return str(example[0] if isinstance(example, list) and example else example)


def _takes_identifier(parameter: dict[str, Any]) -> bool:
    """A token or reference (`system|value`, `Organization/F84001`), as FHIR searches take them."""
    description = parameter.get("description", "")
    return "|" in _example(parameter) or any(
        f"(FHIR {kind} search parameter)" in description for kind in ("token", "reference")
    )


def _is_fhir_date(parameter: dict[str, Any]) -> bool:
    return "(FHIR date search parameter)" in parameter.get("description", "")


def _pair(name: str, value: str) -> str:
    return f"{quote(name, safe='')}={value if value == NOT_UTF8 else quote(value, safe='')}"


def _edge_queries(name: str, example: str) -> list[tuple[str, str]]:
    one = _pair(name, example)
    return [
        ("NUL", _pair(name, NUL)),
        ("repeated 60 times", "&".join([one] * 60)),
        ("control characters", _pair(name, CONTROL)),
        ("repeated 500 times", "&".join([one] * 500)),
        ("500 comma-separated values", _pair(name, ",".join([example] * 500))),
        ("not UTF-8", _pair(name, NOT_UTF8)),
    ]


def _edge_strings(value: str) -> list[tuple[str, str]]:
    return [
        ("NUL", f"{value}\x00"),
        ("control characters", f"{value}{CONTROL}"),
        ("a lone surrogate", f"{value}\ud800"),
        ("empty", ""),
    ]


def _leaves(
    node: Any, path: tuple[str | int, ...] = ()
) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaves(value, (*path, key))
    elif isinstance(node, list):
        for position, value in enumerate(node):
            yield from _leaves(value, (*path, position))
    elif path:
        yield path, node


def _fhirpath(element: tuple[str | int, ...]) -> str:
    return "".join(f"[{step}]" if isinstance(step, int) else f".{step}" for step in element)
