"""FHIR Questionnaire endpoints: read and search. Questionnaires hold no personal data, so a
front end may fetch them without a token."""

from fastapi import APIRouter, Request
from starlette.responses import Response

from screening_api.questionnaires.catalogue import QuestionnaireCatalogue
from screening_api.questionnaires.search import PARAMETERS
from signpost_platform.errors import NotFound
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
from signpost_schemas.questionnaire.model import Questionnaire

router = APIRouter(route_class=CheckedRoute, prefix="/fhir/Questionnaire", tags=["Questionnaire"])


def catalogue(request: Request) -> QuestionnaireCatalogue:
    return request.app.state.questionnaires  # type: ignore[no-any-return]


@router.get(
    "",
    operation_id="searchQuestionnaire",
    summary="Search the screening questionnaires",
    description=search_description(PARAMETERS),
    openapi_extra=declare_search(PARAMETERS),
    responses={
        200: {
            "model": searchset_of(Questionnaire),
            "description": "A searchset Bundle of Questionnaires",
        }
    },
)
async def search_questionnaires(request: Request) -> Response:
    parsed = await search_request(request, PARAMETERS)
    found = catalogue(request).search(parsed)
    page = found[parsed.offset : parsed.offset + parsed.count]
    resource_base = f"{base_url(request)}/fhir/Questionnaire"
    body = searchset(resource_base, parsed, [(t.id, t.resource_json) for t in page], len(found))
    return FhirResponse(body)


@router.get(
    "/{questionnaire_id}",
    operation_id="readQuestionnaire",
    description="The questionnaire exactly as stored, ready for LHC-Forms, Smart Forms or any SDC"
    " renderer. 404 for an unknown id.",
    summary="Read a screening questionnaire (unmodified, ready for a renderer)",
    responses={
        200: {"model": Questionnaire, "description": "The Questionnaire"},
        404: {"description": "No such questionnaire (OperationOutcome)"},
    },
)
async def read_questionnaire(questionnaire_id: str, request: Request) -> Response:
    tool = catalogue(request).by_id(questionnaire_id)
    if tool is None:
        raise NotFound(f"no Questionnaire with id {questionnaire_id}")
    return FhirResponse(tool.resource_json)
