"""`/fhir/Consent`: record, read and search Consent for information sharing."""

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from referral_api import fhir_routes
from referral_api.audit import trail
from referral_api.consent import search, service
from referral_api.consent.examples import CONSENT, SEARCHSET, STORED
from referral_api.fhir_routes import ReadCaller, WriteCaller
from referral_api.referrals.access import Reach
from signpost_platform.db import ReadSessionDep, SessionDep
from signpost_platform.fhir.parsing import parse_resource, require_json
from signpost_platform.fhir.responses import FHIR_JSON, FhirResponse, version_headers
from signpost_platform.fhir.search import declare_search, search_request
from signpost_platform.openapi_docs import body_of
from signpost_platform.routing import CheckedRoute
from signpost_platform.urls import base_url
from signpost_schemas.fhir.bundle import searchset_of
from signpost_schemas.fhir.consent import InformationSharingConsent

router = APIRouter(route_class=CheckedRoute, prefix="/fhir/Consent", tags=["Consent"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Malformed JSON or wrong resourceType"},
    403: {"description": "The scope is missing, or the organisation is not the caller's"},
    422: {
        "description": "Scope other than patient-privacy, no NHS number, no category, an "
        "unknown element, or a referral the caller cannot see or of another person"
    },
}


def _resource(description: str) -> dict[str, Any]:
    return fhir_routes.fhir_answer(InformationSharingConsent, description, STORED)


@router.post(
    "",
    operation_id="createConsent",
    summary="Record a Consent for information sharing",
    description="A person's decision to share their information (provision.type permit), or "
    "to refuse (deny); a consent withdrawn is recorded as a new Consent with status inactive. "
    "A Consent carrying the identifier of one already recorded is not recorded again: that "
    "one is returned (200), so a retry is safe. The person's latest Consent decides: a person "
    "who withdrew is left out of the linked referrals shown to other organisations and of bulk "
    "exports.",
    status_code=201,
    openapi_extra=body_of(InformationSharingConsent, CONSENT),
    responses={
        201: _resource("Recorded; Location and ETag name it"),
        200: _resource("A Consent with the same identifier was recorded already: that one"),
        409: {"description": "The identifier is another organisation's Consent"},
        **_ERRORS,
    },
)
async def create_consent(request: Request, session: SessionDep, caller: WriteCaller) -> Response:
    require_json(request)
    consent = parse_resource(await request.body(), InformationSharingConsent, "Consent")
    reach = Reach.of(caller)
    stored, created = await service.create(session, consent, reach, datetime.now(UTC))
    await trail.record(session, caller, "create" if created else "read", "Consent", stored.id)
    headers = {
        **version_headers(stored.version, stored.last_updated_at),
        "Location": f"{base_url(request)}/fhir/Consent/{stored.id}/_history/{stored.version}",
    }
    return FhirResponse(stored.resource.encode(), 201 if created else 200, headers)


@router.get(
    "/{consent_id}",
    operation_id="readConsent",
    summary="Read a Consent",
    description="404 also when neither the caller's organisation recorded it nor it was "
    "recorded for a referral the caller may see.",
    responses={200: _resource("The Consent, with ETag")},
)
async def read_consent(consent_id: str, session: ReadSessionDep, caller: ReadCaller) -> Response:
    stored = await service.read(session, consent_id, Reach.of(caller))
    return await fhir_routes.read_answer(session, caller, "Consent", consent_id, stored)


@router.get(
    "",
    operation_id="searchConsent",
    summary="Search Consents (by the person's NHS number, status)",
    description="Only those the caller's organisation recorded or that were recorded for a "
    "referral it may see.",
    openapi_extra=declare_search(search.PARAMETERS),
    responses={
        200: {
            "model": searchset_of(InformationSharingConsent),
            "description": "A searchset Bundle of Consents",
            "content": {FHIR_JSON: {"example": SEARCHSET}},
        }
    },
)
async def search_consent(request: Request, session: ReadSessionDep, caller: ReadCaller) -> Response:
    reach = Reach.of(caller)
    parsed = await search_request(request, search.PARAMETERS)
    total, rows = await service.search(session, search.consent_filter(parsed), parsed, reach)
    entries = [(r.id, r.resource.encode()) for r in rows]
    return await fhir_routes.search_answer(
        request, session, caller, "Consent", parsed, (total, entries)
    )
