"""Paired change in wellbeing scores.

Its spec (`SPEC`: name, title, options, as `GET /reports` lists them) and its builder.
"""

from sqlalchemy.ext.asyncio import AsyncSession

from referral_api.reports import wellbeing
from referral_api.reports.builders.common import Context, ReportSpec, grouped_report
from referral_api.reports.query import ReportQuery
from referral_api.reports.repository import ReportRepository
from referral_api.reports.tables import Column, Report, Row, count, percentage, statistic


def _means(summed: Row) -> Row:
    """A new row with means in place of sums (the totals may be the very rows of the groups)."""
    row = dict(summed)
    pairs = int(row.get("pairs") or 0)
    for name in ("baseline", "follow_up", "change"):
        total = row.pop(f"{name}_sum", None)
        row[f"mean_{name}"] = (float(total) / pairs) if pairs and total is not None else None
    measure = row["measure"]
    row["instrument"] = wellbeing.instrument_of(measure)
    row["measure_label"] = wellbeing.labels().get(measure, measure)
    row["better"] = "lower" if measure in wellbeing.LOWER_IS_BETTER else "higher"
    return row


async def wellbeing_change(session: AsyncSession, query: ReportQuery, context: Context) -> Report:
    """Paired change in each wellbeing score: referrals with a baseline and a later
    follow-up, their mean scores, mean change and how many improved."""
    rows, whole = await ReportRepository(session).wellbeing_change(query)
    order = {m: i for i, m in enumerate(wellbeing.measures())}
    return grouped_report(
        query,
        "For each score, referrals with a baseline and a later follow-up (or discharge) "
        "assessment: mean baseline, mean follow-up and mean change (follow-up minus baseline).",
        [
            Column("instrument", "Instrument", "dimension"),
            Column("measure", "Score", "dimension"),
            Column("measure_label", "Score (label)", "label"),
            Column("better", "Which direction is better", "label"),
            count("pairs", "Pairs (baseline and follow-up)"),
            statistic("mean_baseline", "Mean baseline", "score", "pairs"),
            statistic("mean_follow_up", "Mean follow-up", "score", "pairs"),
            statistic("mean_change", "Mean change", "score", "pairs"),
            count("improved", "Improved"),
            percentage("improved_rate", "% improved", "improved", "pairs"),
        ],
        [_means(row) for row in rows],
        sorted((_means(row) for row in whole), key=lambda r: order.get(r["measure"], 99)),
        [
            "The baseline is a referral's first baseline assessment, the follow-up its last "
            "follow-up or discharge assessment after it; assessments entered in error or "
            "cancelled are left out. Scores are never compared across instruments.",
        ],
        then=lambda r: order.get(r["measure"], 99),
        chart_measure="mean_change",
    )


SPEC = ReportSpec(
    "wellbeing",
    "Wellbeing change",
    "Paired baseline and follow-up scores per instrument: mean change and pairs.",
    wellbeing_change,
)
