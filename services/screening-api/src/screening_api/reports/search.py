"""The query parameters of `GET /reports/screening`, declared once for the parser (FastAPI reads
them) and the OpenAPI document, and the reading of its days."""

from datetime import date
from typing import Annotated, Any

from fastapi import Query

from signpost_platform.errors import BadRequest

# Read as text (so a bad day is refused naming it, below) but documented as a date.
_A_DAY: dict[str, Any] = {"json_schema_extra": {"format": "date"}}

FirstDay = Annotated[
    str | None, Query(alias="from", description="First day (YYYY-MM-DD)", **_A_DAY)
]
LastDay = Annotated[str | None, Query(alias="to", description="Last day, inclusive", **_A_DAY)]
Clinics = Annotated[list[str] | None, Query(description="Clinic ODS code(s)")]
Pathways = Annotated[list[str] | None, Query(description="Pathway code(s)")]
Questionnaires = Annotated[list[str] | None, Query(description="Questionnaire URL(s)")]
Format = Annotated[str | None, Query(description="json or csv")]
Disclosure = Annotated[
    str,
    Query(
        description="controlled (default), or none for true counts (needs the "
        "reports:unsuppressed scope; not for publication)"
    ),
]


def parse_day(name: str, value: str | None) -> date | None:
    """`from` or `to` as a date; 400 naming the parameter when it is not one."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"{name} must be a date (YYYY-MM-DD)", expression=name) from None
