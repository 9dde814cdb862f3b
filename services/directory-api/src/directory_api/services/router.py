"""ORUK service reads (public) and service curation (scope directory:write)."""

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from directory_api.bodies import json_response, parse_body
from directory_api.curation import UPDATE_REFUSALS, WriteCaller
from directory_api.documents.shape import timestamp
from directory_api.oruk.pages import envelope, read_page
from directory_api.oruk.params import QueryReader, as_uuid
from directory_api.record_routes import RecordRoutes, document_with_version
from directory_api.services import service
from directory_api.services.query import service_filter
from directory_api.services.schemas import AssuranceIn, ServiceIn
from directory_api.services.search import (
    SERVICE_AT_LOCATION_PARAMETERS,
    SERVICE_PARAMETERS,
    Hit,
    Page,
    SearchNote,
    ServiceFilter,
)
from signpost_platform.db import ReadSessionDep, SessionDep
from signpost_platform.parameters import QueryParameter, declare
from signpost_platform.routing import CheckedRoute

router = APIRouter(route_class=CheckedRoute, tags=["Open Referral UK"])
curation = APIRouter(route_class=CheckedRoute, tags=["curation"])
SERVICES = RecordRoutes(
    "/services", "service_id", ServiceIn, service.save_service, document_with_version
)
NDJSON = "application/x-ndjson"

FILTERS_DOC = """
Standard ORUK 3.0 parameters: `search` (or the v1 name `text`), `page` (1-based), `per_page`
(default 50, at most 200: more is refused), `format=ndjson` (every match, unpaginated),
`taxonomy_term_id`, `taxonomy_id`, `organization_id`, `modified_after` (RFC 3339), `full=true`
(fully nested items), `minimum_age`/`maximum_age` (v1), `day` (MO..SU) with `start_time` and
`end_time` (HH:MM), `postcode` (alone: services whose service area contains it) and
`proximity` (metres from the postcode centroid).

Signpost extensions: `lat`+`lon` (a point instead of a postcode), `coverage` (a postcode the
service area must contain), `age` (a person's age within minimum/maximum), `need` (term id or
code; expands through the needs → service types map, child terms included), `service_type`
(term id or code, child terms included), `accepts_self_referral`, `free`,
`delivery_mode` (in_person, phone, online), `language` (ISO 639), `assured_within_months`,
`exclude_temporarily_closed`. With a point, results are nearest first and each item carries
`distance` in metres. Parameters AND together; comma-separated values OR.

`postcode` and `coverage` take a postcode district alone too (`E15`). A district, or a valid
postcode missing from the postcode lookup, is placed by the district (outward code): the
response then carries `notes` (`[{"parameter", "code": "postcode-district", "detail"}]`) and a
`Warning: 299` header saying so. Only a district unknown to the lookup is a 400.
"""


def _warnings(notes: list[SearchNote]) -> dict[str, str]:
    """The notes as a `Warning` header too, for NDJSON, which has no envelope to carry them."""
    if not notes:
        return {}
    texts = ", ".join(f'299 directory-api "{note.detail}"' for note in notes)
    return {"Warning": texts}


def _with_distance(hit: Hit) -> bytes:
    if hit.distance_metres is None:
        return hit.body.encode()
    item = orjson.loads(hit.body)
    item["distance"] = round(hit.distance_metres)
    return orjson.dumps(item)


@router.get(
    "/services",
    operation_id="getPaginatedListOfServices",
    summary="Services (paginated; one-to-one fields, or fully nested with full=true)",
    description=FILTERS_DOC + "\n`minimal=true` returns every matching id with `last_modified`.",
    openapi_extra=declare(SERVICE_PARAMETERS),
)
async def list_services(request: Request, session: ReadSessionDep) -> Response:
    query, search, full = await _read_search(request, session, SERVICE_PARAMETERS)
    if query.boolean("minimal"):
        rows = await service.list_minimal(session, search)
        contents = [orjson.dumps({"id": i, "last_modified": timestamp(m)}) for i, m in rows]
        return json_response(
            envelope(len(rows), Page(1, None), contents, search.notes),
            headers=_warnings(search.notes),
        )

    async def services_page(session: AsyncSession, page: Page) -> tuple[int, list[bytes]]:
        total, hits = await service.search_services(session, search, page, full=full)
        return total, [_with_distance(hit) for hit in hits]

    return await _answer_search(request, session, query, search.notes, services_page)


SERVICES.add_read(
    router,
    service.read_service,
    operation_id="getFullyNestedServiceById",
    description="One ORUK service with everything nested: organisation, locations, schedules, "
    "contacts, eligibility, costs, languages and taxonomy terms.",
    summary="One service, fully nested (a retired service answers with status defunct)",
    responses={404: {"description": "No such service"}, 400: {"description": "Not a UUID"}},
)


