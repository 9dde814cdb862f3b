"""`GET /reports/unassured`: live services not assured within N months (ORUK asks for 3)."""

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from directory_api.bodies import json_response
from directory_api.curation import WriteCaller
from directory_api.oruk.params import QueryReader
from directory_api.reports import service
from directory_api.reports.search import MONTHS
from signpost_platform.db import ReadSessionDep
from signpost_platform.parameters import declare
from signpost_platform.routing import CheckedRoute

router = APIRouter(route_class=CheckedRoute, tags=["reports"])


@router.get(
    "/reports/unassured",
    operation_id="unassuredServices",
    description="Services whose entry was last assured longer ago than `months`, for curators to "
    "check.",
    summary="Live services never assured, or last assured more than `months` (default 3) ago",
    openapi_extra=declare([MONTHS]),
)
async def unassured(request: Request, session: ReadSessionDep, _caller: WriteCaller) -> Response:
    query = QueryReader(list(request.query_params.multi_items()), [MONTHS])
    report = await service.unassured(session, query.integer(MONTHS.name))
    return json_response(orjson.dumps(report))
