"""The data gaps each sender's referrals arrive with.

Its spec (`SPEC`: name, title, options, as `GET /reports` lists them) and its builder.
"""

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from referral_api.reports import data_quality
from referral_api.reports.builders.common import (
    Context,
    ReportSpec,
    blank,
    count_of,
    group_key,
    make_report,
    order_key,
    sum_counts,
)
from referral_api.reports.dimensions import column_name
from referral_api.reports.quality_repository import DataQualityRepository
from referral_api.reports.query import ReportQuery
from referral_api.reports.tables import Column, Report, Row, count, percentage

QUALITY_NOTES = [
    "Month is the month (UTC) Signpost received the referral, not its referral date; from and "
    "to select referrals by the date they were received too.",
    "A referral counts once under each warning it has, however many gaps of that kind it "
    "carries, and may count under several. Gaps are those of the content Signpost holds now: "
    "a referral the sender has since corrected no longer counts.",
    "Other data gaps are gaps no warning names (another element not recorded, a source of "
    "referral Signpost cannot map, ...). view=unmapped-codes lists the codes Signpost could "
    "not map.",
]


def _quality_columns(group_by: Sequence[str]) -> list[Column]:
    return [
        Column(column_name(name), data_quality.DIMENSIONS[name].description, "dimension")
        for name in group_by
    ]


def _split_code(code: str | None) -> tuple[str | None, str | None]:
    """`system|code` as sent, as its system and its code."""
    if code is None:
        return None, None
    system, separator, value = code.rpartition("|")
    return (system or None, value) if separator else (None, code)


async def data_quality_report(
    session: AsyncSession, query: ReportQuery, context: Context
) -> Report:
    """Per source system, sender and month received: the referrals received and how many
    carried each data gap, as counts and as a share of those received."""
    if query.option("view") == "unmapped-codes":
        return await _unmapped_codes(session, query, context)
    warnings = [(w.name, w.label) for w in data_quality.WARNINGS]
    warnings.append((data_quality.OTHER_GAP, "Other data gaps"))
    measures = ["referrals", data_quality.WITH_GAP, *(name for name, _ in warnings)]
    rows = await DataQualityRepository(session).warning_counts(query, measures)
    total = {**blank(query.group_by), **sum_counts(rows, measures)}
    rows.sort(key=order_key(query.group_by, data_quality.DIMENSIONS))
    columns = [
        *_quality_columns(query.group_by),
        count("referrals", "Referrals received"),
        count(data_quality.WITH_GAP, "Referrals with any data gap"),
        percentage(
            f"{data_quality.WITH_GAP}_rate",
            "% of referrals with any data gap",
            data_quality.WITH_GAP,
            "referrals",
        ),
    ]
    for name, label in warnings:
        columns += [
            count(name, f"{label}: referrals"),
            percentage(f"{name}_rate", f"{label}: % of referrals received", name, "referrals"),
        ]
    return make_report(
        "The referrals each sender sent, and how many Signpost kept with data gaps: "
        "no source of referral, reason codes it cannot map, reasons as text only, no NHS "
        "number, elements it kept but did not interpret, personal data it removed, free text "
        "whose control characters it replaced.",
        columns,
        rows,
        [total],
        list(QUALITY_NOTES),
        chart_measure=f"{data_quality.WITH_GAP}_rate",
    )


async def _unmapped_codes(session: AsyncSession, query: ReportQuery, context: Context) -> Report:
    """Per group, the codes Signpost could not map, ranked by the referrals that carried them."""
    repository = DataQualityRepository(session)
    counted = await repository.warning_counts(query, ("referrals", data_quality.ANY_UNMAPPED))
    received = {group_key(row, query.group_by): row for row in counted}
    rows = await repository.unmapped_codes(query)
    # Worked out once per group and per code, not per row: a sender can send thousands of
    # codes Signpost cannot map.
    received_in = {
        group: count_of(row, "referrals", "referrals_received") for group, row in received.items()
    }
    split: dict[str | None, tuple[str | None, str | None]] = {}
    per_code: dict[tuple[str, str | None], list[Row]] = {}
    per_group: dict[tuple[Any, ...], list[Row]] = {}
    for row in rows:
        group = group_key(row, query.group_by)
        row.update(received_in[group])
        per_group.setdefault(group, []).append(row)
        code = row["code"]
        parts = split.get(code)
        if parts is None:
            parts = split[code] = _split_code(code)
        row["code_system"], row["code_value"] = parts
        per_code.setdefault((row["element"], code), []).append(row)
    all_received = count_of(
        sum_counts(list(received.values()), ["referrals"]), "referrals", "referrals_received"
    )
    totals: list[Row] = []
    for (element, code), code_rows in per_code.items():
        system, value = split[code]
        totals.append(
            {
                **blank(query.group_by),
                "element": element,
                "code": code,
                "code_system": system,
                "code_value": value,
                **sum_counts(code_rows, ["referrals"]),
                **all_received,
            }
        )
    totals.append(
        {
            **blank(query.group_by),
            "element": None,
            "code": None,
            "code_system": None,
            "code_value": "Any unmapped code (each referral once)",
            **count_of(
                sum_counts(list(received.values()), [data_quality.ANY_UNMAPPED]),
                data_quality.ANY_UNMAPPED,
                "referrals",
            ),
            **all_received,
        }
    )
    # The groups in the dimensions' order, each group's rows as read: a stable sort of the rows
    # by their group, with the order worked out once a group rather than once a row.
    order = order_key(query.group_by, data_quality.DIMENSIONS)
    rows = [
        row
        for group in sorted(per_group, key=lambda group: order(per_group[group][0]))
        for row in per_group[group]
    ]
    return make_report(
        "The codes senders used that Signpost could not place in its code lists, most "
        "frequent first, with the share of the group's referrals that carried each.",
        [
            *_quality_columns(query.group_by),
            Column("element", "Element (FHIRPath)", "dimension"),
            Column("code", "Code as sent (system|code)", "dimension"),
            Column("code_system", "Code system", "label"),
            Column("code_value", "Code", "label"),
            count("referrals", "Referrals with this code"),
            count("referrals_received", "Referrals received in the group", varies_by=()),
            percentage("share", "% of referrals received", "referrals", "referrals_received"),
        ],
        rows,
        totals,
        [
            *QUALITY_NOTES[:2],
            "A referral with several unmapped codes counts under each; the last total counts "
            "it once. Codes are ranked by their published count; limit sets how many are "
            "shown per group (the totals list every code).",
        ],
        chart_measure="referrals",
        ranked=True,
        limit=int(query.option("limit")),
        title="Data quality by sender: codes Signpost could not map",
    )


SPEC = ReportSpec(
    "data-quality",
    "Data quality by sender",
    "Per source system, sender and month received: referrals received and those kept "
    "with data gaps (no source of referral, unmapped or text-only reasons, no NHS "
    "number, elements not interpreted, personal data removed), with the most frequent "
    "unmapped codes (view=unmapped-codes). For feedback to practices and trusts.",
    data_quality_report,
    options=(data_quality.VIEW, data_quality.LIMIT),
    default_group_by=data_quality.DEFAULT_GROUP_BY,
    dimensions=data_quality.DIMENSIONS,
    max_group_by=len(data_quality.DIMENSIONS),
    period="date received",
)
