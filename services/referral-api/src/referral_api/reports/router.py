"""`GET /reports` and `GET /reports/{report}`: thin — parse, authorise, build, render.

Scope `reports:read`; `reports:unsuppressed` unlocks true counts. Output is JSON, CSV
(`format=csv` or `Accept: text/csv`) or an SVG chart (`format=svg` or `Accept: image/svg+xml`).
Every bad parameter is a 400 problem+json naming it.
"""

import logging
from collections.abc import AsyncIterator
from importlib import resources
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from referral_api.reports import charts, rendering, service
from referral_api.reports.query import MEDIA_TYPES, parse_query
from signpost_platform.auth import Caller, require_scope
from signpost_platform.db import snapshot_session
from signpost_platform.routing import CheckedRoute
from signpost_schemas.disclosure import UNSUPPRESSED_SCOPE, load_table

logger = logging.getLogger("signpost.reports")
router = APIRouter(route_class=CheckedRoute, prefix="/reports", tags=["reports"])
ReportsCaller = Annotated[Caller, require_scope("reports:read")]


async def _report_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A report's session: one read-only snapshot of the facts (its totals and groups agree
    even while the refresh worker commits), with the report planner settings."""
    planner = request.app.state.settings.report_planner_settings
    async with snapshot_session(request.app.state.database, planner) as session:
        yield session


ReportSessionDep = Annotated[AsyncSession, Depends(_report_session, scope="function")]

# Up to when a report's facts include every committed change (docs/reports.md, freshness).
FRESHNESS_HEADER = "X-Facts-Refreshed-At"
_FRESHNESS = {
    FRESHNESS_HEADER: {
        "description": "The facts the report is built from include every change committed "
        "before this moment (UTC, RFC 3339); the refresh worker keeps it within seconds of "
        "now. Absent until the facts have first been built.",
        "schema": {"type": "string", "format": "date-time"},
    }
}

_PROBLEM = {
    "content": {
        "application/problem+json": {
            "example": {
                "type": "about:blank",
                "title": "Bad Request",
                "status": 400,
                "detail": "role: 'link-worker' is not in its code list (...)",
                "errors": [{"code": "invalid", "detail": "...", "parameter": "role"}],
            }
        }
    }
}


# Each report run on a fixed synthetic dataset (tests/support/report_examples.py rebuilds it).
_EXAMPLES: dict[str, dict[str, Any]] = orjson.loads(
    resources.files("referral_api").joinpath("data", "report-examples.json").read_bytes()
)


@router.get(
    "",
    operation_id="listReports",
    description="Every report with its dimensions and options, and the small-number disclosure "
    "rule applied to them.",
    summary="The reports, their dimensions, options and the disclosure rule",
    responses={
        200: {
            "description": "The catalogue",
            "content": {"application/json": {"example": service.describe_catalogue()}},
        },
        403: {"description": "The token lacks reports:read"},
    },
)
async def list_reports(_caller: ReportsCaller) -> Response:
    return Response(orjson.dumps(service.describe_catalogue()), media_type="application/json")


def _parameters(spec: service.ReportSpec) -> list[dict[str, Any]]:
    """The query parameters of a report, for the OpenAPI document."""
    dimensions = spec.offered()
    day = spec.period
    parameters: list[dict[str, Any]] = [
        {
            "name": "from",
            "in": "query",
            "description": f"First {day} included",
            "schema": {"type": "string", "format": "date"},
        },
        {
            "name": "to",
            "in": "query",
            "description": f"Last {day} included",
            "schema": {"type": "string", "format": "date"},
        },
        {
            "name": "group_by",
            "in": "query",
            "description": (
                "One or two dimensions"
                if spec.max_group_by == 2
                else f"Up to {spec.max_group_by} dimensions"
            )
            + " (comma-separated or repeated)"
            + (f"; default {','.join(spec.default_group_by)}" if spec.default_group_by else ""),
            "schema": {
                "type": "array",
                "items": {
                    "type": "string",
                    "enum": [n for n in dimensions if n not in spec.reserved],
                },
            },
            "style": "form",
            "explode": True,
        },
        {
            "name": "format",
            "in": "query",
            "description": "json (default), csv or svg",
            "schema": {"type": "string", "enum": ["json", "csv", "svg"]},
        },
        {
            "name": "disclosure",
            "in": "query",
            "description": "controlled, or none for true counts (needs reports:unsuppressed; the "
            "default for such a caller)",
            "schema": {"type": "string", "enum": ["controlled", "none"]},
        },
    ]
    for option in spec.options:
        schema: dict[str, Any] = (
            {"type": "string", "enum": list(option.values)}
            if option.values
            else {"type": "integer", "minimum": option.minimum, "maximum": option.maximum}
        )
        parameters.append(
            {
                "name": option.name,
                "in": "query",
                "description": f"{option.description} (default {option.default})",
                "schema": schema,
            }
        )
    for dimension in dimensions.values():
        if dimension.filterable:
            items: dict[str, Any] = {"type": "string"}
            if dimension.values is not None and dimension.pattern is not None:
                # A listed value, or one the pattern admits (any SNOMED CT concept id).
                items = {
                    "anyOf": [
                        {"type": "string", "enum": list(dimension.values)},
                        {"type": "string", "pattern": dimension.pattern.pattern},
                    ]
                }
            elif dimension.values is not None:
                items["enum"] = list(dimension.values)
            parameters.append(
                {
                    "name": dimension.name,
                    "in": "query",
                    "description": f"Filter: {dimension.description} (several values: any of them)",
                    "schema": {"type": "array", "items": items},
                    "style": "form",
                    "explode": True,
                }
            )
    return parameters


def _add_route(spec: service.ReportSpec) -> None:
    # The caller first: FastAPI solves dependencies in order, and one refused takes no session.
    async def report(
        request: Request, caller: ReportsCaller, session: ReportSessionDep
    ) -> Response:
        query = parse_query(
            list(request.query_params.multi_items()),
            accept=request.headers.get("accept"),
            may_unsuppress=caller.has(UNSUPPRESSED_SCOPE),
            options=spec.options,
            reserved=spec.reserved,
            default_group_by=spec.default_group_by,
            dimensions=spec.offered(),
            max_group_by=spec.max_group_by,
        )
        settings = request.app.state.settings
        context = service.Context(
            settings.pseudonym_key,
            settings.disclosure_key,
            load_table(settings.disclosure_ptable),
        )
        published, as_of = await service.run(spec, session, query, context)
        logger.info(
            "report served",
            extra={
                "report": spec.name,
                "subject": caller.subject,
                "output": query.output,
                "disclosure_controlled": query.controlled,
            },
        )
        headers = {
            "Cache-Control": "no-store",
            "X-Disclosure-Control": "controlled" if query.controlled else "none",
        }
        if as_of is not None:
            headers[FRESHNESS_HEADER] = as_of.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
        if query.output == "csv":
            headers["Content-Disposition"] = f'attachment; filename="{spec.name}.csv"'
            body = rendering.as_csv(published).encode()
        elif query.output == "svg":
            headers["Content-Disposition"] = f'inline; filename="{spec.name}.svg"'
            body = charts.as_svg(published).encode()
        else:
            body = orjson.dumps(rendering.as_json(published, query))
        media_type = MEDIA_TYPES[query.output]
        if query.output != "json":
            media_type += "; charset=utf-8"
        return Response(body, media_type=media_type, headers=headers)

    # A report without a captured example yet (until report_examples is rebuilt) has none:
    # tests/openapi/test_published_spec.py fails on it.
    example = _EXAMPLES.get(spec.name)
    responses: dict[int | str, dict[str, Any]] = {
        200: {
            "description": "The report (JSON, CSV or an SVG chart)",
            "headers": _FRESHNESS,
            "content": {
                "application/json": {"example": example["json"]} if example else {},
                "text/csv": {"example": example["csv"]} if example else {},
                "image/svg+xml": {},
            },
        },
        400: {"description": "A parameter is unknown or has a bad value", **_PROBLEM},
        403: {
            "description": "The token lacks reports:read (or reports:unsuppressed for "
            "disclosure=none)"
        },
    }
    if spec.needs:
        responses[409] = {"description": f"Nothing to compute from until {spec.needs} are loaded"}
    router.add_api_route(
        f"/{spec.name}",
        report,
        methods=["GET"],
        operation_id=f"report{''.join(p.title() for p in spec.name.split('-'))}",
        summary=spec.title,
        description=spec.description + " Counts of 1 to 7 are suppressed and others rounded "
        "to the nearest 5 unless the caller holds reports:unsuppressed (docs/reports.md).",
        openapi_extra={"parameters": _parameters(spec)},
        responses=responses,
    )


for _spec in service.REPORTS.values():
    _add_route(_spec)
