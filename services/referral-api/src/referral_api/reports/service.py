"""The reports: what each measures, computed from the repository's aggregates.

Each report is built raw (true counts) and then published through `disclosure.publish`, which
applies the same small-number rules to every row and total. Definitions are in
docs/reports.md; the docstring of each builder says what it counts.
"""

from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession

from referral_api.reports import (
    data_quality,
    disclosure,
    distributions,
    facts,
    matching,
    service_use,
    wellbeing,
    workers,
)
from referral_api.reports.dimensions import NOT_RECORDED, Dimension, catalogue, dimension
from referral_api.reports.quality_repository import DataQualityRepository
from referral_api.reports.query import MAX_GROUP_BY, Option, ReportQuery
from referral_api.reports.repository import ReportRepository, Row, column_name
from referral_api.reports.tables import Column, Report, count, key_of, percentage, statistic
from referral_api.reports.workers_repository import WorkerRepository
from signpost_platform.db import Database
from signpost_platform.errors import BadRequest, Conflict
from signpost_schemas import codes
from signpost_schemas.disclosure import PerturbationTable, RecordKeys, cell_key


@dataclass(frozen=True, slots=True)
class Context:
    """What report builders may need beyond the read session."""

    database: Database
    pseudonym_key: SecretStr
    disclosure_key: SecretStr
    ptable: PerturbationTable


Builder = Callable[[AsyncSession, ReportQuery, Context], Awaitable[Report]]


@dataclass(frozen=True, slots=True)
class ReportSpec:
    """One report endpoint: `/reports/{name}`."""

    name: str
    title: str
    description: str
    build: Builder
    options: tuple[Option, ...] = ()
    # Dimensions the report breaks down by itself: they may be filtered, not grouped by.
    reserved: tuple[str, ...] = ()
    default_group_by: tuple[str, ...] = ()
    # What must be loaded before the report can run (a 409 until it is).
    needs: str | None = None
    # The dimensions it filters and groups by, when not those of the report facts; such a
    # report reads its own tables and does not need the facts brought up to date.
    dimensions: Mapping[str, Dimension] | None = None
    max_group_by: int = MAX_GROUP_BY
    # What `from` and `to` select by.
    period: str = "referral date"

    @property
    def uses_facts(self) -> bool:
        return self.dimensions is None


async def run(
    spec: ReportSpec, session: AsyncSession, query: ReportQuery, context: Context
) -> Report:
    """Bring the facts up to date, build the report and apply disclosure control (unless the
    caller may see true counts)."""
    if spec.uses_facts:
        await facts.refresh(context.database, context.pseudonym_key, context.disclosure_key)
    report = await spec.build(session, query, context)
    report = replace(
        report,
        group_columns=tuple(column_name(name) for name in query.group_by),
        one_group_each=not _per_reason(query.group_by),
    )
    return disclosure.publish(report, query.controlled, context.ptable)


# Shared pieces -------------------------------------------------------------------------------


def _dimension_columns(group_by: Sequence[str]) -> list[Column]:
    columns: list[Column] = []
    for name in group_by:
        found = dimension(name)
        columns.append(Column(column_name(name), found.description, "dimension"))
        if found.labels:
            columns.append(Column(f"{column_name(name)}_label", f"{name} (label)", "label"))
    return columns


def _label(rows: list[Row], group_by: Sequence[str]) -> list[Row]:
    """Add the label columns of coded dimensions."""
    for name in group_by:
        found = dimension(name)
        if found.labels:
            key = column_name(name)
            for row in rows:
                row[f"{key}_label"] = found.label(row.get(key))
    return rows


def _order_key(
    group_by: Sequence[str], dimensions: Mapping[str, Dimension] | None = None
) -> Callable[[Row], tuple[Any, ...]]:
    """Rows in the dimensions' own order (code-list order, months ascending), not recorded last."""
    known = catalogue() if dimensions is None else dimensions
    positions = {
        name: {value: index for index, value in enumerate(known[name].values or ())}
        for name in group_by
    }

    def key(row: Row) -> tuple[Any, ...]:
        parts: list[Any] = []
        for name in group_by:
            value = row.get(column_name(name))
            order = positions[name]
            parts.append(
                (value is None, order.get(value, len(order)), "" if value is None else str(value))
            )
        return tuple(parts)

    return key


def _group_key(row: Row, group_by: Sequence[str]) -> tuple[Any, ...]:
    return tuple(row.get(column_name(name)) for name in group_by)


def _per_reason(group_by: Sequence[str]) -> bool:
    known = catalogue()
    return any(name in known and known[name].per_reason for name in group_by)


