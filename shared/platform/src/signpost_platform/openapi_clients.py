"""What client generators (openapi-python-client, openapi-typescript) and linters (Redocly's
recommended rules) need from an OpenAPI document, applied by `openapi_docs.shape`:

* FHIR bodies and answers under both `application/fhir+json` and `application/json`, each with
  the schema and example: generators read the first JSON media type they meet, so a schema under
  one of them alone types the answer as nothing in half the clients;
* constraints as JSON Schema keywords (`minimum`, `maximum`, ...): Pydantic writes a constraint
  it cannot place on a union of types under its own name (`ge`), which no tool reads;
* the correlation id every operation reads (`X-Correlation-Id`), as an optional header: besides
  telling integrators they may name their requests, it gives every generated function an
  optional argument, without which openapi-python-client 0.29 writes `body: X | Unset` for a
  required body offered under two media types and does not import `Unset`;
* the servers the service is reached at.
"""

from typing import Any

from signpost_platform.errors import FHIR_JSON
from signpost_platform.logging import CORRELATION_ID_PATTERN

JSON = "application/json"
FHIR_MEDIA_TYPES = (FHIR_JSON, JSON)
# Pydantic's constraint names → JSON Schema's.
CONSTRAINTS = {
    "ge": "minimum",
    "le": "maximum",
    "gt": "exclusiveMinimum",
    "lt": "exclusiveMaximum",
}
# JSON Schema keywords whose value is a schema, a list of schemas, or a map of names to schemas.
_SCHEMA = ("items", "additionalProperties", "not", "if", "then", "else", "contains")
_SCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_SCHEMA_MAPS = ("properties", "$defs", "patternProperties", "dependentSchemas")


def declare_fhir_media_types(operation: dict[str, Any]) -> None:
    """Offer the request body and every JSON answer of a FHIR operation under both FHIR media
    types, with the schema and example declared under either."""
    bodies = [operation.get("requestBody", {}), *operation.get("responses", {}).values()]
    for body in bodies:
        content = body.get("content")
        if not content or not any(media in content for media in FHIR_MEDIA_TYPES):
            continue
        declared = [content.get(media, {}) for media in FHIR_MEDIA_TYPES]
        merged: dict[str, Any] = {}
        for key in ("schema", "example", "examples"):
            found = next((entry[key] for entry in declared if entry.get(key)), None)
            if found is not None:
                merged[key] = found
        for media in FHIR_MEDIA_TYPES:
            content[media] = {**content.get(media, {}), **merged}


def publish_constraints(node: Any) -> None:
    """Rename Pydantic's constraint keys to JSON Schema's in every schema under `node`."""
    if isinstance(node, list):
        for item in node:
            publish_constraints(item)
        return
    if not isinstance(node, dict):
        return
    if "schema" in node and isinstance(node["schema"], dict):
        _publish_in_schema(node["schema"])
    for key, value in node.items():
        if key == "schemas" and isinstance(value, dict):
            for schema in value.values():
                _publish_in_schema(schema)
        elif key != "schema":
            publish_constraints(value)


def _publish_in_schema(schema: Any) -> None:
    if not isinstance(schema, dict):
        return
    for pydantic_name, json_schema_name in CONSTRAINTS.items():
        if pydantic_name in schema and json_schema_name not in schema:
            schema[json_schema_name] = schema.pop(pydantic_name)
    for key in _SCHEMA:
        _publish_in_schema(schema.get(key))
    for key in _SCHEMA_LISTS:
        for item in schema.get(key, []) or []:
            _publish_in_schema(item)
    for key in _SCHEMA_MAPS:
        for item in (schema.get(key) or {}).values():
            _publish_in_schema(item)


CORRELATION_ID: dict[str, Any] = {
    "name": "X-Correlation-Id",
    "in": "header",
    "required": False,
    "description": "Your id for this request (else X-Request-Id, else one is made): echoed in "
    "the answer's X-Correlation-Id and written on the service's log lines for it",
    "schema": {"type": "string", "pattern": CORRELATION_ID_PATTERN},
    "example": "emis-2026-10-01-000123",
}


def declare_correlation_id(operation: dict[str, Any]) -> None:
    """Add the optional `X-Correlation-Id` header to `operation`'s parameters."""
    parameters = operation.setdefault("parameters", [])
    if not any(p.get("name", "").lower() == "x-correlation-id" for p in parameters):
        parameters.append(dict(CORRELATION_ID))


def servers(development_port: int | None) -> list[dict[str, str]]:
    """Where the service answers: where its document was read from, and `make run`'s port."""
    found = [{"url": "/", "description": "The host this document was read from"}]
    if development_port is not None:
        found.append(
            {
                "url": f"http://127.0.0.1:{development_port}",
                "description": "Development (`make run`; not for personal data)",
            }
        )
    return found
