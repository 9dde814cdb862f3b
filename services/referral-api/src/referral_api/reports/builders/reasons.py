"""Every reason of every referral.

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
    shown,
    sum_counts,
)
from referral_api.reports.dimensions import (
    MULTI_COUNT_NOTE,
    NOT_RECORDED,
    column_name,
    dimension,
)
from referral_api.reports.query import Option, ReportQuery
from referral_api.reports.repository import ReportRepository
from referral_api.reports.tables import Column, Report, Row, count, percentage, rows_by
from signpost_schemas import codes

LEVEL = Option(
    "level",
    "reason: each coded reason; reason-group: its group",
    "reason",
    ("reason", "reason-group"),
)


def reason_labels(rows: list[Row], key: str, level: str) -> None:
    reasons = {c.code: c for c in codes.referral_reasons()}
    for row in rows:
        code = row.get(key)
        if level == "reason":
            concept = reasons.get(code) if code else None
            label = concept.display if concept else dimension("reason").label(code)
            row[f"{key}_label"] = label
            row[f"{key}_group"] = concept.group if concept else None
        else:
            row[f"{key}_label"] = code or NOT_RECORDED


async def reasons(session: AsyncSession, query: ReportQuery, context: Context) -> Report:
    """Referrals per reason (or reason group), every reason counted, with the share of the
    group's referrals that carry it."""
    level = query.option("level")
    key = column_name(level)
    repository = ReportRepository(session)
    rows, in_group, total = await repository.reason_counts(query, level)
    add_group_referrals(rows, in_group, query.group_by)
    # The reasons report never groups by a reason dimension, so per-reason totals are sums.
    by_reason = rows_by(rows, lambda row: row[key])
    totals = [
        {
            key: reason,
            **sum_counts(found, ["referrals"]),
            **count_of(total, "referrals", "referrals_in_group"),
        }
        for reason, found in by_reason.items()
    ]
    totals.append(
        {
            key: None,
            **count_of(total, "referrals"),
            **count_of(total, "referrals", "referrals_in_group"),
        }
    )
    reason_labels(rows, key, level)
    reason_labels(totals, key, level)
    totals[-1][f"{key}_label"] = "All referrals (each once)"
    mentions = sum_counts(rows, ["referrals"])
    columns = [
        Column(key, "Reason code" if level == "reason" else "Reason group", "dimension"),
        Column(f"{key}_label", "Reason", "label"),
    ]
    if level == "reason":
        columns.append(Column(f"{key}_group", "Reason group", "label"))
    columns += [
        count("referrals", "Referrals with this reason"),
        count("referrals_in_group", "Referrals in the group", varies_by=()),
        percentage("share", "% of referrals with this reason", "referrals", "referrals_in_group"),
    ]
    return grouped_report(
        query,
        "Every coded reason of every referral, so needs beyond the first are seen.",
        columns,
        rows,
        totals,
        [
            MULTI_COUNT_NOTE + " In this report "
            f"{shown(total, 'referrals', query.controlled, context.ptable)} "
            f"referrals carry {shown(mentions, 'referrals', query.controlled, context.ptable)} "
            f"{'reasons' if level == 'reason' else 'reason groups'}.",
            "'Reason not recorded' is shown as its own row; completeness counts it as missing.",
        ],
        chart_measure="referrals",
        ranked=True,
    )


SPEC = ReportSpec(
    "reasons",
    "Reasons for referral",
    "Every reason counted (a referral with three reasons counts in three rows), "
    "with the share of referrals carrying each.",
    reasons,
    options=(LEVEL,),
    reserved=REASON_DIMENSIONS,
)
