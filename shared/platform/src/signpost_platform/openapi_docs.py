"""Shaping each service's OpenAPI document for the teams that integrate with it.

Applied to every app by `create_app`. On top of what FastAPI generates it:

* refuses to build a document in which an operation has no explicit `operationId` or no tag
  (generated ids change whenever a function is renamed, which breaks integrators' clients);
* registers `OperationOutcome` (FHIR routes) and `Problem` (RFC 9457, every other route) in
  `components.schemas`, and gives every operation its error responses — 400, 401/403 when it
  needs a scope, 404 when its path names a record, 413/415 when it takes a body, 422, 429 and
  500 — each with that schema and an example;
* declares the bearer scheme and, on each operation that needs one, its scope
  (`security` and `x-signpost-scope`); an open operation says so (`security: []`);
* merges in the examples a service registers with `register_examples` (by `operationId`);
* makes the document one that client generators and linters read whole (`openapi_clients`):
  FHIR bodies and answers under both JSON media types, constraints as JSON Schema keywords,
  the servers;
* writes in the links a service registers with `openapi_links.register_links`.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from fastapi import FastAPI, routing
from fastapi.routing import APIRoute
from pydantic import BaseModel

from signpost_platform.auth import required_scope
from signpost_platform.devserver import SERVICES
from signpost_platform.errors import FHIR_JSON, PROBLEM_JSON, STATUS_TITLES, is_fhir_path
from signpost_platform.openapi_clients import (
    declare_correlation_id,
    declare_fhir_media_types,
    publish_constraints,
    servers,
)
from signpost_platform.openapi_links import add_links
from signpost_schemas.fhir.operation_outcome import OperationOutcome

JSON = "application/json"
BODY_METHODS = {"post", "put", "patch"}
HTTP_METHODS = {"get", "post", "put", "patch", "delete", "head", "options"}
# Liveness, readiness and metrics: not rate limited, no body, no record to miss.
PLUMBING_TAG = "health"
SCHEMA_REF = "#/components/schemas/{model}"

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "description": "RFC 9457 problem details; `errors[].parameter` names the offending "
    "parameter or field.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "example": "about:blank"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["code", "detail"],
                "properties": {
                    "code": {"type": "string"},
                    "detail": {"type": "string"},
                    "parameter": {"type": "string"},
                },
            },
        },
    },
}

# status: (description, OperationOutcome issue code, diagnostics)
ERRORS: dict[int, tuple[str, str, str]] = {
    400: ("Malformed request or unknown parameter", "invalid", "unknown parameter: colour"),
    401: ("No valid bearer token", "login", "a bearer token is required"),
    403: (
        "The token lacks the scope this operation needs",
        "forbidden",
        "this operation needs the scope x:write",
    ),
    404: ("No such record", "not-found", "no such record"),
    413: ("The body is over the size limit", "too-long", "the body is over 1048576 bytes"),
    415: ("The body is not JSON", "not-supported", "the body must be JSON"),
    422: ("Well-formed but invalid; nothing was written", "invalid", "status: field required"),
    429: ("Too many requests; retry after Retry-After seconds", "throttled", "too many requests"),
    500: ("Unexpected failure; nothing was written", "exception", "internal error"),
    503: (
        "The database is unavailable for a moment (a restart or failover); retry after "
        "Retry-After seconds",
        "transient",
        "the database is unavailable for a moment",
    ),
}


@dataclass(frozen=True)
class OperationExamples:
    """Examples for one operation: its request body (if any) and its 2xx responses.

    `request_schema` documents the body (a Pydantic model or a JSON schema); routes that read the
    body themselves declare nothing to FastAPI, so without it the body would be undocumented.
    """

    request: Any = None
    request_media_type: str = JSON
    request_schema: type[BaseModel] | dict[str, Any] | None = None
    responses: Mapping[int, Any] = field(default_factory=dict)
    response_media_type: str | None = None


def captured_examples(
    package: str,
    request_schemas: Mapping[str, type[BaseModel] | dict[str, Any]] | None = None,
) -> dict[str, OperationExamples]:
    """A service's examples captured from real runs (`<package>/data/openapi-examples.json`,
    written by the tests' `tests.support.captured_examples`): by operationId, the request sent
    and the answers by status. `request_schemas` documents the bodies of routes that read them
    themselves, by operationId."""
    text = resources.files(package).joinpath("data", "openapi-examples.json").read_text("utf-8")
    schemas = request_schemas or {}
    return {
        operation_id: OperationExamples(
            request=captured.get("request"),
            request_schema=schemas.get(operation_id),
            responses={int(status): body for status, body in captured["responses"].items()},
        )
        for operation_id, captured in json.loads(text).items()
    }


# A production deployment's SMART configuration (auth_mode=jwt with a token endpoint).
SMART_CONFIGURATION_EXAMPLE = OperationExamples(
    response_media_type=JSON,
    responses={
        200: {
            "token_endpoint": "https://auth.signpost.nhs.example/oauth2/token",
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            "grant_types_supported": ["client_credentials"],
            "jwks_uri": "https://auth.signpost.nhs.example/.well-known/jwks.json",
            "scopes_supported": ["directory:write"],
            "capabilities": ["client-confidential-asymmetric"],
            "signpost_auth_mode": "jwt",
            "signpost_description": "OAuth2 bearer tokens (signed JWTs, RS256 or RS512) issued "
            "by https://auth.signpost.nhs.example for the audience signpost-directory-api, with "
            "the scope each operation names. Obtain them at "
            "https://auth.signpost.nhs.example/oauth2/token with the client credentials grant "
            "(SMART Backend Services; client authentication private_key_jwt).",
        }
    },
)

# The health, metrics and authorisation routes every app has.
PLUMBING_EXAMPLES: dict[str, OperationExamples] = {
    "ping": OperationExamples(responses={200: {"status": "ok", "service": "directory"}}),
    "status": OperationExamples(
        responses={
            200: {
                "service": "directory",
                "version": "0.1.0",
                "database": "ok",
                "status": "ok",
                "migrations": {
                    "current": ["a1b2c3d4e5f6"],
                    "head": ["a1b2c3d4e5f6"],
                    "schema": "current",
                },
            },
            503: {
                "service": "directory",
                "version": "0.1.0",
                "status": "unavailable",
                "database": "unreachable",
            },
        }
    ),
    "listAuditEvents": OperationExamples(
        responses={
            200: {
                "events": [
                    {
                        "id": 42,
                        "occurred_at": "2026-11-22T14:03:11.123000+00:00",
                        "subject": "link-worker-17",
                        "client_id": "emis-integration",
                        "organisation_ods": "F84001",
                        "action": "read",
                        "resource_type": "ServiceRequest",
                        "resource_id": "2f1c6a0e-4b7d-4c1e-9f3a-0d5b8e7c6a21",
                        "correlation_id": "b1a7e0c2-5d3f-4e8a-9c6b-2f4d1e7a9c30",
                    }
                ]
            }
        }
    ),
    "smartConfiguration": SMART_CONFIGURATION_EXAMPLE,
    "smartConfigurationAtRoot": SMART_CONFIGURATION_EXAMPLE,
    "metrics": OperationExamples(
        response_media_type="text/plain",
        responses={
            200: "# TYPE http_requests_total counter\n"
            'http_requests_total{method="GET",route="/services",status="200"} 12.0\n'
        },
    ),
}


# Models named by `body_of`, added to `components.schemas` of the documents that use them.
_BODY_MODELS: dict[str, type[BaseModel]] = {}


def body_of(model: type[BaseModel], example: Any, media_types: tuple[str, ...] = ()) -> Any:
    """`openapi_extra` declaring a required request body of `model` (with `example`) for a route
    that reads its body itself, under `media_types` (FHIR JSON and JSON by default)."""
    _BODY_MODELS[model.__name__] = model
    reference = {"$ref": SCHEMA_REF.format(model=model.__name__)}
    return {
        "requestBody": {
            "required": True,
            "content": {
                media: {"schema": reference, "example": example}
                for media in media_types or (FHIR_JSON, JSON)
            },
        }
    }


def register_examples(app: FastAPI, examples: Mapping[str, OperationExamples]) -> None:
    """Attach `examples` (keyed by operationId) to `app`'s OpenAPI document."""
    registered: dict[str, OperationExamples] = getattr(app.state, "openapi_examples", {})
    app.state.openapi_examples = {**registered, **examples}


