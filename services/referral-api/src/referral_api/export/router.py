"""FHIR Bulk Data `$export`: kick-off (system and Group level), status, files, cancel."""

from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Request
from starlette.background import BackgroundTask
from starlette.responses import Response, StreamingResponse

from referral_api.audit import trail
from referral_api.export import examples, search, service
from referral_api.export.sources import EXPORTABLE_TYPES
from referral_api.referrals.access import Reach
from signpost_platform.auth import Caller, require_scope
from signpost_platform.db import ReadSessionDep, SessionDep
from signpost_platform.errors import BadRequest
from signpost_platform.fhir.responses import FhirResponse
from signpost_platform.fhir.search import strict_handling
from signpost_platform.parameters import declare
from signpost_platform.routing import CheckedRoute
from signpost_platform.urls import base_url
from signpost_schemas.fhir.operation_outcome import OperationOutcome

router = APIRouter(route_class=CheckedRoute, prefix="/fhir", tags=["$export"])


ExportCaller = Annotated[Caller, require_scope(service.EXPORT_SCOPE)]
_RESPOND_ASYNC = "respond-async"
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Prefer: respond-async missing, or a parameter refused"},
    403: {"description": "No referral:export scope"},
}
FHIR_JSON = "application/fhir+json"
NDJSON = "application/fhir+ndjson"


def _informational(description: str, example: dict[str, Any]) -> dict[str, Any]:
    return {
        "model": OperationOutcome,
        "description": description,
        "content": {FHIR_JSON: {"example": example}},
    }


class NdjsonResponse(StreamingResponse):
    media_type = NDJSON


async def _kick_off(
    request: Request, session: SessionDep, caller: Caller, group_id: str | None
) -> Response:
    reach = Reach.of(caller)
    prefer = request.headers.get("prefer", "")
    values = search.query_values(list(request.query_params.multi_items()), strict_handling(prefer))
    if _RESPOND_ASYNC not in [part.strip().lower() for part in prefer.replace(";", ",").split(",")]:
        raise BadRequest(
            "$export runs asynchronously: send Prefer: respond-async", expression="Prefer"
        )
    asked = search.read_request(values)
    group = search.read_group(group_id) if group_id is not None else None
    job_id = await service.kick_off(
        session, caller, reach.organisation, str(request.url), asked, group, datetime.now(UTC)
    )
    await trail.record(session, caller, "process", "$export", job_id)
    worker = getattr(request.app.state, "export_worker", None)
    status_url = f"{base_url(request)}/fhir/$export-status/{job_id}"
    headers = {"Content-Location": status_url}
    body = examples.outcome(
        f"export {job_id} accepted: poll the Content-Location URL for its status"
    )
    wake = None if worker is None else BackgroundTask(_Wake(worker))
    return FhirResponse(body, 202, headers, background=wake)


class _Wake:
    """Wake the worker once the job is committed (after the response)."""

    def __init__(self, worker: object) -> None:
        self.worker = worker

    async def __call__(self) -> None:
        self.worker.wake()  # type: ignore[attr-defined]


_KICK_OFF_DESCRIPTION = (
    "Starts an export (FHIR Bulk Data Access IG v2) and answers 202 at once with the status "
    "URL in Content-Location; needs `Prefer: respond-async`. Exported: "
    f"{', '.join(EXPORTABLE_TYPES)} of the referrals the caller's organisation sent or received "
    "(every referral with referral:all-organisations), as NDJSON files. People who withdrew "
    "consent to share are left out (the manifest counts them). A caller without the scope gets "
    "403 and nothing is recorded."
)


@router.get(
    "/$export",
    operation_id="exportSystem",
    summary="Export every referral's resources (system-level $export)",
    description=_KICK_OFF_DESCRIPTION,
    status_code=202,
    openapi_extra=declare(search.DECLARED),
    responses={
        202: _informational("Accepted: poll the Content-Location URL", examples.ACCEPTED),
        **_ERRORS,
    },
)
async def export_system(request: Request, session: SessionDep, caller: ExportCaller) -> Response:
    return await _kick_off(request, session, caller, None)


