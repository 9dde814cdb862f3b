"""Contacts by attendance outcome and the DNA rate.

Its spec (`SPEC`: name, title, options, as `GET /reports` lists them) and its builder.
"""

from sqlalchemy.ext.asyncio import AsyncSession

from referral_api.reports.builders.common import (
    Context,
    ReportSpec,
    count_of,
    grouped_report,
    sum_counts,
)
from referral_api.reports.query import ReportQuery
from referral_api.reports.repository import ReportRepository
from referral_api.reports.tables import Report, Row, count, percentage


def with_due(row: Row) -> Row:
    row.update(
        sum_counts([count_of(row, n, "appointments_due") for n in DUE], ["appointments_due"])
    )
    return row


DUE = ("attended", "dna", "not_seen")


async def attendance(session: AsyncSession, query: ReportQuery, context: Context) -> Report:
    """Contacts by attendance outcome and the did-not-attend (DNA) rate."""
    rows, total = await ReportRepository(session).attendance(query)
    return grouped_report(
        query,
        "Contacts by attendance outcome. DNA rate = did not attend / (attended + did not "
        "attend + arrived too late to be seen).",
        [
            count("referrals_with_contact", "Referrals with a contact"),
            count("contacts", "Contacts"),
            count("attended", "Attended"),
            count("dna", "Did not attend"),
            count("not_seen", "Arrived late, not seen"),
            count("cancelled_by_patient", "Cancelled by the person"),
            count("cancelled_by_provider", "Cancelled by the service"),
            count("booked", "Booked (in the future)"),
            count("appointments_due", "Appointments due"),
            percentage("dna_rate", "DNA rate %", "dna", "appointments_due"),
            count("referrals_with_dna", "Referrals with a DNA"),
            percentage(
                "referrals_with_dna_rate",
                "% of referrals with a contact that had a DNA",
                "referrals_with_dna",
                "referrals_with_contact",
            ),
        ],
        [with_due(row) for row in rows],
        [with_due(total)],
        ["Contacts entered in error are left out."],
        chart_measure="dna_rate",
    )


SPEC = ReportSpec(
    "attendance",
    "Attendance",
    "Contacts by attendance outcome and the DNA rate.",
    attendance,
)
