"""FHIR ServiceRequest endpoints: thin — parse, authorise, call the service, shape the response."""

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from starlette.responses import Response

from referral_api import fhir_routes, flows
from referral_api.audit import trail
from referral_api.fhir_routes import ReadCaller, WriteCaller
from referral_api.messages import service as messages
from referral_api.referrals import examples, service
from referral_api.referrals.access import Reach
from referral_api.referrals.search import (
    DEFAULT_SORT,
    PARAMETERS,
    SORT_KEYS,
    referral_filter,
)
from signpost_platform.audit import AuditEvent
from signpost_platform.auth import Caller
from signpost_platform.bodies import keeps_free_text
from signpost_platform.db import read_session, write_session
from signpost_platform.errors import NotFound
from signpost_platform.fhir.parsing import read_resource, require_json
from signpost_platform.fhir.preconditions import create_condition
from signpost_platform.fhir.responses import FHIR_JSON, FhirResponse, version_headers
from signpost_platform.fhir.search import declare_search, search_request, searchset
from signpost_platform.openapi_docs import body_of
from signpost_platform.routing import CheckedRoute
from signpost_platform.urls import base_url
from signpost_schemas.fhir.bundle import searchset_of
from signpost_schemas.fhir.gaps import operation_outcome
from signpost_schemas.fhir.service_request import ServiceRequest

router = APIRouter(route_class=CheckedRoute, prefix="/fhir/ServiceRequest", tags=["ServiceRequest"])

RESOURCE = "ServiceRequest"
EXAMPLE_ID = "2f1c6a0e-4b7d-4c1e-9f3a-0d5b8e7c6a21"


_outcome = fhir_routes.outcome_answers(examples.OPERATION_OUTCOME)


def _resource(description: str, **extra: Any) -> dict[str, Any]:
    example = {"id": EXAMPLE_ID, **examples.SERVICE_REQUEST}
    return {**fhir_routes.fhir_answer(ServiceRequest, description, example), **extra}


_BODY = body_of(ServiceRequest, examples.SERVICE_REQUEST)
PreferHeader = Annotated[str | None, fhir_routes.prefer_header("the stored resource")]
IfMatchHeader = Annotated[str | None, fhir_routes.if_match_header("the resource sent")]
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: _outcome("Malformed JSON, wrong resourceType, or an essential element missing"),
    401: _outcome("No valid bearer token"),
    403: _outcome(
        "The token lacks the scope, names no organisation, or the referral would not name the "
        "caller's organisation as requester or performer"
    ),
    413: _outcome("The body is over the size limit"),
    415: _outcome("The body is not JSON"),
    422: _outcome(
        "A code outside its value set, an invalid NHS number, a modifierExtension or a broken rule"
    ),
}


@router.post(
    "",
    operation_id="createServiceRequest",
    description="Validates the referral against the Signpost minimum referral dataset and stores "
    "it. Missing non-essential data is kept as a data gap and reported (Prefer: "
    "return=OperationOutcome). With If-None-Exist, or the same condition as the query "
    "parameter identifier (the form fhirpy's get_or_create sends), an existing referral with "
    "that identifier is returned (200) instead of a duplicate.",
    summary="Create a referral (conditional with If-None-Exist or ?identifier=)",
    status_code=201,
    openapi_extra=_BODY,
    responses={
        201: _resource("Created; Location and ETag name the new referral and version"),
        200: _resource("If-None-Exist matched: the existing referral, nothing created"),
        409: _outcome("An identifier is already used by another referral"),
        **_ERRORS,
    },
)
@keeps_free_text
async def create_service_request(
    request: Request,
    caller: WriteCaller,
    if_none_exist: Annotated[
        str | None,
        Header(description="identifier=<system>|<value>: return the match instead of creating"),
    ] = None,
    identifier: Annotated[
        str | None,
        Query(
            description="<system>|<value>: the same condition as If-None-Exist, in the query "
            "string (POST ServiceRequest?identifier=…, as fhirpy's get_or_create sends it)",
            examples=["https://emis.example/referral-id|EMIS-2026-000123"],
        ),
    ] = None,
    prefer: PreferHeader = None,
) -> Response:
    condition = create_condition(if_none_exist, identifier)
    require_json(request)
    reading = read_resource(await request.body(), ServiceRequest, "ServiceRequest")
    reach = Reach.of(caller)
    async with write_session(request) as session:
        outcome = await flows.create_referral(
            session,
            reading.resource,
            condition,
            reach=reach,
            gaps=reading.gaps,
            settings=messages.Settings(
                request.app.state.settings.linkage_window_days, base_url(request)
            ),
            event=AuditEvent(caller, "create", RESOURCE),
        )
        stored = outcome.referral
        if not outcome.created:  # If-None-Exist matched: the caller read the existing referral
            await trail.record(session, caller, "read", RESOURCE, stored.id)
        (body,) = await service.served(session, [stored], reach, unlinked=not outcome.may_be_linked)
    report = operation_outcome(reading.gaps) if outcome.created else _matched(stored.id)
    return fhir_routes.written_answer(
        request,
        RESOURCE,
        stored,
        body,
        201 if outcome.created else 200,
        prefer=prefer,
        outcome=report,
    )


