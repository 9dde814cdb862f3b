"""FHIR CarePlan endpoints: create, read, update and search care and support plans."""

from typing import Annotated, Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from referral_api import fhir_routes
from referral_api.audit import trail
from referral_api.careplans import examples, search, service
from referral_api.fhir_routes import ReadCaller, WriteCaller
from referral_api.referrals.access import Reach
from signpost_platform.bodies import keeps_free_text
from signpost_platform.db import ReadSessionDep, SessionDep
from signpost_platform.fhir.parsing import read_resource, require_json
from signpost_platform.fhir.responses import FHIR_JSON
from signpost_platform.fhir.search import declare_search, search_description, search_request
from signpost_platform.openapi_docs import body_of
from signpost_platform.routing import CheckedRoute
from signpost_schemas.fhir.bundle import searchset_of
from signpost_schemas.fhir.care_plan import CarePlan
from signpost_schemas.fhir.gaps import Gap, operation_outcome
from signpost_schemas.fhir.operation_outcome import OperationOutcome

router = APIRouter(route_class=CheckedRoute, prefix="/fhir/CarePlan", tags=["CarePlan"])

RESOURCE = "CarePlan"

_BODY = body_of(CarePlan, examples.CARE_PLAN)
PreferHeader = Annotated[str | None, fhir_routes.prefer_header("the stored plan")]
IfMatchHeader = Annotated[str | None, fhir_routes.if_match_header("the plan sent")]


def _outcome(description: str) -> dict[str, Any]:
    return {"model": OperationOutcome, "description": description}


def _plan(description: str) -> dict[str, Any]:
    return fhir_routes.fhir_answer(CarePlan, description, examples.SERVED)


_ERRORS: dict[int | str, dict[str, Any]] = {
    400: _outcome("Malformed JSON, wrong resourceType, or an essential element missing"),
    401: _outcome("No valid bearer token"),
    403: _outcome("The token lacks the scope or names no organisation"),
    413: _outcome("The body is over the size limit"),
    415: _outcome("The body is not JSON"),
    422: _outcome(
        "basedOn names no referral the caller's organisation sent or received, intent is not "
        "plan, a code outside its value set, a subject who is not the referral's person, or "
        "another broken rule"
    ),
}


@router.post(
    "",
    operation_id="createCarePlan",
    summary="Create the care and support plan of a referral",
    description="Stores the plan of the referral `basedOn` names (one per referral: a second "
    "is refused with 409 naming the first, so a retried create never duplicates). Missing "
    "non-essential data is kept as a data gap and reported (Prefer: return=OperationOutcome). "
    "The plan is served with the referral's person as subject and the review due "
    "(Extension-Signpost-CarePlanReview).",
    status_code=201,
    openapi_extra=_BODY,
    responses={
        201: _plan("Created; Location and ETag name the new plan and version"),
        409: _outcome("The referral already has a plan (update it)"),
        **_ERRORS,
    },
)
@keeps_free_text
async def create_care_plan(
    request: Request, session: SessionDep, caller: WriteCaller, prefer: PreferHeader = None
) -> Response:
    require_json(request)
    reading = read_resource(await request.body(), CarePlan, RESOURCE)
    stored = await service.create(session, reading.resource, Reach.of(caller))
    await trail.record(session, caller, "create", RESOURCE, stored.id)
    return _written(request, stored, stored.resource.encode(), 201, prefer, reading.gaps)


def _written(
    request: Request,
    stored: fhir_routes.WrittenVersion,
    body: bytes,
    status_code: int,
    prefer: str | None,
    gaps: list[Gap],
) -> Response:
    """The answer to a create or update: the plan as stored, nothing, or its data gaps."""
    return fhir_routes.written_answer(
        request, RESOURCE, stored, body, status_code, prefer=prefer, outcome=operation_outcome(gaps)
    )


