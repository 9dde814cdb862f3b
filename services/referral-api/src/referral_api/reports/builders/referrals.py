"""Referrals and the people they are for.

Its spec (`SPEC`: name, title, options, as `GET /reports` lists them) and its builder.
"""

from sqlalchemy.ext.asyncio import AsyncSession

from referral_api.reports.builders.common import Context, ReportSpec, grouped_report
from referral_api.reports.query import ReportQuery
from referral_api.reports.repository import ReportRepository
from referral_api.reports.tables import Report, count


async def referrals(session: AsyncSession, query: ReportQuery, context: Context) -> Report:
    """Referrals, and the people they are for (distinct pseudonyms), per group."""
    rows, total = await ReportRepository(session).referral_counts(query, people=True)
    return grouped_report(
        query,
        "Referrals made in the period, and the number of different people they were for.",
        [
            count("referrals", "Referrals"),
            count("people", "People (distinct, by keyed pseudonym)", additive=False),
        ],
        rows,
        [total],
        [
            "People are counted by a keyed pseudonym of the NHS number (or, for a person "
            "without one, of the sender's patient identifier): a person referred twice counts "
            "once in people, twice in referrals.",
        ],
        dimension_notes_first=True,
        chart_measure="referrals",
    )


SPEC = ReportSpec(
    "referrals",
    "Referrals and people",
    "Referrals and distinct people by month, PCN, practice, role, source or any other dimension.",
    referrals,
)