def install_openapi_shaping(app: FastAPI) -> None:
    """Replace `app.openapi` by one that returns the shaped document (built once, cached)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            check_operations(app)
            document = generate()
            shape(document, app)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def check_operations(app: FastAPI) -> None:
    """Fail loudly if a documented route has no explicit operationId or no tag, or ids clash."""
    seen: dict[str, str] = {}
    problems = []
    for route in _documented_routes(app):
        where = f"{sorted(route.methods)} {route.path}"
        if not route.operation_id:
            problems.append(f"{where}: no explicit operation_id")
        elif route.operation_id in seen:
            problems.append(
                f"{where}: operation_id {route.operation_id} also used by "
                f"{seen[route.operation_id]}"
            )
        else:
            seen[route.operation_id] = where
        if not route.tags:
            problems.append(f"{where}: no tag")
    if problems:
        raise RuntimeError("OpenAPI operations need stable ids and tags:\n" + "\n".join(problems))


def shape(document: dict[str, Any], app: FastAPI) -> None:
    """Add error schemas and responses, security, registered examples and links to `document`."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    _add_error_schemas(schemas)
    document["components"].setdefault("securitySchemes", {})["bearer"] = {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "An NHS login / CIS2 style JWT checked against the configured JWKS "
        "(development: a token minted with `python -m signpost_platform.auth`).",
    }
    scopes = operation_scopes(app)
    registered: Mapping[str, OperationExamples] = getattr(app.state, "openapi_examples", {})
    unknown = set(registered) - set(scopes)
    if unknown:
        raise RuntimeError(f"examples registered for unknown operationIds: {sorted(unknown)}")
    plumbing = {key: value for key, value in PLUMBING_EXAMPLES.items() if key in scopes}
    examples = {**plumbing, **registered}
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            operation_id = operation["operationId"]
            scope = scopes.get(operation_id)
            # An open operation says so: no security at all reads as "undeclared".
            operation["security"] = [{"bearer": []}] if scope else []
            if scope:
                operation["x-signpost-scope"] = scope
            if operation_id in examples:
                _add_examples(operation, path, examples[operation_id], schemas)
            if PLUMBING_TAG not in operation.get("tags", []):
                _add_error_responses(operation, path, method, needs_scope=scope is not None)
            # Discovery documents (`/.well-known/...`) are plain JSON, under the FHIR base too.
            if is_fhir_path(path) and "/.well-known/" not in path:
                declare_fhir_media_types(operation)
            declare_correlation_id(operation)
    add_links(document, app)
    _drop_unused(document, ("HTTPValidationError", "ValidationError"))
    _add_body_models(document, schemas)
    publish_constraints(document)
    ports = {name: port for name, _factory, port in SERVICES}
    document["servers"] = servers(ports.get(getattr(app.state, "service_name", "")))