def _ungrouped(query: ReportQuery) -> ReportQuery:
    return replace(query, group_by=())


def _sum(rows: Sequence[Row], names: Sequence[str]) -> Row:
    """Counts of disjoint parts added up, with their key sums (keys add up like counts)."""
    summed: Row = {}
    for name in names:
        for column in (name, key_of(name)):
            summed[column] = sum(int(row.get(column) or 0) for row in rows)
    return summed


def _count(row: Row | None, name: str, as_name: str | None = None) -> Row:
    """Count `name` of `row` and its key sum (0 when there is no row), renamed `as_name`."""
    target = as_name or name
    found = row or {}
    return {
        target: int(found.get(name) or 0),
        key_of(target): int(found.get(key_of(name)) or 0),
    }


def _blank(group_by: Sequence[str]) -> Row:
    return {column_name(name): None for name in group_by}


def _shown(counted: Row, name: str, controlled: bool, table: PerturbationTable) -> str:
    value = int(counted.get(name) or 0)
    if not controlled:
        return f"{value:,}"
    published = table.publish(value, cell_key(counted.get(key_of(name))))
    return "a suppressed number of" if published is None else f"about {published:,}"


MULTI_COUNT_NOTE = (
    "Every reason of a referral is counted: a referral with three reasons counts once under "
    "each of them, so rows add up to more than the number of referrals."
)


def _multi_count_notes(group_by: Sequence[str]) -> list[str]:
    return [MULTI_COUNT_NOTE] if _per_reason(group_by) else []


# Referrals and people ------------------------------------------------------------------------


async def referrals(session: AsyncSession, query: ReportQuery, context: Context) -> Report:
    """Referrals, and the people they are for (distinct pseudonyms), per group."""
    rows, total = await ReportRepository(session).referral_counts(query, people=True)
    rows = _label(rows, query.group_by)
    rows.sort(key=_order_key(query.group_by))
    return Report(
        "referrals",
        "Referrals and people",
        "Referrals made in the period, and the number of different people they were for.",
        [
            *_dimension_columns(query.group_by),
            count("referrals", "Referrals"),
            count("people", "People (distinct, by keyed pseudonym)", additive=False),
        ],
        rows,
        [{**_blank(query.group_by), **total}],
        [
            *_multi_count_notes(query.group_by),
            "People are counted by a keyed pseudonym of the NHS number (or, for a person "
            "without one, of the sender's patient identifier): a person referred twice counts "
            "once in people, twice in referrals.",
        ],
        chart_measure="referrals",
    )


# Reasons -------------------------------------------------------------------------------------

LEVEL = Option(
    "level",
    "reason: each coded reason; reason-group: its group",
    "reason",
    ("reason", "reason-group"),
)


