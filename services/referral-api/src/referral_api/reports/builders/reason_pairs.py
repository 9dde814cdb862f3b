"""Reasons given together on one referral.

Its spec (`SPEC`: name, title, options, as `GET /reports` lists them) and its builder.
"""

from sqlalchemy.ext.asyncio import AsyncSession

from referral_api.reports.builders.common import (
    REASON_DIMENSIONS,
    Context,
    ReportSpec,
    add_group_referrals,
    count_of,
    grouped_report,
)
from referral_api.reports.builders.reasons import LEVEL, reason_labels
from referral_api.reports.query import Option, ReportQuery
from referral_api.reports.repository import ReportRepository
from referral_api.reports.tables import Column, Report, count, percentage

LIMIT = Option("limit", "How many pairs to show per group", "10", minimum=1, maximum=100)


async def reason_pairs(session: AsyncSession, query: ReportQuery, context: Context) -> Report:
    """The reasons (or reason groups) most often given together on one referral."""
    level = query.option("level")
    repository = ReportRepository(session)
    rows = await repository.reason_pairs(query, level)
    in_group, total = await repository.referral_counts(query, several=True)
    add_group_referrals(rows, in_group, query.group_by)
    # The referrals that can form a pair (flags of the referral facts): at the reason level
    # those with more than one reason; at the group level, with reasons in two groups.
    with_a_pair = count_of(total, "several" if level == "reason" else "several_groups", "referrals")
    reason_labels(rows, "first", level)
    reason_labels(rows, "second", level)
    totals = [
        {
            "first": None,
            "first_label": (
                "Referrals with more than one reason"
                if level == "reason"
                else "Referrals with reasons in more than one group"
            ),
            "second": None,
            "second_label": None,
            **with_a_pair,
            **count_of(total, "referrals", "referrals_in_group"),
        }
    ]
    return grouped_report(
        query,
        "Pairs of reasons on the same referral, most frequent first.",
        [
            Column("first", "First of the pair", "dimension"),
            Column("first_label", "First reason", "label"),
            Column("second", "Second of the pair", "dimension"),
            Column("second_label", "Second reason", "label"),
            count("referrals", "Referrals with both"),
            count("referrals_in_group", "Referrals in the group", varies_by=()),
            percentage("share", "% of referrals with both", "referrals", "referrals_in_group"),
        ],
        rows,
        totals,
        [
            "Each pair is counted once per referral that carries both; a referral with three "
            "reasons has three pairs. Pairs are ranked by their published count; the total is "
            "the referrals that can form a pair: with more than one reason, or at the "
            "reason-group level with reasons in more than one group.",
        ],
        chart_measure="referrals",
        ranked=True,
        limit=int(query.option("limit")),
    )


SPEC = ReportSpec(
    "reason-pairs",
    "Reasons given together",
    "The most frequent pairs of reasons on one referral.",
    reason_pairs,
    options=(LEVEL, LIMIT),
    reserved=REASON_DIMENSIONS,
)
