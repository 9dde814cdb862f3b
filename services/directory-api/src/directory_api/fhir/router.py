"""The FHIR R4 view: HealthcareService, Location and Organization reads and searches, metadata.

Resources are rendered when the directory changes and served from storage. Errors here are
OperationOutcomes (the platform renders errors by path).
"""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypedDict, Unpack

from fastapi import APIRouter, Path, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from directory_api import __version__
from directory_api.documents.fhir import UK_CORE
from directory_api.fhir import service
from directory_api.fhir.search import (
    HEALTHCARE_SERVICE_PARAMETERS,
    NAME_PARAMETERS,
    parse_near,
)
from directory_api.oruk.params import as_uuid
from directory_api.services.search import Page
from signpost_platform.db import ReadSessionDep
from signpost_platform.errors import BadRequest, NotFound
from signpost_platform.fhir.capability import (
    ResourceInteraction,
    RestResource,
    metadata_router,
    search_params,
)
from signpost_platform.fhir.responses import FhirResponse
from signpost_platform.fhir.search import (
    SearchParameter,
    SearchQuery,
    declare_search,
    parse_date,
    parse_token,
    search_request,
    searchset,
)
from signpost_platform.routing import CheckedRoute
from signpost_platform.urls import base_url
from signpost_schemas.fhir.base import FhirResource
from signpost_schemas.fhir.bundle import searchset_of
from signpost_schemas.fhir.directory import HealthcareService, Location, Organization

router = APIRouter(route_class=CheckedRoute, prefix="/fhir", tags=["FHIR"])


def _one(model: type[FhirResource]) -> dict[int | str, dict[str, Any]]:
    return {200: {"model": model, "description": f"The {model.__name__}"}}


def _searchset(model: type[FhirResource]) -> dict[int | str, dict[str, Any]]:
    return {
        200: {
            "model": searchset_of(model),
            "description": f"A searchset Bundle of {model.__name__}s with total and paging links",
        }
    }


def _resource(kind: str, parameters: list[SearchParameter]) -> RestResource:
    return RestResource(
        type=kind,
        profile=f"{UK_CORE}/UKCore-{kind}",
        interaction=[ResourceInteraction(code="read"), ResourceInteraction(code="search-type")],
        versioning="no-version",
        readHistory=False,
        updateCreate=False,
        conditionalCreate=False,
        conditionalUpdate=False,
        searchParam=search_params(parameters),
    )


metadata = metadata_router(
    software="Signpost directory-api",
    version=__version__,
    documentation="A read-only FHIR view of the Signpost directory (Open Referral UK at the "
    "service root). Every search also takes _count, _offset, _total, _summary, _elements, "
    "_format and _pretty; unknown and empty parameters are ignored and reported in an "
    "OperationOutcome entry (refused under Prefer: handling=strict). Every error is an "
    "OperationOutcome.",
    resources=[
        _resource("HealthcareService", HEALTHCARE_SERVICE_PARAMETERS),
        _resource("Location", NAME_PARAMETERS),
        _resource("Organization", NAME_PARAMETERS),
    ],
    cors=True,
    tag="FHIR",
    operation_id="directoryCapabilities",
    summary="The CapabilityStatement of the FHIR view",
    description="The resources, interactions and search parameters the FHIR view supports. Needs "
    "no token.",
)


