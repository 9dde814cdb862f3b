"""`POST /fhir/Task`: record that a person was invited to complete a screening questionnaire."""

from typing import Annotated

from fastapi import APIRouter, Request
from starlette.responses import Response

from screening_api.access import Reach
from screening_api.invitations import service
from signpost_platform.auth import Caller, require_scope
from signpost_platform.db import SessionDep
from signpost_platform.fhir.parsing import parse_resource, require_json
from signpost_platform.fhir.responses import FhirResponse, version_headers
from signpost_platform.routing import CheckedRoute
from signpost_platform.urls import base_url
from signpost_schemas.fhir.screening_invitation import InvitationTask

router = APIRouter(route_class=CheckedRoute, prefix="/fhir/Task", tags=["Task"])

WriteCaller = Annotated[Caller, require_scope("screening:write")]


@router.post(
    "",
    operation_id="createInvitationTask",
    description="Records that a person was invited to complete a screening questionnaire (a Task "
    "with code complete-questionnaire), so the process metrics count them as invited.",
    summary="Record an invitation to complete a screening questionnaire (counted as invited)",
    status_code=201,
    responses={
        201: {"model": InvitationTask, "description": "Recorded; Location names the Task"},
        422: {
            "description": "Not complete-questionnaire, or an unknown or retired "
            "questionnaire (OperationOutcome)"
        },
    },
)
async def create_invitation(request: Request, session: SessionDep, caller: WriteCaller) -> Response:
    reach = Reach.of(caller)
    require_json(request)
    task = parse_resource(await request.body(), InvitationTask, "Task")
    stored = await service.record(session, request.app.state.questionnaires, task, reach)
    headers = version_headers(1, stored.recorded_at)
    headers["Location"] = f"{base_url(request)}/fhir/Task/{stored.id}"
    return FhirResponse(stored.resource.encode(), 201, headers)