def _matched(referral_id: str) -> dict[str, Any]:
    """The OperationOutcome of a conditional create that found its referral: nothing stored."""
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "information",
                "code": "informational",
                "diagnostics": f"If-None-Exist matched ServiceRequest/{referral_id}: nothing was "
                "created or changed",
            }
        ],
    }


@router.get(
    "/{referral_id}",
    operation_id="readServiceRequest",
    description="The stored referral with its current version in ETag, and the linked referrals "
    "of the same person; 404 when it is not one the caller's organisation sent or "
    "received.",
    summary="Read a referral",
    responses={
        200: _resource("The referral, with ETag"),
        403: _outcome("The token names no organisation and may not read every organisation's"),
        404: _outcome("No such referral, or not one the caller's organisation sent or received"),
    },
)
async def read_service_request(referral_id: str, request: Request, caller: ReadCaller) -> Response:
    reach = Reach.of(caller)
    event = AuditEvent(caller, "read", RESOURCE, referral_id)
    async with read_session(request) as session:
        stored, body = await service.read_served(session, referral_id, reach, event)
    return FhirResponse(body, 200, version_headers(stored.version, stored.last_updated_at))


@router.get(
    "/{referral_id}/_history/{version_id}",
    operation_id="vreadServiceRequest",
    summary="Read a version of a referral (only the current version is kept)",
    description="Signpost keeps the current version of a referral, not its earlier ones: the "
    "version the ETag names is served; any other is 404.",
    responses={
        200: _resource("The referral at that version (the current one), with ETag"),
        403: _outcome("The token names no organisation and may not read every organisation's"),
        404: _outcome(
            "No such referral or version (earlier versions are not kept), or not one the "
            "caller's organisation sent or received"
        ),
    },
)
async def vread_service_request(
    referral_id: str, version_id: str, request: Request, caller: ReadCaller
) -> Response:
    reach = Reach.of(caller)
    async with read_session(request) as session:
        stored = await service.read(session, referral_id, reach)
        if version_id != str(stored.version):
            raise NotFound(
                f"ServiceRequest/{referral_id} has no version {version_id}: only the current "
                f"version ({stored.version}) is kept",
                expression="vid",
            )
        await trail.record(session, caller, "read", RESOURCE, referral_id)
        (body,) = await service.served(session, [stored], reach)
    return FhirResponse(body, 200, version_headers(stored.version, stored.last_updated_at))


@router.put(
    "/{referral_id}",
    operation_id="updateServiceRequest",
    description="Replaces the referral. The version it replaces is named by If-Match or, "
    "without it, by the body's meta.versionId (412 when stale, 428 when neither is sent); "
    "the answer carries the new version in ETag.",
    summary="Update a referral (If-Match or meta.versionId required; 412 if stale)",
    openapi_extra=_BODY,
    responses={
        200: _resource("Updated; ETag names the new version"),
        404: _outcome("No such referral, or not one the caller's organisation sent or received"),
        409: _outcome("An identifier is already used by another referral"),
        412: _outcome("If-Match (or meta.versionId) names a version that is no longer current"),
        428: _outcome("Neither If-Match nor meta.versionId says which version is replaced"),
        **_ERRORS,
    },
)
@keeps_free_text
async def update_service_request(
    referral_id: str,
    request: Request,
    caller: WriteCaller,
    if_match: IfMatchHeader = None,
    prefer: PreferHeader = None,
) -> Response:
    reach = Reach.of(caller)
    reading, expected = await fhir_routes.read_replacement(
        request, ServiceRequest, "ServiceRequest", if_match
    )
    async with write_session(request) as session:
        stored = await service.update(
            session,
            referral_id,
            reading.resource,
            expected,
            reach=reach,
            gaps=reading.gaps,
            linkage_window_days=request.app.state.settings.linkage_window_days,
        )
        await trail.record(session, caller, "update", RESOURCE, referral_id)
        (body,) = await service.served(session, [stored], reach)
    return fhir_routes.written_answer(
        request,
        RESOURCE,
        stored,
        body,
        200,
        prefer=prefer,
        outcome=operation_outcome(reading.gaps),
    )


