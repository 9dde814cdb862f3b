"""FHIR QuestionnaireResponse endpoints: thin — parse, authorise, call the service, respond."""

from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from starlette.background import BackgroundTask
from starlette.responses import Response

from screening_api.access import Reach
from screening_api.audit import trail
from screening_api.responses import service
from screening_api.responses.outcome import with_outcome
from screening_api.responses.service import Submission
from signpost_platform.auth import Caller, require_scope
from signpost_platform.db import SessionDep
from signpost_platform.fhir.parsing import parse_resource, require_json
from signpost_platform.fhir.preconditions import if_none_exist_identifier, required_version
from signpost_platform.fhir.responses import FhirResponse, version_headers
from signpost_platform.routing import CheckedRoute
from signpost_platform.urls import base_url
from signpost_schemas.fhir.screening_response import ScreeningResponse

router = APIRouter(
    route_class=CheckedRoute, prefix="/fhir/QuestionnaireResponse", tags=["QuestionnaireResponse"]
)

ReadCaller = Annotated[Caller, require_scope("screening:read")]
WriteCaller = Annotated[Caller, require_scope("screening:write")]
RESOURCE = "QuestionnaireResponse"

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Malformed JSON, wrong resourceType or an unknown element"},
    401: {"description": "No valid bearer token"},
    403: {"description": "The token lacks the scope"},
    422: {
        "description": "The response breaks its questionnaire: unknown or retired version, "
        "unknown linkId, an answer outside the options, two answers to one item, an answer "
        "to a disabled item, a required item unanswered. Every issue names its item."
    },
}


def _filing(request: Request, caller: Caller) -> service.Filing:
    """The caller's reach and organisation, and the referral routes."""
    routes = request.app.state.settings.referral_routes
    return service.Filing(Reach.of(caller), caller.organisation_ods, routes)


def _respond(request: Request, submission: Submission, status: int) -> Response:
    stored = submission.response
    headers = version_headers(stored.version, stored.last_updated_at)
    headers["Location"] = f"{base_url(request)}/fhir/QuestionnaireResponse/{stored.id}"
    settings = request.app.state.settings
    body = with_outcome(stored.resource, submission.outcome, settings.referral_api_url)
    worker = getattr(request.app.state, "handoff_worker", None)
    # After the response is sent, so after the commit: the worker then finds the new row.
    wake = BackgroundTask(worker.wake) if worker and submission.outcome else None
    return FhirResponse(body, status, headers, background=wake)


@router.post(
    "",
    operation_id="createQuestionnaireResponse",
    summary="Submit a screening response (a draft, or completed) and get its outcome",
    description="The body is a QuestionnaireResponse as a renderer exports it, naming its "
    "questionnaire as url|version, with the person's NHS number in subject.identifier. The "
    "clinic is the one the screening-context extension or author (an Organization by ODS "
    "code) names, else the caller's organisation (the token's ODS claim). A contained Patient "
    "(the subject) may carry gender, birth date, postcode and ethnic category for the "
    "referral. A completed response answers with the stored response plus the "
    "screening-outcome extension: flags by domain, screen positive, wants help and the "
    "referral's state. `If-None-Exist: identifier=<system>|<value>` makes a retry return the "
    "first submission.",
    status_code=201,
    responses={
        201: {
            "model": ScreeningResponse,
            "description": "Stored; the outcome is in the screening-outcome extension",
        },
        200: {
            "model": ScreeningResponse,
            "description": "If-None-Exist matched: the earlier submission",
        },
        409: {"description": "The identifier is already used"},
        **_ERRORS,
    },
)
async def create_questionnaire_response(
    request: Request,
    session: SessionDep,
    caller: WriteCaller,
    if_none_exist: Annotated[
        str | None,
        Header(description="identifier=<system>|<value>: return the match instead of storing"),
    ] = None,
) -> Response:
    require_json(request)
    resource = parse_resource(await request.body(), ScreeningResponse, "QuestionnaireResponse")
    condition = if_none_exist_identifier(if_none_exist) if if_none_exist else None
    submission = await service.submit(
        session, request.app.state.questionnaires, resource, condition, _filing(request, caller)
    )
    await trail.record(
        session,
        caller,
        "create" if submission.created else "read",
        RESOURCE,
        submission.response.id,
    )
    return _respond(request, submission, 201 if submission.created else 200)


@router.put(
    "/{response_id}",
    operation_id="updateQuestionnaireResponse",
    description="Replaces a draft response, or completes it (then it is scored and a positive "
    "screen that wants help is handed to referral-api). If-Match, or without it the body's "
    "meta.versionId, must name the current version.",
    summary="Replace a draft response, or complete it (If-Match or meta.versionId required)",
    responses={
        200: {
            "model": ScreeningResponse,
            "description": "Replaced; completed responses carry their outcome",
        },
        409: {"description": "The response is already completed: it cannot be edited"},
        412: {"description": "If-Match (or meta.versionId) names a version no longer current"},
        428: {"description": "Neither If-Match nor meta.versionId names the version replaced"},
        **_ERRORS,
    },
)
async def update_questionnaire_response(
    response_id: str,
    request: Request,
    session: SessionDep,
    caller: WriteCaller,
    if_match: Annotated[str | None, Header(description='The version being replaced: W/"1"')] = None,
) -> Response:
    filing = _filing(request, caller)
    require_json(request)
    resource = parse_resource(await request.body(), ScreeningResponse, "QuestionnaireResponse")
    expected = required_version(if_match, resource.meta.versionId if resource.meta else None)
    submission = await service.update(
        session, request.app.state.questionnaires, response_id, resource, expected, filing
    )
    await trail.record(session, caller, "update", RESOURCE, response_id)
    return _respond(request, submission, 200)


@router.get(
    "/{response_id}",
    operation_id="readQuestionnaireResponse",
    description="The stored response; a completed one carries the screening-outcome extension "
    "with the hand-off's current state. 404 when its clinic is not the caller's.",
    summary="Read a response with its current outcome and hand-off state",
    responses={
        200: {
            "model": ScreeningResponse,
            "description": "The response; a completed one carries its outcome",
        },
        404: {"description": "No such response"},
    },
)
async def read_questionnaire_response(
    response_id: str, request: Request, session: SessionDep, caller: ReadCaller
) -> Response:
    submission = await service.read(session, response_id, Reach.of(caller))
    await trail.record(session, caller, "read", RESOURCE, response_id)
    stored = submission.response
    settings = request.app.state.settings
    return FhirResponse(
        with_outcome(stored.resource, submission.outcome, settings.referral_api_url),
        200,
        version_headers(stored.version, stored.last_updated_at),
    )
