"""`GET /reports/screening`: the screening funnel as JSON or CSV (scope reports:read)."""

import io
from functools import cache
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.responses import Response

from screening_api.reports.search import (
    Clinics,
    Disclosure,
    FirstDay,
    Format,
    LastDay,
    Pathways,
    Questionnaires,
    parse_day,
)
from screening_api.reports.service import csv_rows, report_filter, screening_report
from signpost_platform.auth import Caller, require_scope
from signpost_platform.csv_output import CsvWriter
from signpost_platform.db import SessionDep
from signpost_platform.errors import BadRequest, Forbidden
from signpost_platform.routing import CheckedRoute
from signpost_schemas.disclosure import RecordKeys, load_table

router = APIRouter(route_class=CheckedRoute, prefix="/reports", tags=["reports"])

ReportsCaller = Annotated[Caller, require_scope("reports:read")]


@cache
def _record_keys(secret: str) -> RecordKeys:
    return RecordKeys.of(secret)


@router.get(
    "/screening",
    operation_id="screeningReport",
    summary="The screening funnel per month, clinic and pathway, and item-level decline rates",
    description="Counts are published by the cell key method: adjusted by a small amount that "
    "depends only on the records counted; counts of 1 to 7 are suppressed (null) and other "
    "counts rounded to 5 and shown from 15 (smaller values suppressed too). `Accept: text/csv` "
    "(or `format=csv`) gives CSV, where a suppressed count is `*` as in every CSV report.",
)
async def screening(
    request: Request,
    session: SessionDep,
    caller: ReportsCaller,
    start: FirstDay = None,
    end: LastDay = None,
    clinic: Clinics = None,
    pathway: Pathways = None,
    questionnaire: Questionnaires = None,
    format: Format = None,
    disclosure: Disclosure = "controlled",
) -> Response:
    first, last = parse_day("from", start), parse_day("to", end)
    if first and last and last < first:
        raise BadRequest("to must not be before from", expression="to")
    if format not in (None, "json", "csv"):
        raise BadRequest("format is json or csv", expression="format")
    if disclosure not in ("controlled", "none"):
        raise BadRequest("disclosure is controlled or none", expression="disclosure")
    if disclosure == "none" and not caller.has("reports:unsuppressed"):
        raise Forbidden("true counts need the scope reports:unsuppressed")
    settings = request.app.state.settings
    report = await screening_report(
        session,
        report_filter(first, last, clinic or [], pathway or [], questionnaire or []),
        _record_keys(settings.disclosure_key.get_secret_value()),
        controlled=disclosure == "controlled",
        table=load_table(settings.disclosure_ptable),
    )
    wants_csv = format == "csv" or (
        format is None and "text/csv" in request.headers.get("accept", "")
    )
    if wants_csv:
        buffer = io.StringIO()
        CsvWriter(buffer, lineterminator="\r\n").writerows(csv_rows(report))
        return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8")
    return JSONResponse(report)
