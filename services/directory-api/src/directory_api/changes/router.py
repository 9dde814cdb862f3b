"""`GET /changes`: the change feed (RPDE-style, modified-number ordering)."""

from typing import Any

import orjson
from fastapi import APIRouter, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from directory_api.bodies import json_response
from directory_api.changes.repository import ChangeRepository, ChangeRow
from directory_api.documents import timestamp
from directory_api.locations.repository import LocationRepository
from directory_api.organizations.repository import OrganizationRepository
from directory_api.oruk.params import QueryReader
from directory_api.services.repository import ServiceRepository
from directory_api.taxonomy.repository import TaxonomyRepository
from directory_api.taxonomy.service import taxonomy_document
from signpost_platform.db import ReadSessionDep
from signpost_platform.errors import BadRequest
from signpost_platform.urls import base_url

router = APIRouter(tags=["change feed"])
KINDS = ("service", "organization", "location", "taxonomy", "taxonomy_term")


@router.get(
    "/changes",
    operation_id="getChanges",
    summary="Every record's latest state in change order; retirements as deleted tombstones",
    description="Start with `afterChangeNumber=0` and follow `next` until `items` is empty; "
    "store `next` and poll it later. Each record appears once, at its latest change: "
    "`state` is `updated` (with `data`, the record as the ORUK API serves it) or `deleted` "
    "(retired; no `data`). `kind` filters by record type (service, organization, location, "
    "taxonomy, taxonomy_term; comma-separated). `limit` is at most 500.",
)
async def changes(request: Request, session: ReadSessionDep) -> Response:
    query = QueryReader(
        list(request.query_params.multi_items()), {"afterChangeNumber", "limit", "kind"}
    )
    after = query.integer("afterChangeNumber", 0, 2**62, 0)
    limit = query.integer("limit", 1, 500, 100)
    kinds = query.items("kind")
    if bad := [k for k in kinds if k not in KINDS]:
        raise BadRequest(f"kind {bad[0]!r}: use {', '.join(KINDS)}", expression="kind")
    rows = await ChangeRepository(session).after(after, kinds, limit)
    data = await _documents(session, rows)
    items = []
    for row in rows:
        item: dict[str, Any] = {
            "id": row.record_id,
            "kind": row.kind,
            "state": row.state,
            "modified": row.change_number,
            "changed_at": timestamp(row.changed_at),
        }
        if row.state == "updated":
            item["data"] = data[(row.kind, row.record_id)]
        items.append(item)
    last = rows[-1].change_number if rows else after
    params = f"afterChangeNumber={last}&limit={limit}" + (
        f"&kind={','.join(kinds)}" if kinds else ""
    )
    body = {"next": f"{base_url(request)}/changes?{params}", "items": items}
    return json_response(orjson.dumps(body))


async def _documents(session: AsyncSession, rows: list[ChangeRow]) -> dict[tuple[str, str], Any]:
    wanted: dict[str, list[str]] = {}
    for row in rows:
        if row.state == "updated":
            wanted.setdefault(row.kind, []).append(row.record_id)
    found: dict[tuple[str, str], Any] = {}
    if ids := wanted.get("service"):
        for service in await ServiceRepository(session).many(ids):
            found[("service", service.id)] = orjson.loads(service.document)
    if ids := wanted.get("organization"):
        for oid, organization in (await OrganizationRepository(session).many(ids)).items():
            found[("organization", oid)] = orjson.loads(organization.document)
    if ids := wanted.get("location"):
        for lid, location in (await LocationRepository(session).many(ids)).items():
            found[("location", lid)] = orjson.loads(location.document)
    taxonomy = TaxonomyRepository(session)
    if ids := wanted.get("taxonomy"):
        for tid, stored in (await taxonomy.taxonomies(ids)).items():
            found[("taxonomy", tid)] = taxonomy_document(stored)
    if ids := wanted.get("taxonomy_term"):
        for tid, term in (await taxonomy.terms(ids)).items():
            found[("taxonomy_term", tid)] = orjson.loads(term.document)
    return found
