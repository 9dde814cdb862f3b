"""Why referrals were closed or declined.

Its spec (`SPEC`: name, title, options, as `GET /reports` lists them) and its builder.
"""

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
from referral_api.reports.dimensions import (
    NOT_RECORDED,
    fans_out,
)
from referral_api.reports.query import ReportQuery
from referral_api.reports.repository import ReportRepository
from referral_api.reports.tables import Column, Report, count, percentage, rows_by
from signpost_schemas import codes


def _closure_label(code: str | None) -> tuple[str, str | None]:
    if code is None:
        return NOT_RECORDED, None
    found = codes.referral_status_and_closure().find_code(code)
    return (found[0].display, found[0].group) if found else (code, None)


async def closure_reasons(session: AsyncSession, query: ReportQuery, context: Context) -> Report:
    """Why referrals ended: closure reasons of closed referrals and decline reasons of
    declined ones, with their share of all closed (or declined) referrals in the group."""
    repository = ReportRepository(session)
    rows = await repository.closure_reasons(query)
    ended = rows_by(rows, lambda row: (*group_key(row, query.group_by), row["ended"]))
    for row in rows:
        found = ended[(*group_key(row, query.group_by), row["ended"])]
        row.update(
            sum_counts([count_of(r, "referrals", "ended_total") for r in found], ["ended_total"])
        )
        row["code_label"], row["outcome"] = _closure_label(row["code"])
    whole = await repository.closure_reasons(ungrouped(query)) if fans_out(query.group_by) else rows
    totals_by = rows_by(whole, lambda row: (row["ended"], row["code"]))
    ended_whole = rows_by(whole, lambda row: row["ended"])
    totals = []
    for (ended_as, code), found in totals_by.items():
        label, outcome = _closure_label(code)
        totals.append(
            {
                "ended": ended_as,
                "code": code,
                "code_label": label,
                "outcome": outcome,
                **sum_counts(found, ["referrals"]),
                **sum_counts(
                    [count_of(r, "referrals", "ended_total") for r in ended_whole[ended_as]],
                    ["ended_total"],
                ),
            }
        )
    totals.sort(key=lambda r: r["ended"])
    return grouped_report(
        query,
        "Why closed referrals were closed (with the outcome group) and why declined ones were "
        "declined.",
        [
            Column("ended", "Ended as (closed or declined)", "dimension"),
            Column("code", "Reason code", "dimension"),
            Column("code_label", "Reason", "label"),
            Column("outcome", "Outcome group", "label"),
            count("referrals", "Referrals"),
            count("ended_total", "Referrals that ended this way", varies_by=("ended",)),
            percentage("share", "% of those", "referrals", "ended_total"),
        ],
        rows,
        totals,
        then=lambda r: r["ended"],
        chart_measure="referrals",
        one_category_each=True,
        ranked=True,
        rank_within=("ended",),
    )


SPEC = ReportSpec(
    "closure-reasons",
    "Closure and decline reasons",
    "Why referrals were closed or declined.",
    closure_reasons,
)
