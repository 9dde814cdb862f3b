"""`/_ping` (the process is alive) and `/_status` (ready: database reachable, schema not behind)."""

import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from signpost_platform.migrations import current_revisions
from signpost_platform.routing import CheckedRoute

logger = logging.getLogger("signpost.health")

router = APIRouter(route_class=CheckedRoute, tags=["health"])
# What a deployer does about a schema behind this release (docs/deploy.md).
MIGRATE_ACTION = (
    "run this release's migrations: make migrate, or the image's migrate command "
    "(entrypoint.sh <service> migrate; the *-migrate Job)"
)


@router.get(
    "/_ping",
    operation_id="ping",
    description="Answers 200 while the process runs, without touching the database: for liveness "
    "probes.",
    summary="Liveness: the process answers",
)
async def ping(request: Request) -> dict[str, str]:
    return {"status": "ok", "service": request.app.state.service_name}


@router.get(
    "/_status",
    operation_id="status",
    description="200 when the database answers and its schema is at the migration head, else 503 "
    "naming what is wrong: for readiness probes and load balancers.",
    summary="Readiness: the database answers and its schema is at the migration head",
    responses={503: {"description": "Not ready; the body says which check failed"}},
)
async def status(request: Request) -> JSONResponse:
    state = request.app.state
    body: dict[str, Any] = {"service": state.service_name, "version": state.version}
    try:
        current = await current_revisions(state.database.engine)
        body["database"] = "ok"
    except Exception as error:  # any failure to reach or read the database means not ready
        logger.warning("status check: database unreachable", extra={"error": type(error).__name__})
        body.update(status="unavailable", database="unreachable")
        return JSONResponse(body, status_code=503)
    heads = state.migration_heads
    known = state.known_revisions
    schema = "current" if current == heads else ("behind" if current <= known else "ahead")
    body["migrations"] = {"current": sorted(current), "head": sorted(heads), "schema": schema}
    # Behind: this release needs migrations that have not run. Ahead: a newer release's
    # migration has run during a rolling deploy; that release's migrations are backwards
    # compatible (expand, then contract), so this one stays in service until it is replaced.
    if schema == "behind":
        body["status"] = "unavailable"
        body["migrations"]["action"] = MIGRATE_ACTION
        return JSONResponse(body, status_code=503)
    body["status"] = "ok"
    return JSONResponse(body)
