"""The screening funnel per month, clinic and pathway, with disclosure control applied.

Measures: invited (invitations issued), completed, positive (any flag), positive by domain,
wants help and declined help (among positives), referred (delivered to referral-api), referral
pending, and referral accepted and closed (read back from referral-api). Item level: the rate of
"I choose not to answer this question" (LA30122-8) per question. Months are calendar months in
UTC, by the date a response was completed (an invitation: the date it was issued).
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from screening_api.reports.disclosure import Keyed, add, rule
from screening_api.reports.repository import GroupKey, ReportFilter, ReportRepository
from signpost_platform.csv_output import report_cells
from signpost_schemas.disclosure import (
    UNCONTROLLED,
    PerturbationTable,
    RecordKeys,
    cell_key,
    ratio,
    shipped_table,
)

Publish = Callable[[Keyed], int | None]

MEASURES = (
    "invited",
    "completed",
    "positive",
    "wants_help",
    "declined_help",
    "referred",
    "referral_pending",
    "referral_accepted",
    "referral_closed",
)
RATES = {
    # Completed responses per invitation issued (both by their own month: an approximation
    # when invitations are answered in a later month).
    "completed_rate": ("completed", "invited"),
    "positive_rate": ("positive", "completed"),
    "wants_help_rate": ("wants_help", "positive"),
    "referred_rate": ("referred", "wants_help"),
}


@dataclass
class _Counts:
    """True counts, each with the key sum of the records it counts."""

    measures: dict[str, Keyed]
    domains: dict[str, Keyed]

    def add(self, other: "_Counts") -> None:
        for name, value in other.measures.items():
            self.measures[name] = add(self.measures.get(name, (0, 0)), value)
        for name, value in other.domains.items():
            self.domains[name] = add(self.domains.get(name, (0, 0)), value)


def _empty() -> _Counts:
    return _Counts({name: (0, 0) for name in MEASURES}, {})


def report_filter(
    first: date | None,
    last: date | None,
    clinics: list[str],
    pathways: list[str],
    questionnaire_urls: list[str],
) -> ReportFilter:
    """What a report counts: the days `first` to `last` (inclusive; open where None), the
    clinics (ODS codes, any case), pathways and questionnaires (every one where empty)."""
    return ReportFilter(
        start=datetime(first.year, first.month, first.day, tzinfo=UTC) if first else None,
        # The end is exclusive: the day after `last` (none after the last representable day).
        end=datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1)
        if last and last < date.max
        else None,
        clinics=[c.strip().upper() for c in clinics],
        pathways=pathways,
        questionnaire_urls=questionnaire_urls,
    )


async def screening_report(
    session: AsyncSession,
    report: ReportFilter,
    keys: RecordKeys,
    *,
    controlled: bool = True,
    table: PerturbationTable | None = None,
) -> dict[str, Any]:
    """The report, its counts published by the cell key method under `keys` and `table` (the
    shipped one by default); `controlled=False` gives true counts (for reports:unsuppressed
    callers)."""
    ptable = table or shipped_table()

    def publish(count: Keyed) -> int | None:
        return ptable.publish(count[0], cell_key(count[1])) if controlled else count[0]

    repository = ReportRepository(session, keys)
    groups: dict[GroupKey, _Counts] = {}

    def group(key: GroupKey) -> _Counts:
        return groups.setdefault(key, _empty())

    for key, counts in (await repository.screening_counts(report)).items():
        group(key).measures.update(counts)
    for key, domains in (await repository.domain_counts(report)).items():
        group(key).domains.update(domains)
    for key, counts in (await repository.referral_counts(report)).items():
        group(key).measures.update(counts)
    for key, invited in (await repository.invitation_counts(report)).items():
        group(key).measures["invited"] = invited
    total = _empty()
    for group_counts in groups.values():
        total.add(group_counts)
    items = []
    for url, version, link_id, answered, declined in await repository.item_declines(report):
        item: dict[str, Any] = {
            "questionnaire": url,
            "version": version,
            "link_id": link_id,
            "answered": publish(answered),
            "declined_to_answer": publish(declined),
        }
        item["declined_to_answer_rate"] = ratio(item["declined_to_answer"], item["answered"])
        item["suppressed"] = [k for k in ("answered", "declined_to_answer") if item[k] is None]
        items.append(item)
    return {
        "report": "screening",
        "filters": {
            "from": report.start.date().isoformat() if report.start else None,
            # `end` is exclusive: the filter as asked for is the day before it.
            "to": (report.end - timedelta(days=1)).date().isoformat() if report.end else None,
            "clinic": report.clinics,
            "pathway": report.pathways,
            "questionnaire": report.questionnaire_urls,
        },
        "disclosure": "controlled" if controlled else "none",
        "notes": [rule(ptable) if controlled else UNCONTROLLED],
        "groups": [
            {"month": key[0], "clinic": key[1], "pathway": key[2], **_published(counts, publish)}
            for key, counts in sorted(groups.items(), key=lambda kv: _sort_key(kv[0]))
        ],
        "total": _published(total, publish),
        "items": items,
    }


def _sort_key(key: GroupKey) -> tuple[str, str, str]:
    return (key[0], key[1], key[2] or "")


def _published(counts: _Counts, publish: Publish) -> dict[str, Any]:
    """A row of published counts; rates from the published counts; what was suppressed."""
    row: dict[str, Any] = {name: publish(counts.measures[name]) for name in MEASURES}
    row["positive_by_domain"] = {
        domain: publish(count) for domain, count in sorted(counts.domains.items())
    }
    for rate, (numerator, denominator) in RATES.items():
        row[rate] = ratio(row[numerator], row[denominator])
    row["suppressed"] = [
        *(name for name in MEASURES if row[name] is None),
        *(f"positive_by_domain.{d}" for d, v in row["positive_by_domain"].items() if v is None),
        *(rate for rate in RATES if row[rate] is None and counts.measures[RATES[rate][1]][0]),
    ]
    return row


def csv_rows(report: dict[str, Any]) -> Iterable[list[Any]]:
    """The report as CSV rows: one per group, then the total; domains as columns. A suppressed
    value is `*`, an empty cell one that does not apply (`csv_output.report_cells`)."""
    domains = sorted(
        {d for g in [*report["groups"], report["total"]] for d in g["positive_by_domain"]}
    )
    # Named as in the rows' `suppressed` lists; the header names the domain columns positive_<d>.
    names = [
        "month",
        "clinic",
        "pathway",
        *MEASURES,
        *RATES,
        *(f"positive_by_domain.{domain}" for domain in domains),
    ]
    yield [
        "month",
        "clinic",
        "pathway",
        *MEASURES,
        *RATES,
        *(f"positive_{domain}" for domain in domains),
    ]
    for row in [
        *report["groups"],
        {"month": "all", "clinic": "all", "pathway": "all", **report["total"]},
    ]:
        flat = {
            **row,
            **{f"positive_by_domain.{d}": v for d, v in row["positive_by_domain"].items()},
        }
        yield report_cells(flat, names, set(row["suppressed"]))
