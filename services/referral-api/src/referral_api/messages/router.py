"""`POST /fhir/$process-message`: thin — authorise, read the body, call the service."""

from fastapi import APIRouter, Request
from starlette.responses import Response

from referral_api.fhir_routes import WriteCaller, fhir_answer, outcome_answers
from referral_api.messages import examples, service
from referral_api.referrals.access import Reach
from signpost_platform.audit import AuditEvent
from signpost_platform.bodies import keeps_free_text
from signpost_platform.db import write_session
from signpost_platform.fhir.parsing import require_json
from signpost_platform.fhir.responses import FhirResponse
from signpost_platform.openapi_docs import body_of
from signpost_platform.routing import CheckedRoute
from signpost_platform.urls import base_url
from signpost_schemas.fhir.message import MessageBundle, ResponseMessage

router = APIRouter(route_class=CheckedRoute, prefix="/fhir", tags=["$process-message"])


_outcome = outcome_answers(examples.OPERATION_OUTCOME)


@router.post(
    "/$process-message",
    operation_id="processMessage",
    summary="Process a BaRS-shaped referral message (new referral or lifecycle update)",
    description=(
        "A Bundle of type `message`: MessageHeader first (event `servicerequest-request` or "
        "`servicerequest-response`, reason `new` or `update`, focus the ServiceRequest), the "
        "ServiceRequest, the Patient and any Task, Encounter, Observation and Procedure (shared"
        " decision making). Idempotent on `Bundle.id`: a resend gets the first response; a "
        "different message under a used id is refused with 409. An older update never "
        "overwrites newer state. An update for a referral not yet received is held (202) and "
        "applied when it arrives. The ServiceRequest, and the referral it updates, must name "
        "the sender's organisation (token ODS claim) as requester or performer. See "
        "docs/lifecycle.md."
    ),
    openapi_extra=body_of(MessageBundle, examples.MESSAGE),
    responses={
        200: fhir_answer(
            ResponseMessage, "Applied (or a resend): a response message Bundle", examples.RESPONSE
        ),
        202: {
            "model": ResponseMessage,
            "description": "Held until the referral it updates arrives: a response message "
            "Bundle saying so",
        },
        400: _outcome("Not a message Bundle, malformed, or an entry breaks its structure"),
        403: _outcome(
            "The token lacks the scope or names no organisation, or the ServiceRequest names "
            "neither the sender's organisation as requester nor as performer"
        ),
        409: _outcome(
            "The Bundle.id was used for a different message, or the referral it updates is "
            "one the sender's organisation did not send or receive"
        ),
        415: _outcome("The body is not JSON"),
        422: _outcome(
            "A code outside its list, a score out of range, an impossible date, an "
            "unknown event, or the focus ServiceRequest missing"
        ),
    },
)
@keeps_free_text
async def process_message(request: Request, caller: WriteCaller) -> Response:
    require_json(request)
    settings = request.app.state.settings
    async with write_session(request) as session:
        result = await service.process(
            session,
            await request.body(),
            service.Settings(settings.linkage_window_days, base_url(request)),
            reach=Reach.of(caller),
            # Written when the message changes a referral (resends and held messages change none).
            event=AuditEvent(caller, "process", "ServiceRequest"),
        )
    return FhirResponse(result.body, result.status_code)
