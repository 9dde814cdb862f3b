"""Which minimum-dataset fields are present and coded.

Its spec (`SPEC`: name, title, options, as `GET /reports` lists them) and its builder.
"""

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from referral_api.reports.builders.common import (
    Context,
    ReportSpec,
    count_of,
    dimension_columns,
    label_rows,
    make_report,
    multi_count_notes,
    order_key,
)
from referral_api.reports.dimensions import column_name
from referral_api.reports.query import ReportQuery
from referral_api.reports.repository import ReportRepository
from referral_api.reports.tables import Column, Report, Row, count, percentage

FIELDS: tuple[tuple[str, str, str], ...] = (
    ("reason", "Reason for referral coded ('reason not recorded' is missing)", "referrals"),
    ("source", "Source of referral coded", "referrals"),
    ("person", "Person details received", "referrals"),
    ("age_band", "Year of birth (age band)", "referrals"),
    ("gender", "Gender (not 'not known')", "referrals"),
    ("ethnicity", "Ethnic category (not '99 not known')", "referrals"),
    ("lsoa", "LSOA (from a full postcode in the lookup)", "referrals"),
    ("practice", "GP practice", "referrals"),
    ("pcn", "Primary care network", "referrals"),
    ("closure_reason", "Closure reason (closed referrals)", "has_closed"),
)


def _long(wide: Row, group_by: Sequence[str]) -> list[Row]:
    dims = {column_name(n): wide.get(column_name(n)) for n in group_by}
    return [
        {
            **dims,
            "field": name,
            "field_label": label,
            **count_of(wide, denominator, "applicable"),
            **count_of(wide, f"has_{name}", "complete"),
        }
        for name, label, denominator in FIELDS
    ]


async def completeness(session: AsyncSession, query: ReportQuery, context: Context) -> Report:
    """Per source system (by default) or role: the share of referrals with each field of the
    minimum dataset present and coded."""
    wide_rows, wide_total = await ReportRepository(session).completeness(query)
    rows = [row for wide in wide_rows for row in _long(wide, query.group_by)]
    label_rows(rows, query.group_by)
    field_order = {name: i for i, (name, _, _) in enumerate(FIELDS)}
    rows.sort(key=lambda r: (order_key(query.group_by)(r), field_order[r["field"]]))
    return make_report(
        "The share of referrals with each field present and coded, by source system and role.",
        [
            *dimension_columns(query.group_by),
            Column("field", "Field", "dimension"),
            Column("field_label", "Field (label)", "label"),
            count("applicable", "Referrals it applies to"),
            count("complete", "Present and coded"),
            percentage("complete_rate", "% complete", "complete", "applicable"),
        ],
        rows,
        _long(wide_total, ()) if wide_total else [],
        [
            "Reason is missing when the only reason is 'reason not recorded' (a referral with "
            "that code carries no other). Person fields are missing when the sender has sent "
            "no person details (e.g. a referral made through the REST API).",
            *multi_count_notes(query.group_by),
        ],
        chart_measure="complete_rate",
    )


SPEC = ReportSpec(
    "completeness",
    "Data completeness",
    "Share of referrals with each field present and coded, per source system and per role.",
    completeness,
    default_group_by=("source-system",),
)
