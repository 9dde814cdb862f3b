"""The ORUK validator's checks, reproduced with jsonschema against the ORUK 3.0 schema files.

Mirrors OpenReferralUK/oruk-validator: the API's `/` names the version, the OpenAPI document of
that version lists the endpoints (tag `required` = level 1, else level 2), paginated endpoints
are fetched at the first, middle and last page and validated against the schema of their 200
response, and up to ten ids taken from the lists are fetched from the `{id}` endpoints.
Formats (uuid, email, uri, date-time) are checked, as the validator's Newtonsoft schema does.
"""

import json
import math
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import urlparse

import httpx
from jsonschema import Draft7Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

SCHEMA_BASE = "https://openreferraluk.org/specifications/3.0/schema/"
_FOLDER = resources.files("directory_api").joinpath("data", "oruk-3.0")

formats = FormatChecker()


@formats.checks("uuid", raises=ValueError)
def _is_uuid(value: object) -> bool:
    return not isinstance(value, str) or str(uuid.UUID(value)) == value.lower()


@formats.checks("uri", raises=ValueError)
def _is_uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parsed = urlparse(value)
    return bool(parsed.scheme and parsed.netloc)


@formats.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    return datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is not None


@cache
def openapi() -> dict[str, Any]:
    return json.loads(_FOLDER.joinpath("openapi.json").read_text(encoding="utf-8"))


@cache
def _registry() -> Registry:
    resources_by_uri = {}
    for entry in _FOLDER.iterdir():
        if entry.name.endswith(".json") and entry.name != "openapi.json":
            contents = json.loads(entry.read_text(encoding="utf-8"))
            resources_by_uri[SCHEMA_BASE + entry.name] = Resource.from_contents(
                contents, default_specification=DRAFT7
            )
    return Registry().with_resources(resources_by_uri.items())


def schema_errors(schema_name: str, document: Any) -> list[str]:
    """Every violation of `schema_name` (e.g. service.json) by `document`, as readable lines."""
    schema = {"$ref": SCHEMA_BASE + schema_name}
    validator = Draft7Validator(schema, registry=_registry(), format_checker=formats)
    return sorted(
        f"{'/'.join(str(p) for p in error.absolute_path) or '(root)'}: {error.message}"
        for error in validator.iter_errors(document)
    )


def _fields(document: Any, path: str = "") -> Iterator[tuple[str, str, Any]]:
    """Every field of every object within `document`: its path, name and value."""
    if isinstance(document, dict):
        for key, value in document.items():
            yield f"{path}/{key}", key, value
            yield from _fields(value, f"{path}/{key}")
    elif isinstance(document, list):
        for index, item in enumerate(document):
            yield from _fields(item, f"{path}/{index}")


def nulls(document: Any) -> list[str]:
    """Paths holding null, "" or [] (ORUK: omit empty fields)."""
    return [path for path, _, value in _fields(document) if value is None or value in ("", [])]


def _is_iso_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def bad_dates(document: Any) -> list[str]:
    """Dates that are not YYYY-MM-DD (assured_date, valid_from, valid_to)."""
    return [
        path
        for path, key, value in _fields(document)
        if key in ("assured_date", "valid_from", "valid_to")
        and isinstance(value, str)
        and not _is_iso_date(value)
    ]


@dataclass
class EndpointResult:
    path: str
    level: int
    status: int | None = None
    problems: list[str] = field(default_factory=list)
    tested_urls: list[str] = field(default_factory=list)


def _response_schema(operation: dict[str, Any]) -> str:
    ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    return ref.rsplit("/", 1)[-1]


def _level(operation: dict[str, Any]) -> int:
    return 2 if any("optional" in tag.lower() for tag in operation.get("tags", [])) else 1


async def validate_feed(
    client: httpx.AsyncClient, per_page: int | None = None
) -> list[EndpointResult]:
    """Run the validator's endpoint tests; each result lists its problems (none = pass)."""
    results = []
    ids_by_root: dict[str, list[str]] = {}
    paths = openapi()["paths"]
    collections = [p for p in paths if "{id}" not in p]
    singles = [p for p in paths if "{id}" in p]
    for path in collections:
        operation = paths[path]["get"]
        result = EndpointResult(path, _level(operation))
        schema = _response_schema(operation)
        paginated = any(
            p.get("$ref", "").endswith("/page") or p.get("name") == "page"
            for p in operation.get("parameters", [])
        )
        suffix = f"&per_page={per_page}" if per_page and paginated else ""
        first = await _fetch(
            client, f"{path}?page=1{suffix}" if paginated else path, schema, result
        )
        if first is not None and paginated:
            total_pages = first.get("total_pages", 1)
            pages = []
            if total_pages > 2:
                pages.append(math.ceil(total_pages / 2))
            if total_pages > 1:
                pages.append(total_pages)
            bodies = [first]
            for number in pages:
                body = await _fetch(client, f"{path}?page={number}{suffix}", schema, result)
                if body is not None:
                    bodies.append(body)
                    result.problems += _envelope_problems(body, number, per_page)
            result.problems += _envelope_problems(first, 1, per_page)
            ids = [item["id"] for body in bodies for item in body.get("contents", [])]
            if not ids:
                result.problems.append("EMPTY_FEED_WARNING: no items")
            ids_by_root[path] = ids
        results.append(result)
    for path in singles:
        operation = paths[path]["get"]
        result = EndpointResult(path, _level(operation))
        ids = ids_by_root.get(path.rsplit("/", 1)[0], [])
        if not ids:
            result.problems.append("not tested: no ids")
        for record_id in random.Random(7).sample(ids, min(10, len(ids))):
            await _fetch(
                client, path.replace("{id}", record_id), _response_schema(operation), result
            )
        results.append(result)
    return results


async def _fetch(
    client: httpx.AsyncClient, url: str, schema: str, result: EndpointResult
) -> dict[str, Any] | None:
    response = await client.get(url)
    result.status = response.status_code
    result.tested_urls.append(url)
    if response.headers.get("access-control-allow-origin") != "*":
        result.problems.append(f"{url}: no Access-Control-Allow-Origin: *")
    if not 200 <= response.status_code < 300:
        result.problems.append(f"{url}: HTTP {response.status_code}")
        return None
    body = response.json()
    result.problems += [f"{url}: {e}" for e in schema_errors(schema, body)]
    result.problems += [f"{url}: empty value at {p}" for p in nulls(body)]
    result.problems += [f"{url}: not a date at {p}" for p in bad_dates(body)]
    return body  # type: ignore[no-any-return]


def _envelope_problems(body: dict[str, Any], number: int, per_page: int | None) -> list[str]:
    problems = []
    contents = body.get("contents", [])
    if body.get("size") != len(contents):
        problems.append(f"page {number}: size {body.get('size')} != {len(contents)} items")
    if body.get("page_number") != number:
        problems.append(f"page {number}: page_number is {body.get('page_number')}")
    if body.get("first_page") != (number == 1):
        problems.append(f"page {number}: first_page wrong")
    if body.get("last_page") != (number == body.get("total_pages")):
        problems.append(f"page {number}: last_page wrong")
    if body.get("empty") != (not contents):
        problems.append(f"page {number}: empty wrong")
    if per_page and body.get("total_pages") != math.ceil(body.get("total_items", 0) / per_page):
        problems.append(f"page {number}: total_pages inconsistent with total_items")
    return problems
