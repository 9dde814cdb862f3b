"""Reason vs support offered.

Its spec (`SPEC`: name, title, options, as `GET /reports` lists them) and its builder.
"""

from sqlalchemy.ext.asyncio import AsyncSession

from referral_api.reports import matching
from referral_api.reports.builders.common import (
    REASON_DIMENSIONS,
    Context,
    ReportSpec,
    grouped_report,
)
from referral_api.reports.query import ReportQuery
from referral_api.reports.repository import ReportRepository
from referral_api.reports.tables import Column, Report, count, percentage


async def support_match(session: AsyncSession, query: ReportQuery, context: Context) -> Report:
    """How often the support offered addresses the need referred for (reason vs support)."""
    mapping = matching.support_groups_for()
    rows, total = await ReportRepository(session).support_match(query, list(mapping))
    for row in rows:
        row["reason_group_label"] = row["reason_group"]
        row["addressed_by"] = ", ".join(mapping.get(row["reason_group"], ()))
    return grouped_report(
        query,
        "For each need (reason group), the referrals offered support, and the share of those "
        "offered support that addresses that need.",
        [
            Column("reason_group", "Reason group", "dimension"),
            Column("addressed_by", "Support groups that address it", "label"),
            count("referrals", "Referrals with this need"),
            count("with_support", "Of which offered any support"),
            count("matched", "Of which offered support that addresses it"),
            percentage("match_rate", "Match rate %", "matched", "with_support"),
            percentage("supported_rate", "% offered any support", "with_support", "referrals"),
        ],
        rows,
        [{"reason_group": None, "addressed_by": None, **total}],
        [
            "Every reason group of a referral is counted (a referral with two needs is in two "
            "rows). The total counts each referral once: matched when any of its needs is "
            "addressed by any support offered.",
            "Reason groups are matched to support groups by the documented map "
            "(reports/data/reason-support-map.csv, docs/reports.md). Referrals with no reason "
            "recorded cannot be matched and are left out.",
        ],
        chart_measure="match_rate",
        ranked=True,
        rank_by="referrals",
    )


SPEC = ReportSpec(
    "support-match",
    "Reason vs support offered",
    "The match rate between needs and the support offered, overall and per reason group.",
    support_match,
    reserved=REASON_DIMENSIONS,
)