@router.get(
    "/HealthcareService",
    operation_id="searchHealthcareService",
    summary="Search services as UK Core HealthcareService",
    description="`_offset` must be a multiple of `_count`.",
    openapi_extra=declare_search(HEALTHCARE_SERVICE_PARAMETERS),
    responses=_searchset(HealthcareService),
)
async def search_healthcare_services(request: Request, session: ReadSessionDep) -> Response:
    parsed = await search_request(request, HEALTHCARE_SERVICE_PARAMETERS)
    active = _single(parsed, "active")
    if active not in (None, "true", "false"):
        raise BadRequest("active must be true or false", expression="active")
    if parsed.count and parsed.offset % parsed.count:
        raise BadRequest("_offset must be a multiple of _count", expression="_offset")
    near = _single(parsed, "location.near")
    total, hits = await service.search_healthcare_services(
        session,
        service_types=[
            [parse_token("service-type", v) for v in occurrence]
            for occurrence in parsed.occurrences("service-type")
        ],
        name_starts=_single(parsed, "name"),
        name_contains=_single(parsed, "name:contains"),
        near=parse_near(near) if near else None,
        active=None if active is None else active == "true",
        last_updated=[parse_date("_lastUpdated", v) for v in parsed.values.get("_lastUpdated", [])],
        page=Page(parsed.offset // parsed.rows_read + 1, parsed.rows_read),
        ids=parsed.ids(),
    )
    resource_base = f"{base_url(request)}/fhir/HealthcareService"
    return FhirResponse(
        searchset(resource_base, parsed, [(hit.id, hit.body.encode()) for hit in hits], total)
    )


class RouteText(TypedDict):
    """What a route says of itself in the OpenAPI document."""

    operation_id: str
    description: str
    summary: str


def _add_read(
    kind: str,
    model: type[FhirResource],
    parameter: str,
    read: Callable[[AsyncSession, str], Awaitable[str]],
    **text: Unpack[RouteText],
) -> None:
    """GET /fhir/{kind}/{id}: the stored resource; an id that is not a UUID is simply unknown."""

    async def read_resource(
        record_id: Annotated[str, Path(alias=parameter)], session: ReadSessionDep
    ) -> Response:
        return FhirResponse((await read(session, _id(record_id))).encode())

    path = f"/{kind}/{{{parameter}}}"
    router.add_api_route(path, read_resource, methods=["GET"], responses=_one(model), **text)


def _add_named_resource(
    kind: service.NamedKind,
    model: type[FhirResource],
    parameter: str,
    *,
    search: RouteText,
    read: RouteText,
) -> None:
    """The search (NAME_PARAMETERS) and the read of a kind served from its own records."""

    async def search_resources(request: Request, session: ReadSessionDep) -> Response:
        parsed = await search_request(request, NAME_PARAMETERS)
        total, rows = await service.search_named(
            session,
            kind,
            _single(parsed, "name"),
            parsed.rows_read,
            parsed.offset,
            ids=parsed.ids(),
            last_updated=parsed.last_updated(),
        )
        entries = [(row.id, row.fhir_resource.encode()) for row in rows]
        return FhirResponse(searchset(f"{base_url(request)}/fhir/{kind}", parsed, entries, total))

    async def read_resource(session: AsyncSession, record_id: str) -> str:
        return await service.read_named(session, kind, record_id)

    router.add_api_route(
        f"/{kind}",
        search_resources,
        methods=["GET"],
        openapi_extra=declare_search(NAME_PARAMETERS),
        responses=_searchset(model),
        **search,
    )
    _add_read(kind, model, parameter, read_resource, **read)


_add_read(
    "HealthcareService",
    HealthcareService,
    "service_id",
    service.read_healthcare_service,
    operation_id="readHealthcareService",
    description="A directory service rendered as a UK Core HealthcareService: types from its "
    "taxonomy terms, locations, opening times, languages, cost and eligibility. 404 "
    "for an unknown id.",
    summary="One service as a UK Core HealthcareService",
)
_add_named_resource(
    "Location",
    Location,
    "location_id",
    search=RouteText(
        operation_id="searchLocation",
        description="Locations as UK Core Location, by name, id and last update, in pages "
        "with total and paging links.",
        summary="Search locations",
    ),
    read=RouteText(
        operation_id="readLocation",
        description="A directory location as a UK Core Location, with its address and "
        "position. 404 for an unknown id.",
        summary="One location",
    ),
)
_add_named_resource(
    "Organization",
    Organization,
    "organization_id",
    search=RouteText(
        operation_id="searchOrganization",
        description="Organisations as UK Core Organization, by name, id and last update, "
        "in pages with total and paging links.",
        summary="Search organisations",
    ),
    read=RouteText(
        operation_id="readOrganization",
        description="A directory organisation as a UK Core Organization. 404 for an unknown id.",
        summary="One organisation",
    ),
)


def _single(parsed: SearchQuery, name: str) -> str | None:
    values = parsed.values.get(name, [])
    if len(values) > 1:
        raise BadRequest(f"{name} may be given once", expression=name)
    return values[0] if values else None


def _id(value: str) -> str:
    try:
        return as_uuid("id", value)
    except BadRequest:
        raise NotFound(f"no resource with id {value}", expression="id") from None