_SEARCH_DESCRIPTION = (
    "Parameters: "
    + "; ".join(f"`{p.name}` ({p.type}): {p.documentation}" for p in PARAMETERS)
    + ". Also `_count` (page size; more than the configured cap is served as the cap), "
    "`_offset`, `_sort` (authored, _lastUpdated, prefix - for descending), `_total`, "
    "`_summary` (count, data, true, false), `_elements`, `_format` and `_pretty`. Unknown and "
    "empty parameters are ignored and reported in an OperationOutcome entry (search.mode "
    "outcome), or refused with 400 under `Prefer: handling=strict`; a bad value or an "
    "unsupported modifier is refused with 400. A caller whose token names an organisation sees "
    "only the referrals that organisation sent (requester) or received (performer)."
)
_SEARCH_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "model": searchset_of(ServiceRequest),
        "description": "A searchset Bundle with total and paging links",
        "content": {
            FHIR_JSON: {
                "example": {
                    "resourceType": "Bundle",
                    "type": "searchset",
                    "total": 1,
                    "link": [
                        {
                            "relation": "self",
                            "url": "http://localhost:8001/fhir/ServiceRequest?reason-code=105531004&_count=20&_offset=0",
                        }
                    ],
                    "entry": [
                        {
                            "fullUrl": f"http://localhost:8001/fhir/ServiceRequest/{EXAMPLE_ID}",
                            "resource": examples.SERVICE_REQUEST,
                            "search": {"mode": "match"},
                        }
                    ],
                }
            }
        },
    },
    400: _outcome(
        "A bad value or unsupported modifier; with Prefer: handling=strict, also an unknown or "
        "empty parameter"
    ),
    403: _outcome("The token names no organisation and may not read every organisation's"),
}


@router.get(
    "",
    operation_id="searchServiceRequest",
    summary="Search referrals",
    description=_SEARCH_DESCRIPTION,
    openapi_extra=declare_search(PARAMETERS, SORT_KEYS),
    responses=_SEARCH_RESPONSES,
)
async def search_service_requests(request: Request, caller: ReadCaller) -> Response:
    return await _search(request, caller)


@router.post(
    "/_search",
    operation_id="searchServiceRequestByPost",
    summary="Search referrals, the parameters form-encoded in the body",
    description="The same search as GET, its parameters in an "
    "application/x-www-form-urlencoded body (and the query string, if any).",
    openapi_extra={
        "requestBody": {
            "required": False,
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {"type": "object", "additionalProperties": {"type": "string"}},
                    "example": {"status": "active", "_count": "20"},
                }
            },
        }
    },
    responses={**_SEARCH_RESPONSES, 415: _outcome("The body is not form-encoded")},
)
async def search_service_requests_by_post(request: Request, caller: ReadCaller) -> Response:
    return await _search(request, caller)


async def _search(request: Request, caller: Caller) -> Response:
    reach = Reach.of(caller)
    parsed = await search_request(request, PARAMETERS, SORT_KEYS, DEFAULT_SORT)
    async with read_session(request) as session:
        total, rows, served = await service.search_served(
            session,
            referral_filter(parsed),
            reach,
            AuditEvent(caller, "search", RESOURCE),
            returned_ids=parsed.returns_entries,
        )
    resource_base = f"{base_url(request)}/fhir/ServiceRequest"
    body = searchset(
        resource_base,
        parsed,
        [(r.id, document) for r, document in zip(rows, served, strict=True)],
        total,
    )
    return FhirResponse(body)
