"""FHIR Observation endpoints: the answers extracted from completed responses (read, search)."""

from typing import Annotated

from fastapi import APIRouter, Request
from starlette.responses import Response

from screening_api.access import Reach
from screening_api.audit import trail
from screening_api.observations.profile import ScreeningObservation
from screening_api.observations.repository import (
    CategoryMatch,
    ObservationFilter,
    ObservationRepository,
)
from screening_api.questionnaires.tools import OBSERVATION_CATEGORY
from signpost_platform.auth import Caller, require_scope
from signpost_platform.db import SessionDep
from signpost_platform.errors import BadRequest, NotFound
from signpost_platform.fhir.responses import FhirResponse
from signpost_platform.fhir.search import (
    ID,
    SearchParameter,
    SearchQuery,
    Token,
    declare_search,
    parse_token,
    search_request,
    searchset,
)
from signpost_platform.urls import base_url
from signpost_schemas import systems
from signpost_schemas.fhir.bundle import searchset_of
from signpost_schemas.nhs_number import InvalidNhsNumber, validate_nhs_number

router = APIRouter(prefix="/fhir/Observation", tags=["Observation"])

ReadCaller = Annotated[Caller, require_scope("screening:read")]
OBS = "http://hl7.org/fhir/SearchParameter/Observation"
DOMAIN_SYSTEM = (
    "http://hl7.org/fhir/us/sdoh-clinicalcare/CodeSystem/SDOHCC-CodeSystemTemporaryCodes"
)

# No _lastUpdated: the table's last_updated_at holds the screen's date, not meta.lastUpdated.
PARAMETERS = [
    ID,
    SearchParameter(
        "derived-from",
        "reference",
        "The response it was extracted from: QuestionnaireResponse/<id>",
        f"{OBS}-derived-from",
        example="QuestionnaireResponse/7d3c9a1e-0b1f-4b55-9d0e-1f2a3b4c5d6e",
    ),
    SearchParameter(
        "patient.identifier",
        "token",
        "The person's NHS number: https://fhir.nhs.uk/Id/nhs-number|9434765919 or the number",
        example="https://fhir.nhs.uk/Id/nhs-number|9434765919",
    ),
    SearchParameter("code", "token", "The question's code: system|code or code", f"{OBS}-code"),
    SearchParameter(
        "category",
        "token",
        "survey (every Observation), social-history (the risk questions' Observations) or a "
        "social-need domain (SDOH domain code, such as food-insecurity)",
        f"{OBS}-category",
        example="social-history",
    ),
    SearchParameter(
        "interpretation",
        "token",
        "POS for answers that flag a possible need",
        f"{OBS}-interpretation",
        example="POS",
    ),
]


def observation_filter(query: SearchQuery) -> ObservationFilter:
    response_ids = [
        [_response_id(value) for value in values] for values in query.occurrences("derived-from")
    ]
    nhs_numbers = [
        [_nhs_number(value) for value in values]
        for values in query.occurrences("patient.identifier")
    ]
    code_tokens = []
    for values in query.occurrences("code"):
        tokens = [parse_token("code", value) for value in values]
        code_tokens.append([(t.system, t.code) for t in tokens])
    categories = [
        _category_match([parse_token("category", value) for value in values])
        for values in query.occurrences("category")
    ]
    positive = None
    for values in query.occurrences("interpretation"):
        codes = {parse_token("interpretation", value).code for value in values}
        if codes != {"POS"}:
            raise BadRequest("interpretation supports POS only", expression="interpretation")
        positive = True
    return ObservationFilter(
        response_ids,
        nhs_numbers,
        code_tokens,
        categories,
        positive,
        query.count,
        query.offset,
        ids=query.ids(),
    )


def _category_match(tokens: list[Token]) -> CategoryMatch:
    """What one `category` parameter asks for (an unknown category matches nothing)."""
    kinds = {t.code for t in tokens if t.system in (None, OBSERVATION_CATEGORY)}
    return CategoryMatch(
        every="survey" in kinds,
        risk_questions="social-history" in kinds,
        domains=tuple(t.code for t in tokens if t.system in (None, DOMAIN_SYSTEM)),
    )


def _response_id(value: str) -> str:
    kind, _, identifier = value.rpartition("/")
    if kind.split("/")[-1] not in ("QuestionnaireResponse", "") or not identifier:
        raise BadRequest("derived-from takes QuestionnaireResponse/<id>", expression="derived-from")
    return identifier


def _nhs_number(value: str) -> str:
    token = parse_token("patient.identifier", value)
    if token.system and systems.normalise_system(token.system) != systems.NHS_NUMBER:
        raise BadRequest(
            f"patient.identifier takes the NHS number system {systems.NHS_NUMBER}",
            expression="patient.identifier",
        )
    try:
        return validate_nhs_number(token.code)
    except InvalidNhsNumber as error:
        raise BadRequest(f"patient.identifier: {error}", expression="patient.identifier") from None


@router.get(
    "",
    operation_id="searchObservation",
    summary="Search extracted Observations",
    description="Parameters: "
    + "; ".join(f"`{p.name}` ({p.type}): {p.documentation}" for p in PARAMETERS)
    + ". Also the common result parameters (`_count`, `_offset`, `_summary`, `_elements`…). "
    "Unknown and empty parameters are ignored and reported in an OperationOutcome entry, or "
    "refused with 400 under `Prefer: handling=strict`.",
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
    total, rows = await ObservationRepository(session).search(
        observation_filter(parsed), Reach.of(caller)
    )
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
    stored = await ObservationRepository(session).get(observation_id, Reach.of(caller))
    if stored is None:
        raise NotFound(f"no Observation with id {observation_id}")
    await trail.record(session, caller, "read", "Observation", observation_id)
    return FhirResponse(stored.resource.encode())
