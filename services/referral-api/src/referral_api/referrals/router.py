"""FHIR ServiceRequest endpoints: thin — parse, authorise, call the service, shape the response."""

from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from starlette.responses import Response

from referral_api.audit import trail
from referral_api.referrals import examples, service
from referral_api.referrals.access import Reach
from referral_api.referrals.search import (
    DEFAULT_SORT,
    PARAMETERS,
    SORT_KEYS,
    referral_filter,
)
from signpost_platform.auth import Caller, require_scope
from signpost_platform.db import ReadSessionDep, SessionDep
from signpost_platform.fhir.parsing import read_resource, require_json
from signpost_platform.fhir.preconditions import if_none_exist_identifier, required_version
from signpost_platform.fhir.responses import FhirResponse, version_headers, written
from signpost_platform.fhir.search import (
    declare_search,
    page_links,
    parse_search,
    render_searchset,
)
from signpost_platform.urls import base_url
from signpost_schemas.fhir.gaps import operation_outcome
from signpost_schemas.fhir.operation_outcome import OperationOutcome
from signpost_schemas.fhir.service_request import ServiceRequest

router = APIRouter(prefix="/fhir/ServiceRequest", tags=["ServiceRequest"])

ReadCaller = Annotated[Caller, require_scope("referral:read")]
RESOURCE = "ServiceRequest"
WriteCaller = Annotated[Caller, require_scope("referral:write")]

FHIR_JSON = "application/fhir+json"


def _outcome(description: str) -> dict[str, Any]:
    return {
        "model": OperationOutcome,
        "description": description,
        "content": {FHIR_JSON: {"example": examples.OPERATION_OUTCOME}},
    }


def _resource(description: str, **extra: Any) -> dict[str, Any]:
    return {
        "model": ServiceRequest,
        "description": description,
        "content": {FHIR_JSON: {"example": {"id": "2f1c…", **examples.SERVICE_REQUEST}}},
        **extra,
    }


_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            media: {
                "schema": {"$ref": "#/components/schemas/ServiceRequest"},
                "example": examples.SERVICE_REQUEST,
            }
            for media in (FHIR_JSON, "application/json")
        },
    }
}
PreferHeader = Annotated[
    str | None,
    Header(
        description="return=representation (default: the stored resource), return=minimal (no "
        "body) or return=OperationOutcome (the data gaps found, as warnings)"
    ),
]
_ERRORS = {
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
    summary="Create a referral (conditional with If-None-Exist)",
    status_code=201,
    openapi_extra=_BODY,
    responses={
        201: _resource("Created; Location and ETag name the new referral and version"),
        200: _resource("If-None-Exist matched: the existing referral, nothing created"),
        409: _outcome("An identifier is already used by another referral"),
        **_ERRORS,
    },
)
async def create_service_request(
    request: Request,
    session: SessionDep,
    caller: WriteCaller,
    if_none_exist: Annotated[
        str | None,
        Header(description="identifier=<system>|<value>: return the match instead of creating"),
    ] = None,
    prefer: PreferHeader = None,
) -> Response:
    require_json(request)
    reading = read_resource(await request.body(), ServiceRequest, "ServiceRequest")
    condition = if_none_exist_identifier(if_none_exist) if if_none_exist else None
    reach = Reach.of(caller)
    outcome = await service.create(
        session,
        reading.resource,
        condition,
        reach=reach,
        gaps=reading.gaps,
        linkage_window_days=request.app.state.settings.linkage_window_days,
    )
    stored = outcome.referral
    action = "create" if outcome.created else "read"
    await trail.record(session, caller, action, RESOURCE, stored.id)
    headers = version_headers(stored.version, stored.last_updated_at)
    headers["Location"] = f"{base_url(request)}/fhir/ServiceRequest/{stored.id}"
    report = operation_outcome(reading.gaps) if outcome.created else _matched(stored.id)
    (body,) = await service.served(session, [stored], reach)
    return written(
        body,
        201 if outcome.created else 200,
        headers,
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
    summary="Read a referral",
    responses={
        200: _resource("The referral, with ETag"),
        403: _outcome("The token names no organisation and may not read every organisation's"),
        404: _outcome("No such referral, or not one the caller's organisation sent or received"),
    },
)
async def read_service_request(
    referral_id: str, session: ReadSessionDep, caller: ReadCaller
) -> Response:
    reach = Reach.of(caller)
    stored = await service.read(session, referral_id, reach)
    await trail.record(session, caller, "read", RESOURCE, referral_id)
    (body,) = await service.served(session, [stored], reach)
    return FhirResponse(body, 200, version_headers(stored.version, stored.last_updated_at))


