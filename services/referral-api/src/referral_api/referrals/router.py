"""FHIR ServiceRequest endpoints: thin — parse, authorise, call the service, shape the response."""

from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from starlette.responses import Response

from referral_api import flows
from referral_api.audit import trail
from referral_api.messages import service as messages
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
from signpost_platform.errors import NotFound
from signpost_platform.fhir.parsing import read_resource, require_json
from signpost_platform.fhir.preconditions import if_none_exist_identifier, required_version
from signpost_platform.fhir.responses import FhirResponse, version_headers, written
from signpost_platform.fhir.search import declare_search, search_request, searchset
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
    outcome = await flows.create_referral(
        session,
        reading.resource,
        condition,
        reach=reach,
        gaps=reading.gaps,
        settings=messages.Settings(
            request.app.state.settings.linkage_window_days, base_url(request)
        ),
    )
    stored = outcome.referral
    action = "create" if outcome.created else "read"
    await trail.record(session, caller, action, RESOURCE, stored.id)
    headers = {
        **version_headers(stored.version, stored.last_updated_at),
        **_version_location(request, stored.id, stored.version),
    }
    report = operation_outcome(reading.gaps) if outcome.created else _matched(stored.id)
    (body,) = await service.served(session, [stored], reach)
    return written(
        body,
        201 if outcome.created else 200,
        headers,
        prefer=prefer,
        outcome=report,
    )


def _version_location(request: Request, referral_id: str, version: int) -> dict[str, str]:
    """Location and Content-Location of a written version: …/ServiceRequest/{id}/_history/{vid}."""
    url = f"{base_url(request)}/fhir/ServiceRequest/{referral_id}/_history/{version}"
    return {"Location": url, "Content-Location": url}


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
    referral_id: str, version_id: str, session: ReadSessionDep, caller: ReadCaller
) -> Response:
    reach = Reach.of(caller)
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
        {
            **version_headers(stored.version, stored.last_updated_at),
            **_version_location(request, stored.id, stored.version),
        },
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
async def search_service_requests(
    request: Request, session: ReadSessionDep, caller: ReadCaller
) -> Response:
    return await _search(request, session, caller)


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
async def search_service_requests_by_post(
    request: Request, session: ReadSessionDep, caller: ReadCaller
) -> Response:
    return await _search(request, session, caller)


async def _search(request: Request, session: ReadSessionDep, caller: Caller) -> Response:
    reach = Reach.of(caller)
    parsed = await search_request(request, PARAMETERS, SORT_KEYS, DEFAULT_SORT)
    total, rows = await service.search(session, referral_filter(parsed), reach)
    returned = [r.id for r in rows] if parsed.returns_entries else []
    await trail.record(session, caller, "search", RESOURCE, returned_ids=returned)
    resource_base = f"{base_url(request)}/fhir/ServiceRequest"
    served = await service.served(session, rows, reach)
    body = searchset(
        resource_base,
        parsed,
        [(r.id, document) for r, document in zip(rows, served, strict=True)],
        total,
    )
    return FhirResponse(body)
