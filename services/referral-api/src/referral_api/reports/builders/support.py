"""Support offered and onward referrals.

Its spec (`SPEC`: name, title, options, as `GET /reports` lists them) and its builder.
"""

from sqlalchemy.ext.asyncio import AsyncSession

from referral_api.reports.builders.common import Context, ReportSpec, grouped_report
from referral_api.reports.query import Option, ReportQuery
from referral_api.reports.repository import ReportRepository
from referral_api.reports.tables import Column, Report, count
from signpost_schemas import codes

SUPPORT_LEVEL = Option(
    "level",
    "support: each type of support; support-group: its group",
    "support",
    ("support", "support-group"),
)


async def support(session: AsyncSession, query: ReportQuery, context: Context) -> Report:
    """Support offered and onward referrals, by type (or group), with how many referrals
    were offered each."""
    level = query.option("level")
    rows, total = await ReportRepository(session).support_counts(query, level)
    concepts = {c.code: c for c in codes.support_offered()}
    for row in rows:
        code = row["support"]
        if level == "support":
            concept = concepts.get(code)
            row["support_label"] = concept.display if concept else code
            row["support_group"] = concept.group if concept else None
        else:
            row["support_label"] = code
    columns = [
        Column("support", "Support code" if level == "support" else "Support group", "dimension"),
        Column("support_label", "Support", "label"),
    ]
    if level == "support":
        columns.append(Column("support_group", "Support group", "label"))
    columns += [
        count("referrals", "Referrals offered this support"),
        count("offers", "Times offered", one_category_each=True),
        count("onward_referrals", "Of which onward referrals", one_category_each=True),
    ]
    return grouped_report(
        query,
        "What people were offered: signposting and onward referrals by type.",
        columns,
        rows,
        [{"support": None, "support_label": "All support", **total}],
        [
            "A referral offered several types of support counts under each; the total counts "
            "each referral once.",
        ],
        chart_measure="referrals",
        ranked=True,
    )


SPEC = ReportSpec(
    "support",
    "Support offered",
    "Support offered and onward referrals by type.",
    support,
    options=(SUPPORT_LEVEL,),
)
