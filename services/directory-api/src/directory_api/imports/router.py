"""`POST /imports` (bulk import of an ORUK export) and `GET /imports/{id}` (its progress)."""

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from directory_api.bodies import json_response
from directory_api.curation import WriteCaller
from directory_api.imports import service
from directory_api.imports.search import IMPORT_PARAMETERS
from directory_api.oruk.params import QueryReader, as_uuid
from signpost_platform.db import ReadSessionDep
from signpost_platform.errors import UnsupportedMediaType
from signpost_platform.parameters import declare
from signpost_platform.routing import CheckedRoute
from signpost_platform.urls import base_url

router = APIRouter(route_class=CheckedRoute, tags=["imports"])
_TYPES = ("application/json", "application/x-ndjson", "application/ndjson")


@router.post(
    "/imports",
    operation_id="importServices",
    summary="Import an ORUK export (JSON or NDJSON); answers with the report when done",
    description="Each service (with its organisation, locations and taxonomy terms nested, as "
    "`/services/{id}` serves them) is validated and saved on its own: bad records are listed "
    "in `errors` and change nothing; records already imported unchanged are skipped. Progress "
    "is visible at `GET /imports/{id}` while it runs. Bodies are limited to the request size "
    "cap and imports to `DIRECTORY_IMPORT_MAX_RECORDS` records (413 above it); import larger "
    "files with `python -m directory_api.imports FILE`. An import that stops (the database "
    "went away) answers 503 naming its job, which reads as `failed` with `failure_reason`; "
    "`resume=<id>` with the same export carries it on from its last committed batch.",
    status_code=201,
    responses={
        404: {"description": "resume: no import with that id"},
        409: {
            "description": "resume: the import is completed, still running, or had a "
            "different number of records"
        },
        413: {"description": "More records than DIRECTORY_IMPORT_MAX_RECORDS"},
        503: {"description": "The import stopped (database unavailable); resume it"},
    },
    openapi_extra=declare(IMPORT_PARAMETERS),
)
async def import_services(request: Request, caller: WriteCaller) -> Response:
    query = QueryReader(list(request.query_params.multi_items()), IMPORT_PARAMETERS)
    resume = as_uuid("resume", value) if (value := query.text("resume")) else None
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in _TYPES:
        raise UnsupportedMediaType("send application/json or application/x-ndjson")
    settings = request.app.state.settings
    records = service.parse_export(await request.body(), content_type)
    sessionmaker = request.app.state.database.sessionmaker
    if resume is None:
        job = await service.run_import(
            sessionmaker, records, caller.subject, max_records=settings.import_max_records
        )
    else:
        job = await service.resume_import(
            sessionmaker,
            resume,
            records,
            max_records=settings.import_max_records,
            stale_after_seconds=settings.import_stale_after_seconds,
        )
    base = base_url(request)
    return json_response(
        orjson.dumps(service.report(job, base)),
        201,
        headers={"Location": f"{base}/imports/{job.id}"},
    )


@router.get(
    "/imports/{job_id}",
    operation_id="getImport",
    description="How the bulk import is going, and its error report.",
    summary="An import's progress and error report",
)
async def get_import(
    job_id: str, request: Request, session: ReadSessionDep, _caller: WriteCaller
) -> Response:
    stale_after = request.app.state.settings.import_stale_after_seconds
    job = await service.read_import(session, as_uuid("id", job_id), stale_after)
    return json_response(orjson.dumps(service.report(job, base_url(request))))
