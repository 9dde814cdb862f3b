"""`GET /reports/unassured`: live services not assured within N months (ORUK asks for 3)."""

from typing import Annotated

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from directory_api.bodies import json_response
from directory_api.oruk.params import QueryReader
from directory_api.reports import service
from signpost_platform.auth import Caller, require_scope
from signpost_platform.db import ReadSessionDep

router = APIRouter(tags=["reports"])
WriteCaller = Annotated[Caller, require_scope("directory:write")]


@router.get(
    "/reports/unassured",
    operation_id="unassuredServices",
    summary="Live services never assured, or last assured more than `months` (default 3) ago",
)
async def unassured(request: Request, session: ReadSessionDep, _caller: WriteCaller) -> Response:
    query = QueryReader(list(request.query_params.multi_items()), {"months"})
    report = await service.unassured(session, query.integer("months", 1, 120, 3))
    return json_response(orjson.dumps(report))
