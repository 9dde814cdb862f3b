"""Building the CapabilityStatement from what each service really supports, and serving it at
`GET /fhir/metadata` (`metadata_router`)."""

from collections.abc import Sequence
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from starlette.responses import Response

from signpost_platform.fhir.responses import FhirResponse
from signpost_platform.fhir.search import SearchParameter
from signpost_platform.routing import CheckedRoute
from signpost_platform.settings import ServiceSettings
from signpost_platform.smart import rest_security
from signpost_platform.urls import base_url
from signpost_schemas.fhir.capability_statement import (
    CapabilityStatement,
    Implementation,
    Operation,
    ResourceInteraction,
    Rest,
    RestResource,
    SearchParam,
    Software,
)

# What every search of every Signpost FHIR service does besides its own parameters (the
# resources' searchParam lists); added to each CapabilityStatement's rest.documentation.
SEARCH_RULES = (
    "Every search takes the result parameters _count (more than the maximum page size is served "
    "as the maximum), _offset, _total (none, estimate, accurate), _summary (count, data, true, "
    "false), _elements (top-level elements; entries tagged SUBSETTED), _format (json) and "
    "_pretty, and _sort where the resource lists sort keys; jQuery's _ cache-buster is ignored. "
    "_id and _lastUpdated are taken where a resource lists them. Unknown parameters and "
    "parameters with an empty value are ignored and reported in an OperationOutcome entry "
    "(search.mode outcome), or refused with 400 under Prefer: handling=strict; a bad value or an "
    "unsupported modifier is refused with 400 either way. Every read and search also answers "
    "HEAD, If-None-Match and If-Modified-Since (304), and 406 to an Accept header that allows no "
    "JSON."
)


def search_params(parameters: Sequence[SearchParameter]) -> list[SearchParam]:
    return [
        SearchParam(
            name=p.name, type=p.type, documentation=p.documentation, definition=p.definition
        )
        for p in parameters
    ]


def read_and_search(
    resource_type: str, profile: str, parameters: Sequence[SearchParameter]
) -> RestResource:
    """A resource its service only reads and searches (with `parameters`)."""
    return RestResource(
        type=resource_type,
        profile=profile,
        interaction=[ResourceInteraction(code="read"), ResourceInteraction(code="search-type")],
        searchParam=search_params(parameters),
    )


def capability_statement(
    *,
    settings: ServiceSettings,
    software: str,
    version: str,
    base_url: str,
    resources: list[RestResource],
    operations: list[Operation] | None = None,
    documentation: str | None = None,
    cors: bool = False,
) -> CapabilityStatement:
    return CapabilityStatement(
        date=datetime.now(UTC).date().isoformat(),
        software=Software(name=software, version=version),
        implementation=Implementation(description=software, url=base_url),
        rest=[
            Rest(
                documentation=f"{documentation} {SEARCH_RULES}" if documentation else SEARCH_RULES,
                security=rest_security(settings, fhir_base=base_url, cors=cors),
                resource=resources,
                operation=operations,
            )
        ],
    )


def metadata_router(
    *,
    software: str,
    version: str,
    documentation: str,
    resources: list[RestResource],
    operations: list[Operation] | None = None,
    cors: bool = False,
    tag: str = "metadata",
    operation_id: str = "capabilities",
    summary: str = "The CapabilityStatement: resources, interactions and search parameters "
    "supported",
    description: str = "The resources, interactions, search parameters and operations this FHIR "
    "endpoint really supports, built from the routes that serve them. Needs no token.",
) -> APIRouter:
    """The router of a service's `GET /fhir/metadata`: its CapabilityStatement, listing
    `resources` and `operations`, for the base URL the request came to and the app's security
    settings (`cors`: the service answers browsers of any origin). Needs no token. `tag`,
    `operation_id`, `summary` and `description` describe the operation in the OpenAPI
    document."""
    router = APIRouter(route_class=CheckedRoute, prefix="/fhir", tags=[tag])

    @router.get(
        "/metadata",
        operation_id=operation_id,
        description=description,
        summary=summary,
        responses={200: {"model": CapabilityStatement, "description": "The CapabilityStatement"}},
    )
    async def capabilities(request: Request) -> Response:
        statement = capability_statement(
            settings=request.app.state.settings,
            software=software,
            version=version,
            base_url=f"{base_url(request)}/fhir",
            documentation=documentation,
            operations=operations,
            resources=resources,
            cors=cors,
        )
        return FhirResponse(statement.to_fhir())

    return router


__all__ = [
    "SEARCH_RULES",
    "Operation",
    "ResourceInteraction",
    "RestResource",
    "capability_statement",
    "metadata_router",
    "search_params",
]
