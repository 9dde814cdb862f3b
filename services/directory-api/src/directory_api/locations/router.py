"""Location curation (scope directory:write). Locations are read nested in services and through
the FHIR view; ORUK 3.0 publishes no /locations endpoint."""

from fastapi import APIRouter
from starlette.responses import Response

from directory_api.bodies import json_response
from directory_api.curation import (
    CREATE_REFUSALS,
    GUARDED_UPDATE_REFUSALS,
    RETIRE_REFUSALS,
    WriteCaller,
)
from directory_api.locations import service
from directory_api.locations.schemas import LocationIn
from directory_api.oruk.params import as_uuid
from directory_api.record_routes import RecordRoutes, document_with_version
from signpost_platform.db import SessionDep
from signpost_platform.routing import CheckedRoute

curation = APIRouter(route_class=CheckedRoute, tags=["curation"])


@curation.get(
    "/locations/{location_id}",
    operation_id="getLocation",
    description="One location as curated, with its addresses and accessibility.",
    summary="One location as curated (retired ones included)",
)
async def get_location(location_id: str, session: SessionDep, _caller: WriteCaller) -> Response:
    stored = await service.LOCATIONS.read(session, as_uuid("id", location_id))
    return json_response(stored.document, version=stored.version)


LOCATIONS = RecordRoutes(
    "/locations", "location_id", LocationIn, service.LOCATIONS.save, document_with_version
)
LOCATIONS.add_create(
    curation,
    operation_id="createLocation",
    description="Adds a location in the ORUK shape; a repeat with the same id and content answers"
    " 200.",
    summary="Create a location (coordinates default to the postcode centroid)",
    responses=CREATE_REFUSALS,
)
LOCATIONS.add_replace(
    curation,
    if_match=True,
    operation_id="updateLocation",
    description="Replaces the location.",
    summary="Replace a location; the services delivered there are re-rendered",
    responses=GUARDED_UPDATE_REFUSALS,
)
LOCATIONS.add_retire(
    curation,
    service.LOCATIONS.retire,
    operation_id="retireLocation",
    description="Retires the location; the change feed reports it.",
    summary="Retire a location no live service uses",
    responses=RETIRE_REFUSALS,
)
