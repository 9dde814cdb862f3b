"""Waits to first contact and to closure.

Its spec (`SPEC`: name, title, options, as `GET /reports` lists them) and its builder.
"""

from collections import Counter
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from referral_api.reports import distributions
from referral_api.reports.builders.common import (
    Context,
    ReportSpec,
    group_key,
    grouped_report,
    ungrouped,
)
from referral_api.reports.dimensions import column_name, fans_out
from referral_api.reports.query import ReportQuery
from referral_api.reports.repository import ReportRepository
from referral_api.reports.tables import Report, Row, count, key_of, statistic


def _wait_row(histograms: dict[str, Any], referral_count: int, keys: Counter[str]) -> Row:
    first, closure = histograms["first_contact"], histograms["closure"]
    return {
        "referrals": referral_count,
        key_of("referrals"): keys["referrals"],
        "first_contact": sum(first.values()),
        key_of("first_contact"): keys["first_contact"],
        "first_contact_median": distributions.percentile(first, 0.5),
        "first_contact_p90": distributions.percentile(first, 0.9),
        "closed": sum(closure.values()),
        key_of("closed"): keys["closure"],
        "closure_median": distributions.percentile(closure, 0.5),
        "closure_p90": distributions.percentile(closure, 0.9),
    }


def _histograms(raw: list[Row], group_by: Sequence[str]) -> dict[tuple[Any, ...], Any]:
    groups: dict[tuple[Any, ...], Any] = {}
    for row in raw:
        key = group_key(row, group_by)
        group = groups.get(key)
        if group is None:  # made once per group, not per row
            group = groups[key] = {
                "dims": {column_name(n): row.get(column_name(n)) for n in group_by},
                "referrals": 0,
                "first_contact": Counter(),
                "closure": Counter(),
                "keys": Counter(),
            }
        group["keys"][row["wait"]] += int(row[key_of("referrals")] or 0)
        if row["wait"] == "referrals":
            group["referrals"] += int(row["referrals"])
        else:
            group[row["wait"]][int(row["days"])] += int(row["referrals"])
    return groups


async def waiting_times(session: AsyncSession, query: ReportQuery, context: Context) -> Report:
    """Days from referral to the first attended contact, and to closure: median and 90th
    percentile over the referrals that have reached each."""
    repository = ReportRepository(session)
    found, whole_found = await repository.waiting_histograms(query)
    groups = _histograms(found, query.group_by)
    rows = [
        {**group["dims"], **_wait_row(group, group["referrals"], group["keys"])}
        for group in groups.values()
    ]
    if not fans_out(query.group_by):
        whole = list(groups.values())
    else:
        if whole_found is None:
            whole_found, _ = await repository.waiting_histograms(ungrouped(query))
        whole = list(_histograms(whole_found, ()).values())
    total = _wait_row(
        {
            "first_contact": distributions.merged(g["first_contact"] for g in whole),
            "closure": distributions.merged(g["closure"] for g in whole),
        },
        sum(g["referrals"] for g in whole),
        sum((g["keys"] for g in whole), Counter()),
    )
    return grouped_report(
        query,
        "Calendar days (UTC) from the referral date to the first contact the person attended, "
        "and to closure.",
        [
            count("referrals", "Referrals"),
            count("first_contact", "Referrals with a first attended contact"),
            statistic(
                "first_contact_median", "Median days to first contact", "days", "first_contact"
            ),
            statistic(
                "first_contact_p90",
                "90th percentile days to first contact",
                "days",
                "first_contact",
            ),
            count("closed", "Referrals closed"),
            statistic("closure_median", "Median days to closure", "days", "closed"),
            statistic("closure_p90", "90th percentile days to closure", "days", "closed"),
        ],
        rows,
        [total],
        [
            "Referrals still waiting are not in the waits: they are referrals minus those with "
            "a first contact. Percentiles interpolate between ranks (as percentile_cont).",
        ],
        chart_measure="first_contact_median",
    )


SPEC = ReportSpec(
    "waiting-times",
    "Waiting times",
    "Referral to first contact and to closure: median and 90th percentile days.",
    waiting_times,
)
