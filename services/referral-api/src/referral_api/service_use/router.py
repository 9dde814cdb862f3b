"""`POST /fhir/Observation`: record a service-use count (GP appointments, A&E attendances,
emergency admissions in six months before or after a referral)."""

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from starlette.responses import Response

from referral_api.audit import trail
from referral_api.fhir_routes import WriteCaller, fhir_answer, outcome_answers
from referral_api.referrals.access import Reach
from referral_api.service_use import examples, service
from signpost_platform.bodies import keeps_free_text
from signpost_platform.db import SessionDep
from signpost_platform.fhir.parsing import read_resource, require_json
from signpost_platform.fhir.responses import version_headers, written
from signpost_platform.openapi_docs import body_of
from signpost_platform.routing import CheckedRoute
from signpost_platform.urls import base_url
from signpost_schemas.fhir.gaps import operation_outcome
from signpost_schemas.fhir.service_use import ServiceUseObservation

router = APIRouter(route_class=CheckedRoute, prefix="/fhir/Observation", tags=["Observation"])


_outcome = outcome_answers(examples.OPERATION_OUTCOME)


def _served(description: str) -> dict[str, Any]:
    return fhir_answer(ServiceUseObservation, description, examples.SERVED)


@router.post(
    "",
    operation_id="createServiceUseObservation",
    summary="Record service use before or after a referral",
    description="A count of GP appointments, A&E attendances or emergency admissions "
    "(Observation.code from the service-use list) over effectivePeriod, at most six months "
    "wholly before or wholly after the date of the referral basedOn names (by reference or "
    "identifier). One count is kept per referral, measure and period: a newer one replaces "
    "it (201 the first time, 200 after), the same one again changes nothing (200). Wellbeing "
    "assessments arrive in referral messages, not here.",
    status_code=201,
    openapi_extra=body_of(ServiceUseObservation, examples.SERVICE_USE),
    responses={
        201: _served("Created; Location and ETag name the count and its version"),
        200: _served("The count for this referral, measure and period was replaced or unchanged"),
        400: _outcome("Malformed JSON, wrong resourceType, or an essential element missing"),
        401: _outcome("No valid bearer token"),
        403: _outcome("The token lacks referral:write or names no organisation"),
        413: _outcome("The body is over the size limit"),
        415: _outcome("The body is not JSON"),
        422: _outcome(
            "A code outside the service-use list, a count out of range, a period over six "
            "months or straddling the referral date, a referral the caller may not see, or "
            "another person's"
        ),
    },
)
@keeps_free_text
async def create_service_use(
    request: Request,
    session: SessionDep,
    caller: WriteCaller,
    prefer: Annotated[
        str | None,
        Header(
            description="return=representation (default), return=minimal or "
            "return=OperationOutcome (the data gaps found, as warnings)"
        ),
    ] = None,
) -> Response:
    require_json(request)
    reading = read_resource(await request.body(), ServiceUseObservation, "Observation")
    recorded = await service.record(
        session, reading.resource, Reach.of(caller), "observation", datetime.now(UTC)
    )
    action = {"created": "create", "updated": "update"}.get(recorded.outcome, "read")
    await trail.record(session, caller, action, "Observation", recorded.id)
    url = f"{base_url(request)}/fhir/Observation/{recorded.id}"
    headers = {
        **version_headers(recorded.version, recorded.last_updated_at),
        "Location": url,
        "Content-Location": url,
    }
    return written(
        recorded.resource.encode(),
        201 if recorded.outcome == "created" else 200,
        headers,
        prefer=prefer,
        outcome=operation_outcome(reading.gaps),
    )
