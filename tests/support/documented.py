"""Requests built from a service's own OpenAPI document: its operations, their parameters and the
example bodies it documents, so tests that walk the document cover new operations by themselves."""

import copy
import re
import uuid
from collections.abc import Iterator
from typing import Any

from tests.support.builders import fresh_nhs_number

HTTP_METHODS = ("get", "post", "put", "patch", "delete")
WRITE_METHODS = ("post", "put", "patch")
FORM = "application/x-www-form-urlencoded"
NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
# Organisation codes name organisations that must exist or match the caller: kept as they are.
_KEPT_SYSTEMS = re.compile(r"ods-(organization|site)-code", re.IGNORECASE)
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
Create = tuple[str, str, Any]  # a documented create: (path, media type, example)
_DATE_EXAMPLE = re.compile(r"^(eq|ne|gt|lt|ge|le|sa|eb|ap)?-?\d{4}(-\d\d){0,2}(T|$)")


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(method, path, operation) for every operation in `document`, in document order."""
    for path, item in document["paths"].items():
        for method in HTTP_METHODS:
            if method in item:
                yield method, path, item[method]


def parameters(operation: dict[str, Any], where: str) -> list[dict[str, Any]]:
    """The operation's parameters that go in `where` (query, header, path)."""
    return [p for p in operation.get("parameters", []) if p["in"] == where]


def body_example(operation: dict[str, Any]) -> tuple[str, Any] | None:
    """The media type and example of the operation's request body (JSON first, then a form)."""
    content = operation.get("requestBody", {}).get("content", {})
    for media_type, media in sorted(content.items(), key=lambda item: "json" not in item[0]):
        if "example" in media and ("json" in media_type or media_type == FORM):
            return media_type, media["example"]
    return None


def documented_creates(document: dict[str, Any]) -> list[Create]:
    """(path, media type, example) of every create (POST to a collection) with a JSON example:
    sent as they are, they make the records the other examples refer to."""
    creates = []
    for method, path, operation in operations(document):
        example = body_example(operation)
        if method == "post" and "{" not in path and example and example[0] != FORM:
            creates.append((path, *example))
    return creates


class CreateRounds:
    """The documented creates in rounds: each round gives the ones not made yet (the caller
    says which with `again`), until a round makes all or none of them. Examples refer to the
    records other examples make, in no particular order."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.waiting = documented_creates(document)
        self.failed: list[Create] = []

    def __iter__(self) -> Iterator[Create]:
        for _attempt in range(len(self.waiting)):
            self.failed = []
            yield from self.waiting
            if len(self.failed) in (0, len(self.waiting)):
                return
            self.waiting = self.failed

    def again(self, create: Create) -> None:
        """`create` was not made: send it in the next round."""
        self.failed.append(create)


def collection_of(path: str) -> str:
    """The collection an item path belongs to: `/services/{service_id}/assure` -> `/services`."""
    return path.split("/{", 1)[0]


def is_date_parameter(parameter: dict[str, Any]) -> bool:
    """Whether a query parameter takes a date: by its format, its FHIR type or its example."""
    schema = parameter.get("schema", {})
    formats = {
        part.get("format")
        for part in [schema, schema.get("items", {}), *schema.get("anyOf", [])]
        if isinstance(part, dict)
    }
    if formats & {"date", "date-time"}:
        return True
    if "(FHIR date search parameter)" in parameter.get("description", ""):
        return True
    example = parameter.get("example")
    first = example[0] if isinstance(example, list) and example else example
    return isinstance(first, str) and bool(_DATE_EXAMPLE.match(first))


def fresh(body: Any) -> Any:
    """`body` with new business identifiers (a new NHS number for each one it names), a new
    Bundle id and new top-level record ids, so sending it twice never meets the first copy.
    A value repeated in the body (the NHS number of a message's ServiceRequest and Patient) gets
    the same new value everywhere; organisation codes are kept."""
    renamed: dict[str, str] = {}

    def renew(value: str, system: str) -> str:
        if value not in renamed:
            renamed[value] = (
                fresh_nhs_number()
                if system == NHS_NUMBER_SYSTEM
                else f"{value}-{uuid.uuid4().hex[:8]}"
            )
        return renamed[value]

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(item) for item in node]
        if not isinstance(node, dict):
            return node
        copied = {key: walk(value) for key, value in node.items()}
        system, value = copied.get("system"), copied.get("value")
        if isinstance(system, str) and isinstance(value, str) and not _KEPT_SYSTEMS.search(system):
            copied["value"] = renew(value, system)
        return copied

    def new_ids(record: Any) -> Any:
        if (
            isinstance(record, dict)
            and isinstance(record.get("id"), str)
            and (record.get("resourceType") == "Bundle" or _UUID.match(record["id"]))
        ):
            record["id"] = str(uuid.uuid4())
        return record

    renewed = walk(copy.deepcopy(body))
    return [new_ids(item) for item in renewed] if isinstance(renewed, list) else new_ids(renewed)
