"""Every query parameter a search or list accepts is declared in the published document, and
every declared one is accepted: clients generated from the documents can use them all.

Each service runs in-process on a migrated database (both backends). For every GET operation
that declares query parameters:

* each declared parameter, sent alone with a value its schema allows, is not refused as unknown
  (and is never a 5xx); with a value holding a NUL character it is a 400 naming it;
* a made-up parameter is refused as unknown (400 naming it); FHIR searches and operations
  refuse it only under `Prefer: handling=strict` (FHIR R4 3.1.1.4), searches otherwise
  answering 200 with an OperationOutcome entry naming it, so every request here is sent with
  that header;
* every other parameter name the services might accept is refused as unknown too: the names
  declared by any operation of the three documents, the FHIR result parameters, the search
  parameters of each CapabilityStatement, the parameters of the ORUK 3.0 OpenAPI, and the names
  the operation itself lists as supported when it refuses one. An operation that accepts one of
  these without declaring it fails.
"""

import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.openapi.apps import FACTORIES
from tests.openapi.spec_rules import every_scope
from tests.support.clients import running
from tests.support.databases import drop_database, migrated_database

MADE_UP = "signpost-no-such-parameter"
# The FHIR search result parameters (FHIR R4 3.1.1.5.x), whether or not a service offers them.
FHIR_RESULT_PARAMETERS = {
    "_count",
    "_offset",
    "_sort",
    "_total",
    "_format",
    "_summary",
    "_elements",
    "_include",
    "_revinclude",
    "_contained",
    "_id",
    "_lastUpdated",
    "_pretty",
}
SAMPLE_ID = "00000000-0000-4000-8000-000000000000"
UNKNOWN = re.compile(r"\bunknown (?:search |query )?parameter\b", re.IGNORECASE)
SUPPORTED = re.compile(r"supported: (.+)$")


@asynccontextmanager
async def _service(name: str, backend: str, folder: Path) -> AsyncIterator[httpx.AsyncClient]:
    url = await migrated_database(backend, folder, name)
    try:
        async with running(FACTORIES[name](url), f"http://{name}.test") as client:
            yield client
    finally:
        await drop_database(url)


@pytest.mark.parametrize("service", sorted(FACTORIES))
async def test_search_and_list_operations_accept_exactly_what_they_declare(
    service: str,
    backend: str,
    session_tmp: Path,
    service_documents: dict[str, dict[str, Any]],
) -> None:
    document = service_documents[service]
    headers = {**every_scope(document), "Prefer": "handling=strict"}
    async with _service(service, backend, session_tmp) as client:
        candidates = _declared_anywhere(service_documents) | FHIR_RESULT_PARAMETERS
        candidates |= _oruk_parameters()
        if "/fhir/metadata" in document["paths"]:
            candidates |= await _capability_search_parameters(client)
        problems: list[str] = []
        checked = 0
        for path, operation in _operations_with_query_parameters(document):
            checked += 1
            where = f"GET {path} ({operation['operationId']})"
            url = re.sub(r"\{[^}]+\}", SAMPLE_ID, path)
            declared = {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "query"}

            made_up = await client.get(url, params={MADE_UP: "1"}, headers=headers)
            if not _refused_as_unknown(made_up, MADE_UP):
                problems.append(f"{where}: a made-up parameter is not refused as unknown")
            # A search ignores it with a warning; an operation ($export) answers as it would.
            if path.startswith("/fhir/") and "{" not in path and "$" not in path:
                lenient = {k: v for k, v in headers.items() if k != "Prefer"}
                ignored = await client.get(url, params={MADE_UP: "1"}, headers=lenient)
                if not _reported_as_ignored(ignored, MADE_UP):
                    problems.append(
                        f"{where}: without handling=strict a made-up parameter is not ignored "
                        f"with a warning ({ignored.status_code} {ignored.text[:120]})"
                    )
            listed = _listed_as_supported(made_up)
            if undeclared_listed := sorted(listed - set(declared)):
                problems.append(f"{where}: says it supports {undeclared_listed}, not declared")

            for name, parameter in declared.items():
                response = await client.get(url, params={name: _sample(parameter)}, headers=headers)
                if response.status_code >= 500 or _refused_as_unknown(response, name):
                    problems.append(
                        f"{where}: declared {name}={_sample(parameter)} answered "
                        f"{response.status_code} {response.text[:200]}"
                    )
                # No value may hold a NUL (PostgreSQL text cannot): a 400 naming it, not a 500.
                response = await client.get(url, params={name: "a\x00"}, headers=headers)
                if not _refused(response, name):
                    problems.append(
                        f"{where}: {name} with a NUL answered {response.status_code} "
                        f"{response.text[:200]}"
                    )

            for name in sorted((candidates | listed) - set(declared) - {MADE_UP}):
                response = await client.get(url, params={name: "1"}, headers=headers)
                if not _refused_as_unknown(response, name):
                    problems.append(
                        f"{where}: accepts {name} without declaring it "
                        f"({response.status_code} {response.text[:120]})"
                    )
    assert checked, f"{service}: no operation declares query parameters"
    assert problems == []


