"""Re-referrals and parallel referrals.

Its spec (`SPEC`: name, title, options, as `GET /reports` lists them) and its builder.
"""

from sqlalchemy.ext.asyncio import AsyncSession

from referral_api.reports.builders.common import Context, ReportSpec, grouped_report
from referral_api.reports.query import ReportQuery
from referral_api.reports.repository import ReportRepository
from referral_api.reports.tables import Report, count, percentage


async def re_referrals(session: AsyncSession, query: ReportQuery, context: Context) -> Report:
    """Referrals that re-refer a person to a role soon after an earlier referral ended, and
    referrals running in parallel with one to another role."""
    rows, total = await ReportRepository(session).linkage(query)
    return grouped_report(
        query,
        "Re-referral: the same person referred to the same role again within the linkage "
        "window after the earlier referral ended. Parallel: referred to another role while a "
        "referral was open (the 'assessed twice' problem); each such pair counts once, at the "
        "later referral.",
        [
            count("referrals", "Referrals"),
            count("re_referrals", "Re-referrals"),
            percentage("re_referral_rate", "Re-referral rate %", "re_referrals", "referrals"),
            count("parallel", "Referrals in parallel with another role"),
            percentage("parallel_rate", "Parallel rate %", "parallel", "referrals"),
            count("people_in_parallel", "People referred to two roles at once"),
        ],
        rows,
        [total],
        [
            "Links are made by person (NHS number, else the sender's patient identifier) "
            "inside referral-api (window: "
            "REFERRAL_LINKAGE_WINDOW_DAYS); reports see only whether a referral is linked.",
        ],
        chart_measure="re_referral_rate",
    )


SPEC = ReportSpec(
    "re-referrals",
    "Re-referrals and parallel referrals",
    "Re-referral rate and referrals running in parallel across roles.",
    re_referrals,
)
