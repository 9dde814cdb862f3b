"""ORUK taxonomy reads (public) and taxonomy curation (scope directory:write)."""

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from directory_api.bodies import json_response
from directory_api.curation import CREATE_REFUSALS, RETIRE_REFUSALS, UPDATE_REFUSALS
from directory_api.documents.oruk import taxonomy_document
from directory_api.oruk.pages import envelope, read_list
from directory_api.oruk.params import as_uuid
from directory_api.record_routes import RecordRoutes, document_alone
from directory_api.taxonomy import service
from directory_api.taxonomy.schemas import TaxonomyIn, TaxonomyTermIn
from directory_api.taxonomy.search import TAXONOMY_PARAMETERS, TERM_PARAMETERS
from signpost_platform.db import ReadSessionDep
from signpost_platform.parameters import declare
from signpost_platform.routing import CheckedRoute

router = APIRouter(route_class=CheckedRoute, tags=["Open Referral UK"])
curation = APIRouter(route_class=CheckedRoute, tags=["curation"])

# A taxonomy answers with its ORUK document, and no ETag: taxonomies have no versions.
TAXONOMIES = RecordRoutes(
    "/taxonomies",
    "taxonomy_id",
    TaxonomyIn,
    service.save_taxonomy,
    lambda stored: (orjson.dumps(taxonomy_document(stored)), None),
)
TERMS = RecordRoutes(
    "/taxonomy_terms", "term_id", TaxonomyTermIn, service.save_term, document_alone
)


@router.get(
    "/taxonomies",
    operation_id="getPaginatedListOfTaxonomies",
    description="The taxonomies the directory's terms come from, in pages.",
    summary="Taxonomies (paginated)",
    openapi_extra=declare(TAXONOMY_PARAMETERS),
)
async def list_taxonomies(request: Request, session: ReadSessionDep) -> Response:
    query, page = read_list(request, TAXONOMY_PARAMETERS)
    total, documents = await service.list_taxonomies(session, query.search_text(), page)
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
    query, page = read_list(request, TERM_PARAMETERS)
    taxonomy_id = query.text("taxonomy_id")
    parent_id = query.text("parent_id")
    total, rows = await service.list_terms(
        session,
        text=query.search_text(),
        taxonomy_id=as_uuid("taxonomy_id", taxonomy_id) if taxonomy_id else None,
        parent_id=as_uuid("parent_id", parent_id) if parent_id else None,
        top_only=bool(query.boolean("top_only")),
        page=page,
    )
    return json_response(envelope(total, page, [row.document.encode() for row in rows]))


TERMS.add_read(
    router,
    service.read_term,
    operation_id="getTaxonomyTermById",
    description="One taxonomy term.",
    summary="One taxonomy term",
    responses={404: {"description": "No such term"}},
)

TAXONOMIES.add_create(
    curation,
    operation_id="createTaxonomy",
    description="Adds a taxonomy (a vocabulary of service types or needs).",
    summary="Create a taxonomy (with its terms, if sent)",
    responses=CREATE_REFUSALS,
)
TAXONOMIES.add_replace(
    curation,
    if_match=False,
    operation_id="updateTaxonomy",
    description="Replaces a taxonomy's name, description, uri or version.",
    summary="Replace a taxonomy's details",
    responses=UPDATE_REFUSALS,
)

TERMS.add_create(
    curation,
    operation_id="createTaxonomyTerm",
    description="Adds a term to a taxonomy, optionally under a parent term.",
    summary="Create a taxonomy term",
    responses=CREATE_REFUSALS,
)
TERMS.add_replace(
    curation,
    if_match=False,
    operation_id="updateTaxonomyTerm",
    description="Replaces a taxonomy term.",
    summary="Replace a taxonomy term; services using it are re-rendered",
    responses=UPDATE_REFUSALS,
)
TERMS.add_retire(
    curation,
    service.retire_term,
    operation_id="retireTaxonomyTerm",
    description="Retires the term.",
    summary="Retire a term no live service or child term uses",
    responses=RETIRE_REFUSALS,
)
