"""`GET /reports/screening`: the screening funnel as JSON or CSV (scope reports:read)."""

import io
from datetime import date
from functools import cache
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from starlette.responses import Response

from screening_api.reports.service import csv_rows, report_filter, screening_report
from signpost_platform.auth import Caller, require_scope
from signpost_platform.csv_output import CsvWriter
from signpost_platform.db import SessionDep
from signpost_platform.errors import BadRequest, Forbidden
from signpost_schemas.disclosure import RecordKeys, load_table

router = APIRouter(prefix="/reports", tags=["reports"])

ReportsCaller = Annotated[Caller, require_scope("reports:read")]
# Read as text (so a bad day is refused naming it, below) but documented as a date.
_A_DAY: dict[str, Any] = {"json_schema_extra": {"format": "date"}}


@cache
def _record_keys(secret: str) -> RecordKeys:
    return RecordKeys.of(secret)


def _day(name: str, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"{name} must be a date (YYYY-MM-DD)", expression=name) from None


@router.get(
    "/screening",
    operation_id="screeningReport",
    summary="The screening funnel per month, clinic and pathway, and item-level decline rates",
    description="Counts are published by the cell key method: adjusted by a small amount that "
    "depends only on the records counted; counts of 1 to 7 are suppressed (null) and other "
    "counts rounded to 5 and shown from 15 (smaller values suppressed too). `Accept: text/csv` "
    "(or `format=csv`) gives CSV.",
)
async def screening(
    request: Request,
    session: SessionDep,
    caller: ReportsCaller,
    start: Annotated[
        str | None, Query(alias="from", description="First day (YYYY-MM-DD)", **_A_DAY)
    ] = None,
    end: Annotated[
        str | None, Query(alias="to", description="Last day, inclusive", **_A_DAY)
    ] = None,
    clinic: Annotated[list[str] | None, Query(description="Clinic ODS code(s)")] = None,
    pathway: Annotated[list[str] | None, Query(description="Pathway code(s)")] = None,
    questionnaire: Annotated[list[str] | None, Query(description="Questionnaire URL(s)")] = None,
    format: Annotated[str | None, Query(description="json or csv")] = None,
    disclosure: Annotated[
        str,
        Query(
            description="controlled (default), or none for true counts (needs the "
            "reports:unsuppressed scope; not for publication)"
        ),
    ] = "controlled",
) -> Response:
    first, last = _day("from", start), _day("to", end)
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
