"""OpenAPI links: which value of one operation's answer another operation takes.

A service registers its links by source operationId (`register_links`); shaping writes them into
every 2xx response of that operation that has a body, as OpenAPI 3 `links`:

    "createServiceRequest": [
        OperationLink("readServiceRequest", {"path.referral_id": "$response.body#/id"}, "..."),
    ]

Integrators read them as "what to call next with what you got"; stateful API testers (schemathesis)
follow them to chain a create into its reads and updates. A link naming an operation or a
parameter the document does not have refuses to build the document, so links cannot go stale.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI

HTTP_METHODS = {"get", "post", "put", "patch", "delete", "head", "options"}
# The runtime expressions the services' links use most.
RESPONSE_ID = "$response.body#/id"
RESPONSE_ETAG = "$response.header.ETag"
RESPONSE_VERSION = "$response.body#/meta/versionId"


@dataclass(frozen=True)
class OperationLink:
    """A link to `operation_id`: its parameters (`path.referral_id`, `header.if-match`, named
    `<in>.<name>` as the target declares them) given as runtime expressions on this answer, and,
    if `request_body` is set, its body too."""

    operation_id: str
    parameters: Mapping[str, str]
    description: str
    request_body: str | None = None

    def as_openapi(self) -> dict[str, Any]:
        link: dict[str, Any] = {
            "operationId": self.operation_id,
            "description": self.description,
        }
        if self.parameters:
            link["parameters"] = dict(self.parameters)
        if self.request_body is not None:
            link["requestBody"] = self.request_body
        return link


Links = Mapping[str, Sequence[OperationLink]]


def register_links(app: FastAPI, links: Links) -> None:
    """Attach `links` (keyed by the source operationId) to `app`'s OpenAPI document."""
    registered: dict[str, Sequence[OperationLink]] = getattr(app.state, "openapi_links", {})
    app.state.openapi_links = {**registered, **links}


def add_links(document: dict[str, Any], app: FastAPI) -> None:
    """Write the links registered on `app` into `document`; refuse ones that do not resolve."""
    links: Links = getattr(app.state, "openapi_links", {})
    if not links:
        return
    operations = {
        operation["operationId"]: operation
        for item in document.get("paths", {}).values()
        for method, operation in item.items()
        if method in HTTP_METHODS
    }
    problems = [
        problem
        for source, outgoing in links.items()
        for problem in _unresolved(source, outgoing, operations)
    ]
    if problems:
        raise RuntimeError("OpenAPI links that do not resolve:\n" + "\n".join(problems))
    for source, outgoing in links.items():
        for status, response in operations[source].get("responses", {}).items():
            if status.startswith("2") and response.get("content"):
                response["links"] = {link.operation_id: link.as_openapi() for link in outgoing}


def _unresolved(
    source: str, outgoing: Sequence[OperationLink], operations: Mapping[str, dict[str, Any]]
) -> list[str]:
    if source not in operations:
        return [f"{source}: no such operation"]
    problems = []
    for link in outgoing:
        target = operations.get(link.operation_id)
        if target is None:
            problems.append(f"{source} -> {link.operation_id}: no such operation")
            continue
        declared = {
            f"{parameter['in']}.{parameter['name'].lower()}"
            for parameter in target.get("parameters", [])
        }
        for parameter in link.parameters:
            where, _, name = parameter.partition(".")
            if f"{where}.{name.lower()}" not in declared:
                problems.append(
                    f"{source} -> {link.operation_id}: the target has no {where} parameter {name}"
                )
        if link.request_body is not None and "requestBody" not in target:
            problems.append(f"{source} -> {link.operation_id}: the target takes no body")
    return problems