@router.get(
    "/{plan_id}",
    operation_id="readCarePlan",
    summary="Read a care and support plan",
    description="404 also when the referral it belongs to is not one the caller's organisation "
    "sent or received.",
    responses={
        200: _plan("The plan, with ETag"),
        403: _outcome("The token names no organisation and may not read every organisation's"),
        404: _outcome("No such plan, or not one of the caller's organisation's referrals"),
    },
)
async def read_care_plan(plan_id: str, session: ReadSessionDep, caller: ReadCaller) -> Response:
    stored = await service.read(session, plan_id, Reach.of(caller))
    return await fhir_routes.read_answer(session, caller, RESOURCE, plan_id, stored)


@router.put(
    "/{plan_id}",
    operation_id="updateCarePlan",
    summary="Update a care and support plan (If-Match or meta.versionId required; 412 if stale)",
    description="Replaces the plan. The version it replaces is named by If-Match or, without "
    "it, by the body's meta.versionId (412 when stale, 428 when neither is sent). The plan "
    "stays with its referral: basedOn cannot change.",
    openapi_extra=_BODY,
    responses={
        200: _plan("Updated; ETag names the new version"),
        404: _outcome("No such plan, or not one of the caller's organisation's referrals"),
        412: _outcome("If-Match (or meta.versionId) names a version that is no longer current"),
        428: _outcome("Neither If-Match nor meta.versionId says which version is replaced"),
        **_ERRORS,
    },
)
@keeps_free_text
async def update_care_plan(
    plan_id: str,
    request: Request,
    session: SessionDep,
    caller: WriteCaller,
    if_match: IfMatchHeader = None,
    prefer: PreferHeader = None,
) -> Response:
    reading, expected = await fhir_routes.read_replacement(request, CarePlan, RESOURCE, if_match)
    stored = await service.update(session, plan_id, reading.resource, expected, Reach.of(caller))
    await trail.record(session, caller, "update", RESOURCE, plan_id)
    return _written(request, stored, stored.resource.encode(), 200, prefer, reading.gaps)


_SEARCH_DESCRIPTION = search_description(
    search.PARAMETERS,
    ". Also `_count`, `_offset`, `_sort` (review-due, date, _lastUpdated; - for descending; "
    "by default the earliest review due first), `_total`, `_summary`, `_elements`. A team's "
    "overdue reviews: `review-due=lt<today>&status=active&based-on.performer=Organization/"
    "<ODS>&based-on.performer-type=<role>`. Unknown parameters are ignored and reported, or "
    "refused with 400 under `Prefer: handling=strict`. A caller whose token names an "
    "organisation sees only the plans of referrals it sent or received.",
)


@router.get(
    "",
    operation_id="searchCarePlan",
    summary="Search care and support plans (and list a team's overdue reviews)",
    description=_SEARCH_DESCRIPTION,
    openapi_extra=declare_search(search.PARAMETERS, search.SORT_KEYS),
    responses={
        200: {
            "model": searchset_of(CarePlan),
            "description": "A searchset Bundle of CarePlans with total and paging links",
            "content": {
                FHIR_JSON: {
                    "example": fhir_routes.searchset_example(
                        RESOURCE,
                        "review-due=lt2027-05-01&status=active&_count=20&_offset=0",
                        examples.EXAMPLE_ID,
                        examples.SERVED,
                    )
                }
            },
        },
        400: _outcome(
            "A bad value or unsupported modifier; with Prefer: handling=strict, also an unknown "
            "or empty parameter"
        ),
        403: _outcome("The token names no organisation and may not read every organisation's"),
    },
)
async def search_care_plans(
    request: Request, session: ReadSessionDep, caller: ReadCaller
) -> Response:
    reach = Reach.of(caller)
    parsed = await search_request(request, search.PARAMETERS, search.SORT_KEYS, search.DEFAULT_SORT)
    total, rows = await service.search(session, search.care_plan_filter(parsed), reach)
    entries = [(r.id, r.resource.encode()) for r in rows]
    return await fhir_routes.search_answer(
        request, session, caller, RESOURCE, parsed, (total, entries)
    )