@router.get(
    "/service_at_locations",
    operation_id="getPaginatedListOfServiceAtLocation",
    summary="Services at locations (paginated): the home of postcode + proximity search",
    description=FILTERS_DOC,
    openapi_extra=declare(SERVICE_AT_LOCATION_PARAMETERS),
)
async def list_service_at_locations(request: Request, session: ReadSessionDep) -> Response:
    query, search, full = await _read_search(request, session, SERVICE_AT_LOCATION_PARAMETERS)

    async def links_page(session: AsyncSession, page: Page) -> tuple[int, list[bytes]]:
        total, items = await service.search_at_locations(session, search, page, full=full)
        return total, [orjson.dumps(item) for item in items]

    return await _answer_search(request, session, query, search.notes, links_page)


@router.get(
    "/service_at_locations/{link_id}",
    operation_id="getServiceAtLocationWithNestedDataById",
    description="One service at one location, with the service, the location and their schedules "
    "nested.",
    summary="One service at a location, with its location and service",
    responses={404: {"description": "No such service_at_location"}},
)
async def get_service_at_location(link_id: str, session: ReadSessionDep) -> Response:
    document = await service.read_service_at_location(session, as_uuid("id", link_id))
    return json_response(orjson.dumps(document))


# Curation


SERVICES.add_create(
    curation,
    operation_id="createService",
    description="Adds a service in the ORUK shape, with what is nested in it; a repeat with the "
    "same id and content answers 200.",
    summary="Create a service (send an id to make retries safe: a repeat returns 200)",
    responses={
        200: {"description": "The same service was already created"},
        409: {"description": "The id is taken by different content"},
        422: {"description": "Invalid data; nothing was written"},
    },
)
SERVICES.add_replace(
    curation,
    if_match=True,
    operation_id="updateService",
    description="Replaces the service and what is nested in it.",
    summary="Replace a service (If-Match with its ETag guards against lost updates)",
    responses={
        404: {"description": "No such service"},
        409: {"description": "Retired"},
        412: {"description": "Stale If-Match"},
        422: {"description": "Invalid data"},
    },
)
SERVICES.add_retire(
    curation,
    service.retire_service,
    operation_id="retireService",
    description="Retires the service (status defunct): it leaves the lists, and the change feed "
    "reports it.",
    summary="Retire a service: status defunct, out of lists, a tombstone in the change feed",
)


@curation.post(
    "/services/{service_id}/assure",
    operation_id="assureService",
    description="Records that a curator checked the entry, and when (today unless given): "
    "`assured_date`, which the last-assured filter reads.",
    summary="Record that the entry was checked (assured_date today unless given)",
    responses=UPDATE_REFUSALS,
)
async def assure_service(
    service_id: str, request: Request, session: SessionDep, _caller: WriteCaller
) -> Response:
    # The body is optional: no body means "checked today".
    payload = await parse_body(request, AssuranceIn) if await request.body() else AssuranceIn()
    stored = await service.assure_service(
        session,
        as_uuid("id", service_id),
        payload.assurer_email,
        payload.assured_date or datetime.now(UTC).date(),
    )
    return json_response(stored.document, version=stored.version)


async def _read_search(
    request: Request, session: AsyncSession, parameters: Sequence[QueryParameter]
) -> tuple[QueryReader, ServiceFilter, bool]:
    """A service search's query, the filter it asks for, and whether items are fully nested."""
    query = QueryReader(list(request.query_params.multi_items()), parameters)
    search = await service_filter(session, query, request.app.state.settings)
    return query, search, bool(query.boolean("full"))


# One page of a search's matches (serialised) and how many there are in all.
PageFetcher = Callable[[AsyncSession, Page], Awaitable[tuple[int, list[bytes]]]]


async def _answer_search(
    request: Request,
    session: AsyncSession,
    query: QueryReader,
    notes: list[SearchNote],
    fetch: PageFetcher,
) -> Response:
    """Every match as NDJSON (`format=ndjson`), else the page asked for in the ORUK envelope."""
    if query.choice("format") == "ndjson":
        return _ndjson(request, fetch, notes)
    settings = request.app.state.settings
    page = read_page(query, settings.oruk_default_per_page, settings.oruk_max_per_page)
    total, contents = await fetch(session, page)
    return json_response(envelope(total, page, contents, notes), headers=_warnings(notes))


def _ndjson(request: Request, fetch: PageFetcher, notes: list[SearchNote]) -> StreamingResponse:
    """Every match, one JSON object a line, read in batches on a session of its own (the
    request's session is closed before the body streams)."""
    database = request.app.state.database

    async def lines() -> AsyncIterator[bytes]:
        number = 1
        while True:
            async with database.read_sessionmaker() as session:
                _, batch = await fetch(session, Page(number, 500))
            for line in batch:
                yield line + b"\n"
            if len(batch) < 500:
                return
            number += 1

    return StreamingResponse(lines(), media_type=NDJSON, headers=_warnings(notes))