@router.get(
    "/Group/{group_id}/$export",
    operation_id="exportGroup",
    summary="Export a Group's referrals (Group-level $export)",
    description=_KICK_OFF_DESCRIPTION
    + " A Group is `organization-<ODS code>` (the referrals that organisation received) or "
    "`role-<personalised-care role code>` (the referrals to that role); any other id is 404.",
    status_code=202,
    openapi_extra=declare(search.DECLARED),
    responses={
        202: _informational("Accepted: poll the Content-Location URL", examples.ACCEPTED),
        **_ERRORS,
        404: {"description": "No such Group"},
    },
)
async def export_group(
    group_id: str, request: Request, session: SessionDep, caller: ExportCaller
) -> Response:
    return await _kick_off(request, session, caller, group_id)


@router.get(
    "/$export-status/{job_id}",
    operation_id="exportStatus",
    summary="The status of an export: progress, then the manifest",
    description="202 with X-Progress and Retry-After while the files are written; 200 with the "
    "manifest (transactionTime, request, requiresAccessToken, output[type, url, count], error, "
    "and extension.withdrawnConsent) when done; 500 with an OperationOutcome if it failed. "
    "Only the caller that kicked the export off can see it (404 for any other).",
    responses={
        200: {
            "description": "The manifest",
            "content": {
                media: {"schema": {"type": "object"}, "example": examples.MANIFEST}
                for media in ("application/json", FHIR_JSON)
            },
        },
        202: _informational("In progress (X-Progress says how far)", examples.IN_PROGRESS),
        404: {"description": "No such export (or it was cancelled)"},
    },
)
async def export_status(
    job_id: str, request: Request, session: ReadSessionDep, caller: ExportCaller
) -> Response:
    found = await service.status(session, job_id, caller, base_url(request))
    if found.manifest is None:
        headers = {"X-Progress": found.progress or "", "Retry-After": "5"}
        return FhirResponse(examples.outcome(found.progress or ""), 202, headers)
    return Response(orjson.dumps(found.manifest), 200, media_type="application/json")


@router.delete(
    "/$export-status/{job_id}",
    operation_id="cancelExport",
    summary="Cancel an export and delete its files",
    description="202; the status URL is 404 from then on. A run in progress stops at its next "
    "part.",
    status_code=202,
    responses={
        202: _informational("Cancelled", examples.CANCELLED),
        404: {"description": "No such export"},
    },
)
async def cancel_export(job_id: str, session: SessionDep, caller: ExportCaller) -> Response:
    await service.cancel(session, job_id, caller)
    return FhirResponse(examples.outcome(f"export {job_id} cancelled: its files are deleted"), 202)


@router.get(
    "/$export-file/{job_id}/{file}",
    operation_id="exportFile",
    response_class=NdjsonResponse,
    summary="Download one file of a completed export (NDJSON)",
    description="The resources of one type (named by the manifest's url: the type, or "
    "Observation-service-use for the service-use counts), one JSON resource a line "
    "(application/fhir+ndjson), streamed a part at a time. Needs the token that kicked the "
    "export off (requiresAccessToken).",
    responses={
        200: {
            "description": "NDJSON",
            "content": {NDJSON: {"schema": {"type": "string"}, "example": examples.NDJSON}},
        },
        404: {"description": "No such export or file"},
    },
)
async def export_file(
    job_id: str, file: str, request: Request, session: ReadSessionDep, caller: ExportCaller
) -> Response:
    positions = await service.file_parts(session, job_id, file, caller)
    await trail.record(session, caller, "read", file.split("-")[0], job_id)
    return NdjsonResponse(
        service.stream_file(request.app.state.database.sessionmaker, job_id, positions)
    )
