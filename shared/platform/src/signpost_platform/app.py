"""The app factory every Signpost service is built with."""

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI

from signpost_platform import health, smart
from signpost_platform.audit import AuditReach, AuditTrail
from signpost_platform.auth import Authenticator
from signpost_platform.collector import serving_collector
from signpost_platform.db import Database
from signpost_platform.envelope import RequestEnvelopeMiddleware
from signpost_platform.errors import install_error_handlers
from signpost_platform.logging import configure_logging
from signpost_platform.metrics import router as metrics_router
from signpost_platform.middleware import (
    AcceptMiddleware,
    BodySizeLimitMiddleware,
    CompressionMiddleware,
    ConditionalGetMiddleware,
    HeadMiddleware,
)
from signpost_platform.migrations import head_revisions, known_revisions
from signpost_platform.openapi_docs import (
    OperationExamples,
    install_openapi_shaping,
    register_examples,
)
from signpost_platform.openapi_links import Links, register_links
from signpost_platform.routing import CheckedRoute, add_routes, unchecked_routes
from signpost_platform.security import RateLimitMiddleware
from signpost_platform.settings import ServiceSettings
from signpost_platform.tracing import configure_tracing

# Answers smaller than this go uncompressed: compressing them saves less than it costs.
GZIP_MINIMUM_BYTES = 1024
# zlib's own default rather than Starlette's 9: the data-quality report's default view (6.4 MB
# of JSON) compresses in 45 ms rather than 93, to 141 KB rather than 118.
GZIP_LEVEL = 6
# What the services serve compressed already (the pages' images), not compressed again. Starlette
# normalises this list on every request: its default of fourteen types cost each request more
# than the one type served.
GZIP_EXCLUDED = ("image/png",)

Lifecycle = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def create_app(
    *,
    service_name: str,
    title: str,
    version: str,
    description: str,
    settings: ServiceSettings,
    routers: Sequence[APIRouter],
    openapi_tags: list[dict[str, Any]] | None = None,
    wider_scopes: Sequence[str] = (),
    lifecycles: Sequence[Lifecycle] = (),
    examples: Mapping[str, OperationExamples] | None = None,
    links: Links | None = None,
    configure: Callable[[FastAPI], None] | None = None,
    audit: AuditTrail | None = None,
) -> FastAPI:
    """Build a service app: settings, database, auth, errors, logging, health and `routers`.

    `service_name` is also the name of the service's Alembic history (`migrations/<name>`).
    `lifecycles` are async context managers entered after the database is ready (e.g. workers).
    `wider_scopes` are the scopes the service checks besides those its operations require (the
    `...:all-organisations` scopes that widen a caller's reach): with those, the SMART
    configuration lists every scope the service understands. `examples` and `links` (keyed by
    operationId) are written into the OpenAPI document; `configure` does what else the service
    needs once its routes are in. A service with an `audit` trail serves it (`GET /audit`, after
    its own routes) and understands the scope that reads every organisation's events.
    """
    if audit is not None:
        routers = [*routers, audit.router()]
        wider_scopes = [*wider_scopes, AuditReach.all_organisations_scope]
    configure_logging(service_name, settings.log_level)
    configure_tracing(service_name)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.database = Database(
            settings.database_url,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            pre_ping=settings.db_pool_pre_ping,
            statement_timeout_seconds=settings.db_statement_timeout_seconds,
        )
        app.state.authenticator = Authenticator(settings)
        app.state.migration_heads = head_revisions(settings.alembic_ini, service_name)
        app.state.known_revisions = known_revisions(settings.alembic_ini, service_name)
        try:
            await app.state.authenticator.start()
            async with _enter_all(app, lifecycles):
                with serving_collector():
                    yield
        finally:
            await app.state.authenticator.close()
            await app.state.database.dispose()

    app = FastAPI(
        title=title,
        version=version,
        description=description,
        lifespan=lifespan,
        # Traces, metrics and access logs come from the middleware below (the server span,
        # metrics and access log of RequestEnvelopeMiddleware). FastAPI's own telemetry would
        # start a second server span per request and spans around each dependency and the
        # endpoint as soon as a tracer provider is installed (configure_tracing installs one).
        telemetry={"tracing": False, "metrics": False, "logs": False},
        # The OpenAPI document is published everywhere; the pages that run it only where enabled.
        docs_url="/docs" if settings.docs_pages else None,
        redoc_url="/redoc" if settings.docs_pages else None,
        openapi_tags=[
            *(openapi_tags or []),
            {"name": "authorisation", "description": "How to obtain a token (SMART configuration)"},
            {"name": "health", "description": "Liveness and readiness"},
        ],
    )
    app.router.route_class = CheckedRoute  # routes added to the app itself are checked too
    app.state.service_name = service_name
    app.state.version = version
    app.state.settings = settings
    app.state.wider_scopes = tuple(wider_scopes)
    install_error_handlers(app)
    # Outermost last: the envelope (trace, correlation id, access log, metrics, security headers)
    # → HEAD as GET → gzip → rate limit → body cap → conditional reads (304) → FHIR content
    # negotiation (406).
    app.add_middleware(AcceptMiddleware)
    app.add_middleware(ConditionalGetMiddleware)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(
        RateLimitMiddleware,
        per_minute=settings.rate_limit_per_minute,
        burst=settings.rate_limit_burst,
    )
    app.add_middleware(
        CompressionMiddleware,
        minimum_size=GZIP_MINIMUM_BYTES,
        compresslevel=GZIP_LEVEL,
        exclude_content_types=GZIP_EXCLUDED,
    )
    app.add_middleware(HeadMiddleware)
    app.add_middleware(RequestEnvelopeMiddleware, service=service_name)
    # The service's own routes first: a request is matched against the routes in order (the
    # probes, SMART configuration and metrics are rarely asked for, so they come last).
    add_routes(app, (*routers, health.router, smart.router, metrics_router))
    register_examples(app, examples or {})
    register_links(app, links or {})
    if configure is not None:
        configure(app)
    unchecked = unchecked_routes(app)
    if unchecked:
        raise TypeError(
            f"{', '.join(unchecked)}: make each route with APIRouter(route_class=CheckedRoute) "
            "(signpost_platform.routing), so that its requests are checked"
        )
    install_openapi_shaping(app)
    return app


@asynccontextmanager
async def _enter_all(app: FastAPI, lifecycles: Sequence[Lifecycle]) -> AsyncIterator[None]:
    if not lifecycles:
        yield
        return
    first, *rest = lifecycles
    async with first(app), _enter_all(app, rest):
        yield


__all__ = ["create_app"]
