"""`GET /changes`: the change feed (RPDE-style, modified-number ordering)."""

from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from directory_api.bodies import json_response
from directory_api.changes.search import KINDS, PARAMETERS
from directory_api.changes.service import feed_page
from directory_api.documents.shape import timestamp
from directory_api.oruk.params import QueryReader
from signpost_platform.db import ReadSessionDep
from signpost_platform.errors import BadRequest
from signpost_platform.parameters import declare
from signpost_platform.routing import CheckedRoute
from signpost_platform.urls import base_url

router = APIRouter(route_class=CheckedRoute, tags=["change feed"])


@router.get(
    "/changes",
    operation_id="getChanges",
    summary="Every record's latest state in change order; retirements as deleted tombstones",
    description="Start with `afterChangeNumber=0` and follow `next` until `items` is empty; "
    "store `next` and poll it later. Each record appears once, at its latest change: "
    "`state` is `updated` (with `data`, the record as the ORUK API serves it) or `deleted` "
    "(retired; no `data`). `kind` filters by record type (service, organization, location, "
    "taxonomy, taxonomy_term; comma-separated). `limit` is at most 500.",
    openapi_extra=declare(PARAMETERS),
)
async def changes(request: Request, session: ReadSessionDep) -> Response:
    query = QueryReader(list(request.query_params.multi_items()), PARAMETERS)
    after = query.integer("afterChangeNumber")
    limit = query.integer("limit")
    kinds = query.items("kind")
    if bad := [k for k in kinds if k not in KINDS]:
        raise BadRequest(f"kind {bad[0]!r}: use {', '.join(KINDS)}", expression="kind")
    page = await feed_page(session, after, kinds, limit)
    items = []
    for entry in page:
        item: dict[str, Any] = {
            "id": entry.change.record_id,
            "kind": entry.change.kind,
            "state": entry.change.state,
            "modified": entry.change.change_number,
            "changed_at": timestamp(entry.change.changed_at),
        }
        if entry.data is not None:
            item["data"] = entry.data
        items.append(item)
    last = page[-1].change.change_number if page else after
    params = f"afterChangeNumber={last}&limit={limit}"
    if kinds:
        params += f"&kind={','.join(kinds)}"
    return json_response(
        orjson.dumps({"next": f"{base_url(request)}/changes?{params}", "items": items})
    )