def operation_scopes(app: FastAPI) -> dict[str, str | None]:
    """The scope each documented operation needs (None: no token), by operationId."""
    return {
        route.operation_id: required_scope(route.dependant) for route in _documented_routes(app)
    }


def error_example(path: str, status: int) -> dict[str, Any]:
    """The error body `status` has on `path` (OperationOutcome under /fhir, else Problem)."""
    _description, code, diagnostics = ERRORS[status]
    if is_fhir_path(path):
        return {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": code, "diagnostics": diagnostics}],
        }
    return {
        "type": "about:blank",
        "title": STATUS_TITLES[status],
        "status": status,
        "detail": diagnostics,
        "errors": [{"code": code, "detail": diagnostics}],
    }


def _documented_routes(app: FastAPI) -> list[Any]:
    """Every route in the document, with the tags and dependencies of the routers it is in."""
    # FastAPI >= 0.165 keeps included routers lazily; a route context carries what inclusion adds.
    contexts = getattr(routing, "iter_route_contexts", None)
    routes = (
        [c for c in contexts(app.routes) if isinstance(c.original_route, APIRoute)]
        if contexts is not None
        else [r for r in app.routes if isinstance(r, APIRoute)]
    )
    return [route for route in routes if route.include_in_schema]


def _add_error_schemas(schemas: dict[str, Any]) -> None:
    generated = OperationOutcome.model_json_schema(ref_template=SCHEMA_REF)
    for name, definition in generated.pop("$defs", {}).items():
        schemas.setdefault(name, definition)
    schemas.setdefault("OperationOutcome", generated)
    schemas["Problem"] = PROBLEM_SCHEMA


