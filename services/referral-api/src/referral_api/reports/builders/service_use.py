"""The service-use report: GP appointments, A&E attendances and emergency admissions in the
six months before and after each referral, paired.

A referral counts for a measure when it has a count for both periods (`service_use`, from
`POST /fhir/Observation` or a loaded extract; counts entered in error or cancelled are left
out). Per group and measure: the referrals paired and the distinct people they are for, the
total and mean count before and after, the mean change (after minus before) and how many used
the service less after. Fewer is better for every measure. Groups and filters are the referral
reports' dimensions (role, reason group, month, PCN ...).
"""

from functools import cache

from sqlalchemy.ext.asyncio import AsyncSession

from referral_api.reports.builders.common import Context, ReportSpec, grouped_report
from referral_api.reports.query import ReportQuery
from referral_api.reports.service_use_repository import ServiceUseRepository
from referral_api.reports.tables import Column, Report, Row, count, percentage, statistic
from signpost_schemas import codes

NAME = "service-use"
TITLE = "Service use before and after"
DESCRIPTION = (
    "GP appointments, A&E attendances and emergency admissions in the six months before and "
    "after each referral: referrals and people with both, totals, means and the change."
)


@cache
def labels() -> dict[str, str]:
    """Measure code -> display, from the service-use code list."""
    return {c.code: c.display for c in codes.service_use()}


def _order(measure: str) -> int:
    return list(labels()).index(measure) if measure in labels() else len(labels())


def _finish(summed: Row) -> Row:
    """A new row with the measure named and means in place of sums (the totals may be the very
    rows of the groups)."""
    row = dict(summed)
    measure = row.pop("use_measure")
    pairs = int(row.get("pairs") or 0)
    row["measure"] = measure
    row["measure_label"] = labels().get(measure, measure)
    before, after = row.pop("before_sum", None), row.pop("after_sum", None)
    change = None if before is None or after is None else after - before
    sums = {"before": before, "after": after, "change": change}
    for name, total in sums.items():
        if name != "change":
            row[f"total_{name}"] = None if total is None else float(total)
        row[f"mean_{name}"] = (float(total) / pairs) if pairs and total is not None else None
    return row


async def service_use_change(session: AsyncSession, query: ReportQuery, context: Context) -> Report:
    """Paired service use per group and measure (see the module docstring)."""
    rows, whole = await ServiceUseRepository(session).change(query)
    return grouped_report(
        query,
        "For each measure, referrals with a count for both the six months before and the six "
        "months after the referral date: the total and mean count before and after, and the "
        "mean change (after minus before).",
        [
            Column("measure", "Service use", "dimension"),
            Column("measure_label", "Service use (label)", "label"),
            count("pairs", "Referrals with a count before and after"),
            count("people", "People (distinct, by keyed pseudonym)", additive=False),
            Column("total_before", "Total before", "score", base="pairs", decimals=0),
            Column("total_after", "Total after", "score", base="pairs", decimals=0),
            statistic("mean_before", "Mean before (per referral)", "score", "pairs"),
            statistic("mean_after", "Mean after (per referral)", "score", "pairs"),
            statistic("mean_change", "Mean change (after - before)", "score", "pairs"),
            count("fewer", "Used the service less after"),
            percentage("fewer_rate", "% used the service less after", "fewer", "pairs"),
        ],
        [_finish(row) for row in rows],
        sorted((_finish(row) for row in whole), key=lambda r: _order(r["measure"])),
        [
            "A referral counts for a measure when it has a count for the six months before "
            "and for the six months after its referral date (POST /fhir/Observation or a "
            "loaded extract); counts entered in error or cancelled are left out. Totals and "
            "means are shown only when the number of referrals they summarise is. Fewer is "
            "better for every measure. A person referred twice counts once in people and "
            "twice in referrals.",
        ],
        then=lambda r: _order(r["measure"]),
        chart_measure="mean_change",
    )


SPEC = ReportSpec(NAME, TITLE, DESCRIPTION, service_use_change)