def _reason_labels(rows: list[Row], key: str, level: str) -> None:
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
    rows = await repository.reason_counts(query, level)
    in_group, total = await repository.referral_counts(query)
    group_referrals = {_group_key(r, query.group_by): r for r in in_group}
    for row in rows:
        found = group_referrals.get(_group_key(row, query.group_by))
        row.update(_count(found, "referrals", "referrals_in_group"))
    # The reasons report never groups by a reason dimension, so per-reason totals are sums.
    by_reason: dict[Any, list[Row]] = {}
    for row in rows:
        by_reason.setdefault(row[key], []).append(row)
    totals = [
        {
            **_blank(query.group_by),
            key: reason,
            **_sum(found, ["referrals"]),
            **_count(total, "referrals", "referrals_in_group"),
        }
        for reason, found in by_reason.items()
    ]
    totals.append(
        {
            **_blank(query.group_by),
            key: None,
            **_count(total, "referrals"),
            **_count(total, "referrals", "referrals_in_group"),
        }
    )
    _label(rows, query.group_by)
    rows.sort(key=_order_key(query.group_by))
    _reason_labels(rows, key, level)
    _reason_labels(totals, key, level)
    totals[-1][f"{key}_label"] = "All referrals (each once)"
    mentions = _sum(rows, ["referrals"])
    columns = [
        *_dimension_columns(query.group_by),
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
    return Report(
        "reasons",
        "Reasons for referral",
        "Every coded reason of every referral, so needs beyond the first are seen.",
        columns,
        rows,
        totals,
        [
            MULTI_COUNT_NOTE + " In this report "
            f"{_shown(total, 'referrals', query.controlled, context.ptable)} "
            f"referrals carry {_shown(mentions, 'referrals', query.controlled, context.ptable)} "
            f"{'reasons' if level == 'reason' else 'reason groups'}.",
            "'Reason not recorded' is shown as its own row; completeness counts it as missing.",
        ],
        chart_measure="referrals",
        ranked=True,
    )


LIMIT = Option("limit", "How many pairs to show per group", "10", minimum=1, maximum=100)


async def reason_pairs(session: AsyncSession, query: ReportQuery, context: Context) -> Report:
    """The reasons (or reason groups) most often given together on one referral."""
    level = query.option("level")
    repository = ReportRepository(session)
    rows = await repository.reason_pairs(query, level)
    in_group, total = await repository.referral_counts(query, several=True)
    group_referrals = {_group_key(r, query.group_by): r for r in in_group}
    for row in rows:
        found = group_referrals.get(_group_key(row, query.group_by))
        row.update(_count(found, "referrals", "referrals_in_group"))
    # The referrals that can form a pair: at the reason level those with more than one reason
    # (a column of the referral facts); at the group level, with reasons in two groups.
    with_a_pair = (
        _count(total, "several", "referrals")
        if level == "reason"
        else _count(await repository.referrals_with_a_pair(query, level), "referrals")
    )
    _label(rows, query.group_by)
    _reason_labels(rows, "first", level)
    _reason_labels(rows, "second", level)
    rows.sort(key=_order_key(query.group_by))
    totals = [
        {
            **_blank(query.group_by),
            "first": None,
            "first_label": (
                "Referrals with more than one reason"
                if level == "reason"
                else "Referrals with reasons in more than one group"
            ),
            "second": None,
            "second_label": None,
            **with_a_pair,
            **_count(total, "referrals", "referrals_in_group"),
        }
    ]
    return Report(
        "reason-pairs",
        "Reasons given together",
        "Pairs of reasons on the same referral, most frequent first.",
        [
            *_dimension_columns(query.group_by),
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


# Support -------------------------------------------------------------------------------------

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
    _label(rows, query.group_by)
    columns = [
        *_dimension_columns(query.group_by),
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
    rows.sort(key=_order_key(query.group_by))
    return Report(
        "support",
        "Support offered",
        "What people were offered: signposting and onward referrals by type.",
        columns,
        rows,
        [{**_blank(query.group_by), "support": None, "support_label": "All support", **total}],
        [
            "A referral offered several types of support counts under each; the total counts "
            "each referral once.",
            *_multi_count_notes(query.group_by),
        ],
        chart_measure="referrals",
        ranked=True,
    )


async def support_match(session: AsyncSession, query: ReportQuery, context: Context) -> Report:
    """How often the support offered addresses the need referred for (reason vs support)."""
    mapping = matching.support_groups_for()
    rows, total = await ReportRepository(session).support_match(query, list(mapping))
    for row in rows:
        row["reason_group_label"] = row["reason_group"]
        row["addressed_by"] = ", ".join(mapping.get(row["reason_group"], ()))
    _label(rows, query.group_by)
    rows.sort(key=_order_key(query.group_by))
    return Report(
        "support-match",
        "Reason vs support offered",
        "For each need (reason group), the referrals offered support, and the share of those "
        "offered support that addresses that need.",
        [
            *_dimension_columns(query.group_by),
            Column("reason_group", "Reason group", "dimension"),
            Column("addressed_by", "Support groups that address it", "label"),
            count("referrals", "Referrals with this need"),
            count("with_support", "Of which offered any support"),
            count("matched", "Of which offered support that addresses it"),
            percentage("match_rate", "Match rate %", "matched", "with_support"),
            percentage("supported_rate", "% offered any support", "with_support", "referrals"),
        ],
        rows,
        [{**_blank(query.group_by), "reason_group": None, "addressed_by": None, **total}],
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


# Waiting times -------------------------------------------------------------------------------


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
        key = _group_key(row, group_by)
        group = groups.setdefault(
            key,
            {
                "dims": {column_name(n): row.get(column_name(n)) for n in group_by},
                "referrals": 0,
                "first_contact": Counter(),
                "closure": Counter(),
                "keys": Counter(),
            },
        )
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
    groups = _histograms(await repository.waiting_histograms(query), query.group_by)
    rows = [
        {**group["dims"], **_wait_row(group, group["referrals"], group["keys"])}
        for group in groups.values()
    ]
    if _per_reason(query.group_by):
        whole = list(
            _histograms(await repository.waiting_histograms(_ungrouped(query)), ()).values()
        )
    else:
        whole = list(groups.values())
    total = _wait_row(
        {
            "first_contact": distributions.merged(g["first_contact"] for g in whole),
            "closure": distributions.merged(g["closure"] for g in whole),
        },
        sum(g["referrals"] for g in whole),
        sum((g["keys"] for g in whole), Counter()),
    )
    _label(rows, query.group_by)
    rows.sort(key=_order_key(query.group_by))
    return Report(
        "waiting-times",
        "Waiting times",
        "Calendar days (UTC) from the referral date to the first contact the person attended, "
        "and to closure.",
        [
            *_dimension_columns(query.group_by),
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
        [{**_blank(query.group_by), **total}],
        [
            "Referrals still waiting are not in the waits: they are referrals minus those with "
            "a first contact. Percentiles interpolate between ranks (as percentile_cont).",
            *_multi_count_notes(query.group_by),
        ],
        chart_measure="first_contact_median",
    )


# Attendance and outcomes ---------------------------------------------------------------------


def _with_due(row: Row) -> Row:
    row.update(_sum([_count(row, n, "appointments_due") for n in DUE], ["appointments_due"]))
    return row


DUE = ("attended", "dna", "not_seen")


async def attendance(session: AsyncSession, query: ReportQuery, context: Context) -> Report:
    """Contacts by attendance outcome and the did-not-attend (DNA) rate."""
    rows, total = await ReportRepository(session).attendance(query)
    rows = [_with_due(row) for row in _label(rows, query.group_by)]
    rows.sort(key=_order_key(query.group_by))
    return Report(
        "attendance",
        "Attendance",
        "Contacts by attendance outcome. DNA rate = did not attend / (attended + did not "
        "attend + arrived too late to be seen).",
        [
            *_dimension_columns(query.group_by),
            count("referrals_with_contact", "Referrals with a contact"),
            count("contacts", "Contacts"),
            count("attended", "Attended"),
            count("dna", "Did not attend"),
            count("not_seen", "Arrived late, not seen"),
            count("cancelled_by_patient", "Cancelled by the person"),
            count("cancelled_by_provider", "Cancelled by the service"),
            count("booked", "Booked (in the future)"),
            count("appointments_due", "Appointments due"),
            percentage("dna_rate", "DNA rate %", "dna", "appointments_due"),
            count("referrals_with_dna", "Referrals with a DNA"),
            percentage(
                "referrals_with_dna_rate",
                "% of referrals with a contact that had a DNA",
                "referrals_with_dna",
                "referrals_with_contact",
            ),
        ],
        rows,
        [{**_blank(query.group_by), **_with_due(total)}],
        ["Contacts entered in error are left out.", *_multi_count_notes(query.group_by)],
        chart_measure="dna_rate",
    )


STATUSES = ("received", "accepted", "declined", "cancelled", "closed")


def _status_row(found: Sequence[Row]) -> Row:
    row: Row = {}
    for status in STATUSES:
        row.update(
            _sum([_count(i, "referrals", status) for i in found if i["status"] == status], [status])
        )
    row.update(_sum([_count(row, status, "referrals") for status in STATUSES], ["referrals"]))
    return row


async def outcomes(session: AsyncSession, query: ReportQuery, context: Context) -> Report:
    """Where referrals are now: received (no response yet), accepted, declined, cancelled,
    closed."""
    repository = ReportRepository(session)
    raw = await repository.lifecycle_status(query)
    grouped: dict[tuple[Any, ...], list[Row]] = {}
    for item in raw:
        grouped.setdefault(_group_key(item, query.group_by), []).append(item)
    rows = [
        {**{column_name(n): key[i] for i, n in enumerate(query.group_by)}, **_status_row(found)}
        for key, found in grouped.items()
    ]
    whole = (
        await repository.lifecycle_status(_ungrouped(query)) if _per_reason(query.group_by) else raw
    )
    _label(rows, query.group_by)
    rows.sort(key=_order_key(query.group_by))
    return Report(
        "outcomes",
        "Referral outcomes",
        "The lifecycle status of referrals made in the period, as it stands now.",
        [
            *_dimension_columns(query.group_by),
            count("referrals", "Referrals"),
            count("received", "Received, no response yet"),
            count("accepted", "Accepted, open"),
            count("declined", "Declined"),
            count("cancelled", "Cancelled"),
            count("closed", "Closed"),
            percentage("declined_rate", "% declined", "declined", "referrals"),
            percentage("closed_rate", "% closed", "closed", "referrals"),
        ],
        rows,
        [{**_blank(query.group_by), **_status_row(whole)}],
        _multi_count_notes(query.group_by),
        chart_measure="closed",
    )


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
    ended: dict[tuple[Any, ...], list[Row]] = {}
    for row in rows:
        ended.setdefault((*_group_key(row, query.group_by), row["ended"]), []).append(row)
    for row in rows:
        found = ended[(*_group_key(row, query.group_by), row["ended"])]
        row.update(_sum([_count(r, "referrals", "ended_total") for r in found], ["ended_total"]))
        row["code_label"], row["outcome"] = _closure_label(row["code"])
    whole = (
        await repository.closure_reasons(_ungrouped(query)) if _per_reason(query.group_by) else rows
    )
    totals_by: dict[tuple[str, str | None], list[Row]] = {}
    ended_whole: dict[str, list[Row]] = {}
    for row in whole:
        totals_by.setdefault((row["ended"], row["code"]), []).append(row)
        ended_whole.setdefault(row["ended"], []).append(row)
    totals = []
    for (ended_as, code), found in totals_by.items():
        label, outcome = _closure_label(code)
        totals.append(
            {
                **_blank(query.group_by),
                "ended": ended_as,
                "code": code,
                "code_label": label,
                "outcome": outcome,
                **_sum(found, ["referrals"]),
                **_sum(
                    [_count(r, "referrals", "ended_total") for r in ended_whole[ended_as]],
                    ["ended_total"],
                ),
            }
        )
    totals.sort(key=lambda r: r["ended"])
    _label(rows, query.group_by)
    rows.sort(key=lambda r: (_order_key(query.group_by)(r), r["ended"]))
    return Report(
        "closure-reasons",
        "Closure and decline reasons",
        "Why closed referrals were closed (with the outcome group) and why declined ones were "
        "declined.",
        [
            *_dimension_columns(query.group_by),
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
        _multi_count_notes(query.group_by),
        chart_measure="referrals",
        one_category_each=True,
        ranked=True,
        rank_within=("ended",),
    )


# Rates ---------------------------------------------------------------------------------------

POPULATION_DIMENSIONS = ("practice", "pcn", "age-band", "gender")
NO_POPULATION = ("ethnicity", "ethnic-category", "imd-decile")


async def rates(session: AsyncSession, query: ReportQuery, context: Context) -> Report:
    """Referrals per 10,000 registered patients, where list sizes are loaded."""
    for name in query.group_by:
        if name in NO_POPULATION:
            raise BadRequest(
                f"group_by: rates need a population, and list sizes are by practice, PCN, age "
                f"band and sex only, not {name}",
                expression="group_by",
            )
    for name in query.filters:
        if name in NO_POPULATION:
            raise BadRequest(
                f"{name}: rates need a population, and list sizes are by practice, PCN, age "
                "band and sex only",
                expression=name,
            )
    repository = ReportRepository(session)
    loaded = await repository.list_size_levels()
    if not loaded:
        raise Conflict(
            "no list sizes are loaded: load them with python -m referral_api.reports.load "
            "--list-sizes FILE (docs/reports.md)"
        )
    wanted = set(query.group_by) | set(query.filters)
    if "practice" in wanted or "pcn" not in wanted:
        level = "practice" if "practice" in loaded else "pcn"
    else:
        level = "pcn" if "pcn" in loaded else "practice"
    if level == "pcn" and "practice" in wanted:
        raise BadRequest(
            "practice: only PCN list sizes are loaded, so rates cannot be by practice",
            expression="practice",
        )
    rows, total = await repository.rate_numerators(query, level)
    population_dims = [name for name in query.group_by if name in POPULATION_DIMENSIONS]
    populations = {
        _group_key(row, population_dims): int(row["population"])
        for row in await repository.populations(level, population_dims, query.filters)
    }
    for row in rows:
        # A group with no list size (another gender, no age band) has no denominator: empty,
        # not a population of 0.
        row["population"] = populations.get(_group_key(row, population_dims))
    whole = await repository.populations(level, (), query.filters)
    total["population"] = int(whole[0]["population"]) if whole else None
    _label(rows, query.group_by)
    rows.sort(key=_order_key(query.group_by))
    area = "practices" if level == "practice" else "PCNs"
    return Report(
        "rates",
        "Referral rates per 10,000 registered patients",
        f"Referrals of people registered at {area} with a list size loaded, per 10,000 "
        "patients registered there (in the group's age band and sex).",
        [
            *_dimension_columns(query.group_by),
            count("referrals", "Referrals"),
            Column("population", "Registered patients", "population"),
            Column(
                "rate",
                "Referrals per 10,000",
                "per-10000",
                numerator="referrals",
                denominator="population",
            ),
        ],
        rows,
        [{**_blank(query.group_by), **total}],
        [
            f"Denominators: {area} list sizes by age band and sex. Gender is matched to the "
            "registered sex: genders other than male and female have no denominator.",
            "Referrals from areas without a list size are left out of both parts of the rate.",
            *_multi_count_notes(query.group_by),
        ],
        chart_measure="rate",
    )


# Wellbeing -----------------------------------------------------------------------------------


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
    rows = [_means(row) for row in _label(rows, query.group_by)]
    order = {m: i for i, m in enumerate(wellbeing.measures())}
    rows.sort(key=lambda r: (_order_key(query.group_by)(r), order.get(r["measure"], 99)))
    totals = sorted(
        (_means({**_blank(query.group_by), **row}) for row in whole),
        key=lambda r: order.get(r["measure"], 99),
    )
    return Report(
        "wellbeing",
        "Wellbeing change",
        "For each score, referrals with a baseline and a later follow-up (or discharge) "
        "assessment: mean baseline, mean follow-up and mean change (follow-up minus baseline).",
        [
            *_dimension_columns(query.group_by),
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
        rows,
        totals,
        [
            "The baseline is a referral's first baseline assessment, the follow-up its last "
            "follow-up or discharge assessment after it; assessments entered in error or "
            "cancelled are left out. Scores are never compared across instruments.",
            *_multi_count_notes(query.group_by),
        ],
        chart_measure="mean_change",
    )


# Re-referrals and parallel referrals ---------------------------------------------------------


async def re_referrals(session: AsyncSession, query: ReportQuery, context: Context) -> Report:
    """Referrals that re-refer a person to a role soon after an earlier referral ended, and
    referrals running in parallel with one to another role."""
    rows, total = await ReportRepository(session).linkage(query)
    _label(rows, query.group_by)
    rows.sort(key=_order_key(query.group_by))
    return Report(
        "re-referrals",
        "Re-referrals and parallel referrals",
        "Re-referral: the same person referred to the same role again within the linkage "
        "window after the earlier referral ended. Parallel: referred to another role while a "
        "referral was open (the 'assessed twice' problem); each such pair counts once, at the "
        "later referral.",
        [
            *_dimension_columns(query.group_by),
            count("referrals", "Referrals"),
            count("re_referrals", "Re-referrals"),
            percentage("re_referral_rate", "Re-referral rate %", "re_referrals", "referrals"),
            count("parallel", "Referrals in parallel with another role"),
            percentage("parallel_rate", "Parallel rate %", "parallel", "referrals"),
            count("people_in_parallel", "People referred to two roles at once"),
        ],
        rows,
        [{**_blank(query.group_by), **total}],
        [
            "Links are made by person (NHS number, else the sender's patient identifier) "
            "inside referral-api (window: "
            "REFERRAL_LINKAGE_WINDOW_DAYS); reports see only whether a referral is linked.",
            *_multi_count_notes(query.group_by),
        ],
        chart_measure="re_referral_rate",
    )


# Data completeness ---------------------------------------------------------------------------

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
            **_count(wide, denominator, "applicable"),
            **_count(wide, f"has_{name}", "complete"),
        }
        for name, label, denominator in FIELDS
    ]


async def completeness(session: AsyncSession, query: ReportQuery, context: Context) -> Report:
    """Per source system (by default) or role: the share of referrals with each field of the
    minimum dataset present and coded."""
    wide_rows, wide_total = await ReportRepository(session).completeness(query)
    rows = [row for wide in wide_rows for row in _long(wide, query.group_by)]
    _label(rows, query.group_by)
    field_order = {name: i for i, (name, _, _) in enumerate(FIELDS)}
    rows.sort(key=lambda r: (_order_key(query.group_by)(r), field_order[r["field"]]))
    return Report(
        "completeness",
        "Data completeness",
        "The share of referrals with each field present and coded, by source system and role.",
        [
            *_dimension_columns(query.group_by),
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
            *_multi_count_notes(query.group_by),
        ],
        chart_measure="complete_rate",
    )


# Data quality --------------------------------------------------------------------------------

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
    rows = await _quality_repository(session, context).warning_counts(query)
    warnings = [(w.name, w.label) for w in data_quality.WARNINGS]
    warnings.append((data_quality.OTHER_GAP, "Other data gaps"))
    measures = ["referrals", data_quality.WITH_GAP, *(name for name, _ in warnings)]
    total = {**_blank(query.group_by), **_sum(rows, measures)}
    for row in rows:
        row.pop(data_quality.ANY_UNMAPPED)
        row.pop(key_of(data_quality.ANY_UNMAPPED))
    rows.sort(key=_order_key(query.group_by, data_quality.DIMENSIONS))
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
    return Report(
        "data-quality",
        "Data quality by sender",
        "The referrals each sender sent, and how many Signpost kept with data gaps: "
        "no source of referral, reason codes it cannot map, reasons as text only, no NHS "
        "number, elements it kept but did not interpret, personal data it removed.",
        columns,
        rows,
        [total],
        list(QUALITY_NOTES),
        chart_measure=f"{data_quality.WITH_GAP}_rate",
    )


def _quality_repository(session: AsyncSession, context: Context) -> DataQualityRepository:
    return DataQualityRepository(session, RecordKeys.of(context.disclosure_key.get_secret_value()))


async def _unmapped_codes(session: AsyncSession, query: ReportQuery, context: Context) -> Report:
    """Per group, the codes Signpost could not map, ranked by the referrals that carried them."""
    repository = _quality_repository(session, context)
    received = {
        _group_key(row, query.group_by): row for row in await repository.warning_counts(query)
    }
    rows = await repository.unmapped_codes(query)
    per_code: dict[tuple[str, str | None], list[Row]] = {}
    for row in rows:
        row.update(
            _count(received[_group_key(row, query.group_by)], "referrals", "referrals_received")
        )
        row["code_system"], row["code_value"] = _split_code(row["code"])
        per_code.setdefault((row["element"], row["code"]), []).append(row)
    all_received = _count(
        _sum(list(received.values()), ["referrals"]), "referrals", "referrals_received"
    )
    totals: list[Row] = []
    for (element, code), code_rows in per_code.items():
        system, value = _split_code(code)
        totals.append(
            {
                **_blank(query.group_by),
                "element": element,
                "code": code,
                "code_system": system,
                "code_value": value,
                **_sum(code_rows, ["referrals"]),
                **all_received,
            }
        )
    totals.append(
        {
            **_blank(query.group_by),
            "element": None,
            "code": None,
            "code_system": None,
            "code_value": "Any unmapped code (each referral once)",
            **_count(
                _sum(list(received.values()), [data_quality.ANY_UNMAPPED]),
                data_quality.ANY_UNMAPPED,
                "referrals",
            ),
            **all_received,
        }
    )
    rows.sort(key=_order_key(query.group_by, data_quality.DIMENSIONS))
    return Report(
        "data-quality",
        "Data quality by sender: codes Signpost could not map",
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
    )


# Workers -------------------------------------------------------------------------------------


async def workers_report(session: AsyncSession, query: ReportQuery, context: Context) -> Report:
    """Per worker (and role): the caseload (referrals they hold or had a contact on), their
    contacts in the period by attendance outcome, and their DNA rate."""
    repository = WorkerRepository(session, RecordKeys.of(context.disclosure_key.get_secret_value()))
    rows = [_with_due(row) for row in await repository.counts(query)]
    [total] = await repository.counts(_ungrouped(query))
    roles = workers.DIMENSIONS["role"]
    for row in rows:
        if "role" in query.group_by:
            row["role_label"] = roles.label(row["role"])
    rows.sort(key=_order_key(query.group_by, workers.DIMENSIONS))
    columns = [
        Column(column_name(name), workers.DIMENSIONS[name].description, "dimension")
        for name in query.group_by
    ]
    if "role" in query.group_by:
        columns.insert(query.group_by.index("role") + 1, Column("role_label", "Role", "label"))
    # A referral or contact can be in several workers' rows: no breakdown adds up to the total.
    counts = [
        count("caseload", "Caseload: referrals held or seen", additive=False),
        count("contacts", "Contacts", additive=False),
        count("attended", "Attended", additive=False),
        count("dna", "Did not attend", additive=False),
        count("not_seen", "Arrived late, not seen", additive=False),
        count("appointments_due", "Appointments due", additive=False),
        percentage("dna_rate", "DNA rate %", "dna", "appointments_due"),
    ]
    return Report(
        "workers",
        "Activity by worker",
        "Per worker (by staff identifier) and role: the caseload, contacts and DNA rate in "
        "the period.",
        [*columns, *counts],
        rows,
        [{**_blank(query.group_by), **_with_due(total)}],
        [
            "Workers are named by their senders' staff identifiers (Encounter.participant, "
            "Task.owner); no names are kept. from and to select contacts by their date, and "
            "referrals held (Task owner) while open at some time in the period.",
            "Caseload: the distinct referrals a worker holds as the owner of the referral's "
            "Task or had a contact on. A contact with two workers counts for each, and once "
            "in the total; contacts entered in error are left out. DNA rate = did not attend "
            "/ (attended + did not attend + arrived too late to be seen).",
            "A worker's role is the personalised-care role given on the contact, else the "
            "role the referral was made to.",
        ],
        chart_measure="contacts",
    )


# The catalogue -------------------------------------------------------------------------------

REASON_DIMENSIONS = ("reason", "reason-group")

REPORTS: dict[str, ReportSpec] = {
    spec.name: spec
    for spec in (
        ReportSpec(
            "referrals",
            "Referrals and people",
            "Referrals and distinct people by month, PCN, practice, role, source or any "
            "other dimension.",
            referrals,
        ),
        ReportSpec(
            "reasons",
            "Reasons for referral",
            "Every reason counted (a referral with three reasons counts in three rows), "
            "with the share of referrals carrying each.",
            reasons,
            options=(LEVEL,),
            reserved=REASON_DIMENSIONS,
        ),
        ReportSpec(
            "reason-pairs",
            "Reasons given together",
            "The most frequent pairs of reasons on one referral.",
            reason_pairs,
            options=(LEVEL, LIMIT),
            reserved=REASON_DIMENSIONS,
        ),
        ReportSpec(
            "support",
            "Support offered",
            "Support offered and onward referrals by type.",
            support,
            options=(SUPPORT_LEVEL,),
        ),
        ReportSpec(
            "support-match",
            "Reason vs support offered",
            "The match rate between needs and the support offered, overall and per reason group.",
            support_match,
            reserved=REASON_DIMENSIONS,
        ),
        ReportSpec(
            "waiting-times",
            "Waiting times",
            "Referral to first contact and to closure: median and 90th percentile days.",
            waiting_times,
        ),
        ReportSpec(
            "attendance",
            "Attendance",
            "Contacts by attendance outcome and the DNA rate.",
            attendance,
        ),
        ReportSpec(
            "outcomes",
            "Referral outcomes",
            "Received, accepted, declined, cancelled and closed.",
            outcomes,
        ),
        ReportSpec(
            "closure-reasons",
            "Closure and decline reasons",
            "Why referrals were closed or declined.",
            closure_reasons,
        ),
        ReportSpec(
            "rates",
            "Rates per 10,000",
            "Referrals per 10,000 registered patients, where list sizes are loaded.",
            rates,
            needs="practice or PCN list sizes (python -m referral_api.reports.load --list-sizes)",
        ),
        ReportSpec(
            "wellbeing",
            "Wellbeing change",
            "Paired baseline and follow-up scores per instrument: mean change and pairs.",
            wellbeing_change,
        ),
        ReportSpec(
            service_use.NAME,
            service_use.TITLE,
            service_use.DESCRIPTION,
            service_use.service_use_change,
        ),
        ReportSpec(
            "re-referrals",
            "Re-referrals and parallel referrals",
            "Re-referral rate and referrals running in parallel across roles.",
            re_referrals,
        ),
        ReportSpec(
            "completeness",
            "Data completeness",
            "Share of referrals with each field present and coded, per source system and per role.",
            completeness,
            default_group_by=("source-system",),
        ),
        ReportSpec(
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
        ),
        ReportSpec(
            "workers",
            "Activity by worker",
            "Per worker (the sender's staff identifier; no names) and role: caseload (referrals "
            "held or seen), contacts by attendance outcome and the DNA rate, by contact date.",
            workers_report,
            default_group_by=workers.DEFAULT_GROUP_BY,
            dimensions=workers.DIMENSIONS,
            period=workers.PERIOD,
        ),
    )
}


def describe_catalogue() -> dict[str, Any]:
    """The reports, their options and the dimensions they filter and group by."""
    return {
        "reports": [
            {
                "name": spec.name,
                "title": spec.title,
                "description": spec.description,
                "href": f"/reports/{spec.name}",
                "options": [
                    {
                        "name": o.name,
                        "description": o.description,
                        "default": o.default,
                        **(
                            {"values": list(o.values)}
                            if o.values
                            else {"minimum": o.minimum, "maximum": o.maximum}
                        ),
                    }
                    for o in spec.options
                ],
                **(
                    {"default_group_by": list(spec.default_group_by)}
                    if spec.default_group_by
                    else {}
                ),
                **(
                    {"dimensions": [_describe(d) for d in spec.dimensions.values()]}
                    if spec.dimensions is not None
                    else {}
                ),
            }
            for spec in REPORTS.values()
        ],
        "dimensions": [_describe(d) for d in catalogue().values()],
        "parameters": {
            "from": "first referral date included (YYYY-MM-DD)",
            "to": "last referral date included (YYYY-MM-DD)",
            "group_by": "one or two dimensions, comma-separated or repeated",
            "format": "json (default), csv or svg; or send Accept: text/csv or image/svg+xml",
            "disclosure": "controlled or none; none needs reports:unsuppressed and is the default "
            "for a caller who holds it",
        },
        "disclosure": disclosure.RULE,
    }


def _describe(found: Dimension) -> dict[str, Any]:
    return {
        "name": found.name,
        "description": found.description,
        "filter": found.filterable,
        **({"values": list(found.values)} if found.values is not None else {}),
    }
