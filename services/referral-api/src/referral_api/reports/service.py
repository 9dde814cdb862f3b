"""Running a report: read how fresh the facts are, build it, apply disclosure control.

Each report is its own module in `reports/builders/` (its spec and its builder, which says what
it counts); `REPORTS` lists them. A report is built raw (true counts) and then published through
`disclosure.publish`, which applies the same small-number rules to every row and total.
Definitions are in docs/reports.md.
"""

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from referral_api.reports import disclosure, facts
from referral_api.reports.builders import REPORTS
from referral_api.reports.builders.common import Context, ReportSpec
from referral_api.reports.dimensions import Dimension, catalogue, column_name, fans_out
from referral_api.reports.query import ReportQuery
from referral_api.reports.tables import Report

__all__ = ["REPORTS", "Context", "ReportSpec", "describe_catalogue", "run"]


async def run(
    spec: ReportSpec, session: AsyncSession, query: ReportQuery, context: Context
) -> tuple[Report, datetime | None]:
    """Build the report from the facts as they stand (a report only reads: the refresh worker
    keeps them current) and apply disclosure control (unless the caller may see true counts).
    Returns it with the moment up to which its facts include every committed change (None
    before the facts were first built)."""
    as_of = await facts.freshness(session, context.pseudonym_key, context.disclosure_key)
    report = await spec.build(session, query, context)
    report = replace(
        report,
        name=spec.name,
        title=report.title or spec.heading or spec.title,
        group_columns=tuple(column_name(name) for name in query.group_by),
        one_group_each=not fans_out(query.group_by),
    )
    return disclosure.publish(report, query.controlled, context.ptable), as_of


def describe_catalogue() -> dict[str, Any]:
    """The reports, their options and the dimensions they filter and group by."""
    return {
        "reports": [
            {
                "name": spec.name,
                "title": spec.title,
                "description": spec.description,
                "href": f"/reports/{spec.name}",
                "options": [
                    {
                        "name": o.name,
                        "description": o.description,
                        "default": o.default,
                        **(
                            {"values": list(o.values)}
                            if o.values
                            else {"minimum": o.minimum, "maximum": o.maximum}
                        ),
                    }
                    for o in spec.options
                ],
                **(
                    {"default_group_by": list(spec.default_group_by)}
                    if spec.default_group_by
                    else {}
                ),
                **(
                    {"dimensions": [_describe(d) for d in spec.dimensions.values()]}
                    if spec.dimensions is not None
                    else {}
                ),
            }
            for spec in REPORTS.values()
        ],
        "dimensions": [_describe(d) for d in catalogue().values()],
        "parameters": {
            "from": "first referral date included (YYYY-MM-DD)",
            "to": "last referral date included (YYYY-MM-DD)",
            "group_by": "one or two dimensions, comma-separated or repeated",
            "format": "json (default), csv or svg; or send Accept: text/csv or image/svg+xml",
            "disclosure": "controlled or none; none needs reports:unsuppressed and is the default "
            "for a caller who holds it",
        },
        "disclosure": disclosure.RULE,
    }


def _describe(found: Dimension) -> dict[str, Any]:
    return {
        "name": found.name,
        "description": found.description,
        "filter": found.filterable,
        **({"values": list(found.values)} if found.values is not None else {}),
        **({"reports": list(found.reports)} if found.reports is not None else {}),
    }
