"""FHIR Observation endpoints: the answers extracted from completed responses (read, search)."""

from typing import Annotated

from fastapi import APIRouter, Request
from starlette.responses import Response

from screening_api.access import Reach
from screening_api.audit import trail
from screening_api.observations import service
from screening_api.observations.search import PARAMETERS
from signpost_platform.auth import Caller, require_scope
from signpost_platform.db import SessionDep
from signpost_platform.fhir.responses import FhirResponse
from signpost_platform.fhir.search import (
    declare_search,
    search_description,
    search_request,
    searchset,
)
from signpost_platform.routing import CheckedRoute
from signpost_platform.urls import base_url
from signpost_schemas.fhir.bundle import searchset_of
from signpost_schemas.fhir.screening_observation import ScreeningObservation

router = APIRouter(route_class=CheckedRoute, prefix="/fhir/Observation", tags=["Observation"])

ReadCaller = Annotated[Caller, require_scope("screening:read")]


@router.get(
    "",
    operation_id="searchObservation",
    summary="Search extracted Observations",
    description=search_description(PARAMETERS),
    openapi_extra=declare_search(PARAMETERS),
    responses={
        200: {
            "model": searchset_of(ScreeningObservation),
            "description": "A searchset Bundle of Observations with total and paging links",
        }
    },
)
async def search_observations(
    request: Request, session: SessionDep, caller: ReadCaller
) -> Response:
    parsed = await search_request(request, PARAMETERS)
    total, rows = await service.search_observations(session, parsed, Reach.of(caller))
    returned = [r.id for r in rows] if parsed.returns_entries else []
    await trail.record(session, caller, "search", "Observation", returned_ids=returned)
    resource_base = f"{base_url(request)}/fhir/Observation"
    return FhirResponse(
        searchset(resource_base, parsed, [(r.id, r.resource.encode()) for r in rows], total)
    )


@router.get(
    "/{observation_id}",
    operation_id="readObservation",
    description="One Observation extracted from a completed screening response: the question, the"
    " answer, and POS when it flags its domain. 404 when the response's clinic is not"
    " the caller's.",
    summary="Read an Observation",
    responses={200: {"model": ScreeningObservation, "description": "The Observation"}},
)
async def read_observation(
    observation_id: str, session: SessionDep, caller: ReadCaller
) -> Response:
    stored = await service.read_observation(session, observation_id, Reach.of(caller))
    await trail.record(session, caller, "read", "Observation", observation_id)
    return FhirResponse(stored.resource.encode())
