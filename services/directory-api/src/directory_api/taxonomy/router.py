"""ORUK taxonomy reads (public) and taxonomy curation (scope directory:write)."""

from typing import Annotated

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from directory_api.bodies import json_response, parse_body
from directory_api.curation import (
    CREATE_REFUSALS,
    RETIRE_REFUSALS,
    UPDATE_REFUSALS,
    Outcome,
    WriteMode,
)
from directory_api.documents.oruk import taxonomy_document
from directory_api.oruk.pages import envelope, read_list_page
from directory_api.oruk.params import QueryReader, as_uuid
from directory_api.taxonomy import service
from directory_api.taxonomy.schemas import TaxonomyIn, TaxonomyTermIn
from directory_api.taxonomy.search import TAXONOMY_PARAMETERS, TERM_PARAMETERS
from signpost_platform.auth import Caller, require_scope
from signpost_platform.db import ReadSessionDep, SessionDep
from signpost_platform.parameters import declare
from signpost_platform.urls import base_url

router = APIRouter(tags=["Open Referral UK"])
curation = APIRouter(tags=["curation"])
WriteCaller = Annotated[Caller, require_scope("directory:write")]


@router.get(
    "/taxonomies",
    operation_id="getPaginatedListOfTaxonomies",
    description="The taxonomies the directory's terms come from, in pages.",
    summary="Taxonomies (paginated)",
    openapi_extra=declare(TAXONOMY_PARAMETERS),
)
async def list_taxonomies(request: Request, session: ReadSessionDep) -> Response:
    settings = request.app.state.settings
    query = QueryReader(list(request.query_params.multi_items()), TAXONOMY_PARAMETERS)
    page = read_list_page(query, settings.oruk_default_per_page, settings.oruk_max_per_page)
    total, documents = await service.list_taxonomies(
        session, query.text("search") or query.text("text"), page
    )
    return json_response(envelope(total, page, [orjson.dumps(d) for d in documents]))


@router.get(
    "/taxonomies/{taxonomy_id}",
    operation_id="getTaxonomyById",
    description="One taxonomy.",
    summary="One taxonomy with its live terms",
    responses={404: {"description": "No such taxonomy"}},
)
async def get_taxonomy(taxonomy_id: str, session: ReadSessionDep) -> Response:
    document = await service.read_taxonomy(session, as_uuid("id", taxonomy_id))
    return json_response(orjson.dumps(document))


@router.get(
    "/taxonomy_terms",
    operation_id="getPaginatedListOfTaxonomyTerms",
    description="Taxonomy terms in pages, filtered by taxonomy, parent or text; the needs and "
    "service types services are tagged with.",
    summary="Taxonomy terms (paginated): `taxonomy_id`, `parent_id`, `top_only` (no parent), "
    "`search` on name and code",
    openapi_extra=declare(TERM_PARAMETERS),
)
async def list_taxonomy_terms(request: Request, session: ReadSessionDep) -> Response:
    settings = request.app.state.settings
    query = QueryReader(list(request.query_params.multi_items()), TERM_PARAMETERS)
    page = read_list_page(query, settings.oruk_default_per_page, settings.oruk_max_per_page)
    taxonomy_id = query.text("taxonomy_id")
    parent_id = query.text("parent_id")
    total, rows = await service.list_terms(
        session,
        text=query.text("search") or query.text("text"),
        taxonomy_id=as_uuid("taxonomy_id", taxonomy_id) if taxonomy_id else None,
        parent_id=as_uuid("parent_id", parent_id) if parent_id else None,
        top_only=bool(query.boolean("top_only")),
        page=page,
    )
    return json_response(envelope(total, page, [row.document.encode() for row in rows]))


@router.get(
    "/taxonomy_terms/{term_id}",
    operation_id="getTaxonomyTermById",
    description="One taxonomy term.",
    summary="One taxonomy term",
    responses={404: {"description": "No such term"}},
)
async def get_taxonomy_term(term_id: str, session: ReadSessionDep) -> Response:
    stored = await service.read_term(session, as_uuid("id", term_id))
    return json_response(stored.document)


@curation.post(
    "/taxonomies",
    operation_id="createTaxonomy",
    description="Adds a taxonomy (a vocabulary of service types or needs).",
    status_code=201,
    summary="Create a taxonomy (with its terms, if sent)",
    responses=CREATE_REFUSALS,
)
async def create_taxonomy(request: Request, session: SessionDep, _caller: WriteCaller) -> Response:
    payload = await parse_body(request, TaxonomyIn)
    stored, outcome = await service.save_taxonomy(session, payload, WriteMode.CREATE)
    return json_response(
        orjson.dumps(taxonomy_document(stored)),
        201 if outcome is Outcome.CREATED else 200,
        headers={"Location": f"{base_url(request)}/taxonomies/{stored.id}"},
    )


@curation.put(
    "/taxonomies/{taxonomy_id}",
    operation_id="updateTaxonomy",
    description="Replaces a taxonomy's name, description, uri or version.",
    summary="Replace a taxonomy's details",
    responses=UPDATE_REFUSALS,
)
async def update_taxonomy(
    taxonomy_id: str, request: Request, session: SessionDep, _caller: WriteCaller
) -> Response:
    payload = await parse_body(request, TaxonomyIn)
    stored, _ = await service.save_taxonomy(
        session, payload, WriteMode.UPDATE, as_uuid("id", taxonomy_id)
    )
    return json_response(orjson.dumps(taxonomy_document(stored)))


@curation.post(
    "/taxonomy_terms",
    operation_id="createTaxonomyTerm",
    description="Adds a term to a taxonomy, optionally under a parent term.",
    status_code=201,
    summary="Create a taxonomy term",
    responses=CREATE_REFUSALS,
)
async def create_term(request: Request, session: SessionDep, _caller: WriteCaller) -> Response:
    payload = await parse_body(request, TaxonomyTermIn)
    stored, outcome = await service.save_term(session, payload, WriteMode.CREATE)
    return json_response(
        stored.document,
        201 if outcome is Outcome.CREATED else 200,
        headers={"Location": f"{base_url(request)}/taxonomy_terms/{stored.id}"},
    )


@curation.put(
    "/taxonomy_terms/{term_id}",
    operation_id="updateTaxonomyTerm",
    description="Replaces a taxonomy term.",
    summary="Replace a taxonomy term; services using it are re-rendered",
    responses=UPDATE_REFUSALS,
)
async def update_term(
    term_id: str, request: Request, session: SessionDep, _caller: WriteCaller
) -> Response:
    payload = await parse_body(request, TaxonomyTermIn)
    stored, _ = await service.save_term(session, payload, WriteMode.UPDATE, as_uuid("id", term_id))
    return json_response(stored.document)


@curation.post(
    "/taxonomy_terms/{term_id}/retire",
    operation_id="retireTaxonomyTerm",
    description="Retires the term.",
    summary="Retire a term no live service or child term uses",
    responses=RETIRE_REFUSALS,
)
async def retire_term(term_id: str, session: SessionDep, _caller: WriteCaller) -> Response:
    stored = await service.retire_term(session, as_uuid("id", term_id))
    return json_response(stored.document)
