"""The directory-api app factory: `uvicorn --factory directory_api.main:create_app`."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

import directory_api.models  # noqa: F401  (registers every table before the first query)
from directory_api import __version__
from directory_api.changes.repository import ChangeRepository
from directory_api.changes.router import router as changes_router
from directory_api.config import DirectorySettings
from directory_api.fhir.router import metadata as fhir_metadata_router
from directory_api.fhir.router import router as fhir_router
from directory_api.imports.router import router as imports_router
from directory_api.locations.router import curation as locations_curation
from directory_api.openapi_examples import EXAMPLES
from directory_api.openapi_links import LINKS
from directory_api.organizations.router import curation as organizations_curation
from directory_api.organizations.router import router as organizations_router
from directory_api.oruk.cors import AllowAnyOriginMiddleware
from directory_api.oruk.router import router as oruk_router
from directory_api.reports.router import router as reports_router
from directory_api.seed import loader
from directory_api.services.router import curation as services_curation
from directory_api.services.router import router as services_router
from directory_api.taxonomy.router import curation as taxonomy_curation
from directory_api.taxonomy.router import router as taxonomy_router
from signpost_platform.app import create_app as create_service_app

logger = logging.getLogger("directory.seed")

DESCRIPTION = """
One directory of services, the six personalised-care roles among them, published as
**Open Referral UK (HSDS-UK 3.0)** at the service root and as a **FHIR R4** view under `/fhir`
(HealthcareService, Location, Organization; UK Core shaped).

ORUK reads are open (no authentication) and answer with `Access-Control-Allow-Origin: *`.
Curation (create, update, retire, assure, bulk import) needs a bearer token with the scope
`directory:write`. `GET /changes` is a change feed with retirements as tombstones. Errors outside
`/fhir` are RFC 9457 problem+json naming the parameter or field; under `/fhir` they are
OperationOutcomes. See docs/directory.md for the extensions to ORUK.
"""


@asynccontextmanager
async def seed_on_startup(app: FastAPI) -> AsyncIterator[None]:
    """Postcode sample, reference taxonomies, the six roles (and the London sample in dev)."""
    settings: DirectorySettings = app.state.settings
    if settings.seed_on_startup:
        async with app.state.database.sessionmaker() as session, session.begin():
            # Replicas starting together seed one after another, each waiting for the last.
            await ChangeRepository(session).lock_when_free()
            postcodes = await loader.load_sample_postcodes(session)
            await loader.seed_reference(session)
            samples = (
                await loader.seed_sample_services(session)
                if settings.loads_sample_services()
                else 0
            )
        logger.info("seeded", extra={"postcodes": postcodes, "sample_services": samples})
    yield


def _configure(app: FastAPI) -> None:
    app.add_middleware(AllowAnyOriginMiddleware)


def create_app(settings: DirectorySettings | None = None) -> FastAPI:
    return create_service_app(
        service_name="directory",
        title="Signpost directory-api",
        version=__version__,
        description=DESCRIPTION,
        settings=settings or DirectorySettings(),
        routers=[
            oruk_router,
            services_router,
            organizations_router,
            taxonomy_router,
            changes_router,
            services_curation,
            organizations_curation,
            locations_curation,
            taxonomy_curation,
            imports_router,
            reports_router,
            fhir_metadata_router,
            fhir_router,
        ],
        openapi_tags=[
            {"name": "Open Referral UK", "description": "HSDS-UK 3.0 read API (no authentication)"},
            {"name": "change feed", "description": "Sync: every change, retirements included"},
            {"name": "curation", "description": "Create, update, retire (scope directory:write)"},
            {"name": "imports", "description": "Bulk import of ORUK JSON / NDJSON"},
            {"name": "reports", "description": "Curation reports"},
            {"name": "FHIR", "description": "FHIR R4 view (UK Core shaped)"},
        ],
        lifecycles=[seed_on_startup],
        examples=EXAMPLES,
        links=LINKS,
        configure=_configure,
    )
