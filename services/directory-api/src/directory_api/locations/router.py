"""Location curation (scope directory:write). Locations are read nested in services and through
the FHIR view; ORUK 3.0 publishes no /locations endpoint."""

from typing import Annotated

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
from directory_api.locations import service
from directory_api.locations.schemas import LocationIn
from directory_api.oruk.params import as_uuid
from signpost_platform.auth import Caller, require_scope
from signpost_platform.db import SessionDep
from signpost_platform.urls import base_url

curation = APIRouter(tags=["curation"])
WriteCaller = Annotated[Caller, require_scope("directory:write")]


@curation.get(
    "/locations/{location_id}",
    operation_id="getLocation",
    description="One location as curated, with its addresses and accessibility.",
    summary="One location as curated (retired ones included)",
)
async def get_location(location_id: str, session: SessionDep, _caller: WriteCaller) -> Response:
    stored = await service.read_location(session, as_uuid("id", location_id))
    return json_response(stored.document, version=stored.version)


@curation.post(
    "/locations",
    operation_id="createLocation",
    description="Adds a location in the ORUK shape; a repeat with the same id and content answers"
    " 200.",
    status_code=201,
    summary="Create a location (coordinates default to the postcode centroid)",
    responses=CREATE_REFUSALS,
)
async def create_location(request: Request, session: SessionDep, _caller: WriteCaller) -> Response:
    payload = await parse_body(request, LocationIn)
    stored, outcome = await service.save_location(session, payload, WriteMode.CREATE)
    return json_response(
        stored.document,
        201 if outcome is Outcome.CREATED else 200,
        stored.version,
        {"Location": f"{base_url(request)}/locations/{stored.id}"},
    )


@curation.put(
    "/locations/{location_id}",
    operation_id="updateLocation",
    description="Replaces the location.",
    summary="Replace a location; the services delivered there are re-rendered",
    responses=GUARDED_UPDATE_REFUSALS,
)
async def update_location(
    location_id: str,
    request: Request,
    session: SessionDep,
    _caller: WriteCaller,
    if_match: Annotated[str | None, Header()] = None,
) -> Response:
    payload = await parse_body(request, LocationIn)
    stored, _ = await service.save_location(
        session, payload, WriteMode.UPDATE, as_uuid("id", location_id), expected_version(if_match)
    )
    return json_response(stored.document, version=stored.version)


@curation.post(
    "/locations/{location_id}/retire",
    operation_id="retireLocation",
    description="Retires the location; the change feed reports it.",
    summary="Retire a location no live service uses",
    responses=RETIRE_REFUSALS,
)
async def retire_location(location_id: str, session: SessionDep, _caller: WriteCaller) -> Response:
    stored = await service.retire_location(session, as_uuid("id", location_id))
    return json_response(stored.document, version=stored.version)
