"""ORUK organisation reads (public) and organisation curation (scope directory:write)."""

from typing import Annotated

import orjson
from fastapi import APIRouter, Header, Request
from starlette.responses import Response

from directory_api.bodies import expected_version, json_response, parse_body
from directory_api.curation import (
    CREATE_REFUSALS,
    GUARDED_UPDATE_REFUSALS,
    RETIRE_REFUSALS,
    Outcome,
    WriteMode,
)
from directory_api.organizations import service
from directory_api.organizations.schemas import OrganizationIn
from directory_api.organizations.search import LIST_PARAMETERS, READ_PARAMETERS
from directory_api.oruk.pages import envelope, read_list_page
from directory_api.oruk.params import QueryReader, as_uuid
from signpost_platform.auth import Caller, require_scope
from signpost_platform.db import ReadSessionDep, SessionDep
from signpost_platform.parameters import declare
from signpost_platform.urls import base_url

router = APIRouter(tags=["Open Referral UK"])
curation = APIRouter(tags=["curation"])
WriteCaller = Annotated[Caller, require_scope("directory:write")]


@router.get(
    "/organizations",
    operation_id="getPaginatedListOfOrganizations",
    description="ORUK organizations in the paginated envelope.",
    summary="Organisations (paginated); `search` on name and description",
    openapi_extra=declare(LIST_PARAMETERS),
)
async def list_organizations(request: Request, session: ReadSessionDep) -> Response:
    settings = request.app.state.settings
    query = QueryReader(list(request.query_params.multi_items()), LIST_PARAMETERS)
    query.boolean("full")
    query.boolean("full_service")
    page = read_list_page(query, settings.oruk_default_per_page, settings.oruk_max_per_page)
    total, rows = await service.list_organizations(
        session, query.text("search") or query.text("text"), page
    )
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


@curation.post(
    "/organizations",
    operation_id="createOrganization",
    description="Adds an organisation in the ORUK shape; a repeat with the same id and content "
    "answers 200.",
    status_code=201,
    summary="Create an organisation (a repeat with the same id and content returns 200)",
    responses=CREATE_REFUSALS,
)
async def create_organization(
    request: Request, session: SessionDep, _caller: WriteCaller
) -> Response:
    payload = await parse_body(request, OrganizationIn)
    stored, outcome = await service.save_organization(session, payload, WriteMode.CREATE)
    return json_response(
        stored.document,
        201 if outcome is Outcome.CREATED else 200,
        stored.version,
        {"Location": f"{base_url(request)}/organizations/{stored.id}"},
    )


@curation.put(
    "/organizations/{organization_id}",
    operation_id="updateOrganization",
    description="Replaces the organisation.",
    summary="Replace an organisation; its services are re-rendered",
    responses=GUARDED_UPDATE_REFUSALS,
)
async def update_organization(
    organization_id: str,
    request: Request,
    session: SessionDep,
    _caller: WriteCaller,
    if_match: Annotated[str | None, Header()] = None,
) -> Response:
    payload = await parse_body(request, OrganizationIn)
    stored, _ = await service.save_organization(
        session,
        payload,
        WriteMode.UPDATE,
        as_uuid("id", organization_id),
        expected_version(if_match),
    )
    return json_response(stored.document, version=stored.version)


@curation.post(
    "/organizations/{organization_id}/retire",
    operation_id="retireOrganization",
    description="Retires the organisation; the change feed reports it.",
    summary="Retire an organisation that no longer provides live services",
    responses=RETIRE_REFUSALS,
)
async def retire_organization(
    organization_id: str, session: SessionDep, _caller: WriteCaller
) -> Response:
    stored = await service.retire_organization(session, as_uuid("id", organization_id))
    return json_response(stored.document, version=stored.version)
