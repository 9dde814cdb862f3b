"""Where referrals are now: their lifecycle status.

Its spec (`SPEC`: name, title, options, as `GET /reports` lists them) and its builder.
"""

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from referral_api.reports.builders.common import (
    Context,
    ReportSpec,
    count_of,
    group_key,
    grouped_report,
    sum_counts,
    ungrouped,
)
from referral_api.reports.dimensions import column_name, fans_out
from referral_api.reports.query import ReportQuery
from referral_api.reports.repository import ReportRepository
from referral_api.reports.tables import Report, Row, count, percentage, rows_by

STATUSES = ("received", "accepted", "declined", "cancelled", "closed")


def _status_row(found: Sequence[Row]) -> Row:
    row: Row = {}
    for status in STATUSES:
        row.update(
            sum_counts(
                [count_of(i, "referrals", status) for i in found if i["status"] == status], [status]
            )
        )
    row.update(
        sum_counts([count_of(row, status, "referrals") for status in STATUSES], ["referrals"])
    )
    return row


async def outcomes(session: AsyncSession, query: ReportQuery, context: Context) -> Report:
    """Where referrals are now: received (no response yet), accepted, declined, cancelled,
    closed."""
    repository = ReportRepository(session)
    raw = await repository.lifecycle_status(query)
    grouped = rows_by(raw, lambda item: group_key(item, query.group_by))
    rows = [
        {**{column_name(n): key[i] for i, n in enumerate(query.group_by)}, **_status_row(found)}
        for key, found in grouped.items()
    ]
    whole = await repository.lifecycle_status(ungrouped(query)) if fans_out(query.group_by) else raw
    return grouped_report(
        query,
        "The lifecycle status of referrals made in the period, as it stands now.",
        [
            count("referrals", "Referrals"),
            count("received", "Received, no response yet"),
            count("accepted", "Accepted, open"),
            count("declined", "Declined"),
            count("cancelled", "Cancelled"),
            count("closed", "Closed"),
            percentage("declined_rate", "% declined", "declined", "referrals"),
            percentage("closed_rate", "% closed", "closed", "referrals"),
        ],
        rows,
        [_status_row(whole)],
        chart_measure="closed",
    )


SPEC = ReportSpec(
    "outcomes",
    "Referral outcomes",
    "Received, accepted, declined, cancelled and closed.",
    outcomes,
)
