"""ORUK organisation reads (public) and organisation curation (scope directory:write)."""

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from directory_api.bodies import json_response
from directory_api.curation import CREATE_REFUSALS, GUARDED_UPDATE_REFUSALS, RETIRE_REFUSALS
from directory_api.organizations import service
from directory_api.organizations.schemas import OrganizationIn
from directory_api.organizations.search import LIST_PARAMETERS, READ_PARAMETERS
from directory_api.oruk.pages import envelope, read_list
from directory_api.oruk.params import QueryReader, as_uuid
from directory_api.record_routes import RecordRoutes, document_with_version
from signpost_platform.db import ReadSessionDep
from signpost_platform.parameters import declare
from signpost_platform.routing import CheckedRoute

router = APIRouter(route_class=CheckedRoute, tags=["Open Referral UK"])
curation = APIRouter(route_class=CheckedRoute, tags=["curation"])


@router.get(
    "/organizations",
    operation_id="getPaginatedListOfOrganizations",
    description="ORUK organizations in the paginated envelope.",
    summary="Organisations (paginated); `search` on name and description",
    openapi_extra=declare(LIST_PARAMETERS),
)
async def list_organizations(request: Request, session: ReadSessionDep) -> Response:
    query, page = read_list(request, LIST_PARAMETERS)
    query.boolean("full")
    query.boolean("full_service")
    total, rows = await service.list_organizations(session, query.search_text(), page)
    return json_response(envelope(total, page, [row.document.encode() for row in rows]))


@router.get(
    "/organizations/{organization_id}",
    operation_id="getOrganizationById",
    description="One ORUK organization with its services.",
    summary="One organisation with its services (ids and names; full_service=true nests them)",
    responses={404: {"description": "No such organisation"}},
    openapi_extra=declare(READ_PARAMETERS),
)
async def get_organization(
    organization_id: str, request: Request, session: ReadSessionDep
) -> Response:
    query = QueryReader(list(request.query_params.multi_items()), READ_PARAMETERS)
    stored, document = await service.read_with_services(
        session, as_uuid("id", organization_id), full_services=bool(query.boolean("full_service"))
    )
    return json_response(orjson.dumps(document), version=stored.version)


ORGANIZATIONS = RecordRoutes(
    "/organizations",
    "organization_id",
    OrganizationIn,
    service.ORGANIZATIONS.save,
    document_with_version,
)
ORGANIZATIONS.add_create(
    curation,
    operation_id="createOrganization",
    description="Adds an organisation in the ORUK shape; a repeat with the same id and content "
    "answers 200.",
    summary="Create an organisation (a repeat with the same id and content returns 200)",
    responses=CREATE_REFUSALS,
)
ORGANIZATIONS.add_replace(
    curation,
    if_match=True,
    operation_id="updateOrganization",
    description="Replaces the organisation.",
    summary="Replace an organisation; its services are re-rendered",
    responses=GUARDED_UPDATE_REFUSALS,
)
ORGANIZATIONS.add_retire(
    curation,
    service.ORGANIZATIONS.retire,
    operation_id="retireOrganization",
    description="Retires the organisation; the change feed reports it.",
    summary="Retire an organisation that no longer provides live services",
    responses=RETIRE_REFUSALS,
)