@router.put(
    "/{referral_id}",
    operation_id="updateServiceRequest",
    summary="Update a referral (If-Match required; 412 if stale)",
    openapi_extra=_BODY,
    responses={
        200: _resource("Updated; ETag names the new version"),
        404: _outcome("No such referral, or not one the caller's organisation sent or received"),
        409: _outcome("An identifier is already used by another referral"),
        412: _outcome("If-Match names a version that is no longer current"),
        428: _outcome("If-Match is missing"),
        **_ERRORS,
    },
)
async def update_service_request(
    referral_id: str,
    request: Request,
    session: SessionDep,
    caller: WriteCaller,
    if_match: Annotated[str | None, Header(description='The version being replaced: W/"3"')] = None,
    prefer: PreferHeader = None,
) -> Response:
    expected = required_version(if_match)
    reach = Reach.of(caller)
    require_json(request)
    reading = read_resource(await request.body(), ServiceRequest, "ServiceRequest")
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
    return written(
        body,
        200,
        version_headers(stored.version, stored.last_updated_at),
        prefer=prefer,
        outcome=operation_outcome(reading.gaps),
    )


@router.get(
    "",
    operation_id="searchServiceRequest",
    summary="Search referrals",
    description="Parameters: "
    + "; ".join(f"`{p.name}` ({p.type}): {p.documentation}" for p in PARAMETERS)
    + ". Also `_count` (page size, at most the configured cap), `_offset`, `_sort` "
    "(authored, _lastUpdated, prefix - for descending) and `_total=none`. Unknown parameters "
    "are refused with 400. A caller whose token names an organisation sees only the referrals "
    "that organisation sent (requester) or received (performer).",
    openapi_extra=declare_search(PARAMETERS, SORT_KEYS),
    responses={
        200: {
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
                                "fullUrl": "http://localhost:8001/fhir/ServiceRequest/2f1c…",
                                "resource": examples.SERVICE_REQUEST,
                                "search": {"mode": "match"},
                            }
                        ],
                    }
                }
            },
        },
        400: _outcome("Unknown parameter, bad value, or _count over the cap"),
        403: _outcome("The token names no organisation and may not read every organisation's"),
    },
)
async def search_service_requests(
    request: Request, session: ReadSessionDep, caller: ReadCaller
) -> Response:
    settings = request.app.state.settings
    reach = Reach.of(caller)
    query = list(request.query_params.multi_items())
    parsed = parse_search(
        query,
        PARAMETERS,
        SORT_KEYS,
        default_count=settings.default_page_size,
        max_count=settings.max_page_size,
        default_sort=DEFAULT_SORT,
    )
    total, rows = await service.search(session, referral_filter(parsed), reach)
    await trail.record(session, caller, "search", RESOURCE, returned_ids=[r.id for r in rows])
    resource_base = f"{base_url(request)}/fhir/ServiceRequest"
    links = page_links(resource_base, query, parsed, total, len(rows))
    served = await service.served(session, rows, reach)
    body = render_searchset(
        resource_base,
        [(r.id, document) for r, document in zip(rows, served, strict=True)],
        total,
        links,
    )
    return FhirResponse(body)
