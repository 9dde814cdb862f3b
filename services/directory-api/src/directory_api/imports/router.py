"""`POST /imports` (bulk import of an ORUK export) and `GET /imports/{id}` (its progress)."""

from typing import Annotated

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from directory_api.bodies import json_response
from directory_api.imports import service
from directory_api.oruk.params import as_uuid
from signpost_platform.auth import Caller, require_scope
from signpost_platform.db import ReadSessionDep
from signpost_platform.errors import UnsupportedMediaType
from signpost_platform.urls import base_url

router = APIRouter(tags=["imports"])
WriteCaller = Annotated[Caller, require_scope("directory:write")]
_TYPES = ("application/json", "application/x-ndjson", "application/ndjson")


@router.post(
    "/imports",
    operation_id="importServices",
    summary="Import an ORUK export (JSON or NDJSON); answers with the report when done",
    description="Each service (with its organisation, locations and taxonomy terms nested, as "
    "`/services/{id}` serves them) is validated and saved on its own: bad records are listed "
    "in `errors` and change nothing; records already imported unchanged are skipped. Progress "
    "is visible at `GET /imports/{id}` while it runs. Bodies are limited to the request size "
    "cap; import larger files with `python -m directory_api.imports FILE`.",
    status_code=201,
)
async def import_services(request: Request, caller: WriteCaller) -> Response:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in _TYPES:
        raise UnsupportedMediaType("send application/json or application/x-ndjson")
    records = service.parse_export(await request.body(), content_type)
    job = await service.run_import(request.app.state.database.sessionmaker, records, caller.subject)
    base = base_url(request)
    return json_response(
        orjson.dumps(service.report(job, base)),
        201,
        headers={"Location": f"{base}/imports/{job.id}"},
    )


@router.get(
    "/imports/{job_id}", operation_id="getImport", summary="An import's progress and error report"
)
async def get_import(
    job_id: str, request: Request, session: ReadSessionDep, _caller: WriteCaller
) -> Response:
    job = await service.read_import(session, as_uuid("id", job_id))
    return json_response(orjson.dumps(service.report(job, base_url(request))))