def _applicable_errors(path: str, method: str, needs_scope: bool) -> list[int]:
    statuses = [400, 422, 429, 500, 503]
    if needs_scope:
        statuses += [401, 403]
    if "{" in path:
        statuses.append(404)
    if method in BODY_METHODS:
        statuses += [413, 415]
    return sorted(statuses)


def _add_error_responses(
    operation: dict[str, Any], path: str, method: str, needs_scope: bool
) -> None:
    media_type, ref = (
        (FHIR_JSON, "OperationOutcome") if is_fhir_path(path) else (PROBLEM_JSON, "Problem")
    )
    responses = operation.setdefault("responses", {})
    statuses = set(_applicable_errors(path, method, needs_scope))
    statuses |= {int(code) for code in responses if code.isdigit() and int(code) >= 400}
    for status in sorted(statuses):
        response = responses.setdefault(str(status), {})
        response.setdefault("description", ERRORS.get(status, ("Error",))[0])
        content = response.get("content", {})
        # FastAPI's own 422 schema describes its default handler, not the one installed here.
        content.pop(JSON, None)
        entry = content.setdefault(media_type, {})
        entry["schema"] = {"$ref": f"#/components/schemas/{ref}"}
        if "example" not in entry and "examples" not in entry:
            entry["example"] = (
                error_example(path, status) if status in ERRORS else _generic_error(path, status)
            )
        response["content"] = content
        if status in (429, 503):
            response.setdefault("headers", {})["Retry-After"] = {
                "description": "Seconds to wait before retrying",
                "schema": {"type": "integer"},
            }


def _generic_error(path: str, status: int) -> dict[str, Any]:
    description = "request refused"
    if is_fhir_path(path):
        return {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": "processing", "diagnostics": description}],
        }
    return {"type": "about:blank", "title": "Error", "status": status, "detail": description}


def _add_examples(
    operation: dict[str, Any], path: str, examples: OperationExamples, schemas: dict[str, Any]
) -> None:
    if examples.request is not None:
        body = operation.setdefault("requestBody", {"required": True, "content": {}})
        content = body.setdefault("content", {})
        if not content:
            content[examples.request_media_type] = {
                "schema": _schema(examples.request_schema, schemas)
            }
        for entry in content.values():
            entry["example"] = examples.request
    default_media_type = examples.response_media_type or (FHIR_JSON if is_fhir_path(path) else JSON)
    for status, example in examples.responses.items():
        response = operation.setdefault("responses", {}).setdefault(
            str(status), {"description": "Success"}
        )
        content = response.setdefault("content", {})
        if not content:
            content[default_media_type] = {"schema": {}}
        elif (
            default_media_type not in content
            and JSON in content
            and content[JSON] == {"schema": {}}
        ):
            # The route answers with its own media type; FastAPI assumed JSON.
            content[default_media_type] = content.pop(JSON)
        for entry in content.values():
            entry["example"] = example


def _schema(
    schema: type[BaseModel] | dict[str, Any] | None, schemas: dict[str, Any]
) -> dict[str, Any]:
    """A reference to `schema` in components (a model), the schema itself, or any object."""
    if schema is None:
        return {"type": "object"}
    if isinstance(schema, dict):
        return schema
    generated = schema.model_json_schema(ref_template=SCHEMA_REF)
    for name, definition in generated.pop("$defs", {}).items():
        schemas.setdefault(name, definition)
    schemas.setdefault(schema.__name__, generated)
    return {"$ref": SCHEMA_REF.format(model=schema.__name__)}


def _add_body_models(document: dict[str, Any], schemas: dict[str, Any]) -> None:
    """The schemas of the `body_of` models `document` names."""
    text = repr(document.get("paths", {}))
    for name, model in _BODY_MODELS.items():
        if f"'{SCHEMA_REF.format(model=name)}'" in text:
            _schema(model, schemas)


def _drop_unused(document: dict[str, Any], names: tuple[str, ...]) -> None:
    schemas = document.get("components", {}).get("schemas", {})
    for name in names:
        schemas.pop(name, None)
    text = repr(document)
    for name in names:
        if f"#/components/schemas/{name}'" in text:
            raise RuntimeError(f"{name} is still referenced after shaping")