def _operations_with_query_parameters(
    document: dict[str, Any],
) -> list[tuple[str, dict[str, Any]]]:
    return [
        (path, item["get"])
        for path, item in document["paths"].items()
        if "get" in item and any(p["in"] == "query" for p in item["get"].get("parameters", []))
    ]


def _declared_anywhere(documents: dict[str, dict[str, Any]]) -> set[str]:
    return {
        parameter["name"]
        for document in documents.values()
        for item in document["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict)
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "query"
    }


def _oruk_parameters() -> set[str]:
    """The query parameters of the ORUK 3.0 OpenAPI (kept as data with directory-api)."""
    text = resources.files("directory_api").joinpath("data/oruk-3.0/openapi.json").read_text()
    standard = json.loads(text)
    names = {p["name"] for p in standard.get("components", {}).get("parameters", {}).values()}
    for item in standard["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict):
                names |= {
                    p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"
                }
    return names


async def _capability_search_parameters(client: httpx.AsyncClient) -> set[str]:
    statement = (await client.get("/fhir/metadata")).json()
    return {
        parameter["name"]
        for rest in statement["rest"]
        for resource in rest.get("resource", [])
        for parameter in resource.get("searchParam", [])
    }


def _issues(response: httpx.Response) -> list[tuple[list[str], str]]:
    """(parameters named, text) of each problem in an error answer."""
    try:
        body = response.json()
    except ValueError:
        return []
    if body.get("resourceType") == "OperationOutcome":
        return [
            (issue.get("expression") or [], issue.get("diagnostics", ""))
            for issue in body.get("issue", [])
        ]
    return [
        ([error["parameter"]] if "parameter" in error else [], error.get("detail", ""))
        for error in body.get("errors", [])
    ]


def _refused(response: httpx.Response, name: str) -> bool:
    return response.status_code == 400 and any(name in named for named, _ in _issues(response))


def _refused_as_unknown(response: httpx.Response, name: str) -> bool:
    return response.status_code == 400 and any(
        name in named and UNKNOWN.search(text) for named, text in _issues(response)
    )


def _reported_as_ignored(response: httpx.Response, name: str) -> bool:
    """A searchset answered despite `name`, with an outcome entry naming it."""
    if response.status_code != 200:
        return False
    return any(
        entry.get("search", {}).get("mode") == "outcome"
        and any(name in issue.get("expression", []) for issue in entry["resource"]["issue"])
        for entry in response.json().get("entry", [])
    )


def _listed_as_supported(response: httpx.Response) -> set[str]:
    """The parameters a refusal says the operation supports (`...; supported: a, b`)."""
    names: set[str] = set()
    for _named, text in _issues(response):
        if match := SUPPORTED.search(text):
            names |= {name.strip() for name in match[1].split(",") if name.strip()}
    return names


def _sample(parameter: dict[str, Any]) -> str:
    """A value the parameter's schema allows: its example, else one made from the schema."""
    if "example" in parameter:
        example = parameter["example"]
        return _text(example[0] if isinstance(example, list) else example)
    schema = parameter.get("schema", {})
    if schema.get("type") == "array":
        schema = schema.get("items", {})
    if "anyOf" in schema:  # FastAPI's optional values: the first non-null choice
        schema = next(s for s in schema["anyOf"] if s.get("type") != "null")
    if schema.get("enum"):
        return _text(schema["enum"][0])
    if "default" in schema:
        return _text(schema["default"])
    if match := re.fullmatch(r"\^\(([^()|]+)(?:\|[^()]*)?\)\$", schema.get("pattern", "")):
        return match[1]
    kind, fmt = schema.get("type"), schema.get("format")
    if kind == "boolean":
        return "true"
    if kind in ("integer", "number"):
        return _text(schema.get("minimum", 1))
    return {
        "date-time": "2026-01-01T00:00:00Z",
        "date": "2026-01-01",
        "uuid": SAMPLE_ID,
        "uri": "https://signpost.nhs.example/x",
    }.get(fmt or "", "x")


def _text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)
