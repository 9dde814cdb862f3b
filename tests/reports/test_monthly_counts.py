"""Reports over whole months, grouped and filtered by month, role and source system alone, sum
the monthly counts the refresh keeps: the referrals' (completeness, attendance, outcomes), the
reasons' (reasons, support-match) and the support's (support, outcomes by support group). Any
other period counts the facts themselves. Both must give the same figures."""

from collections import Counter
from typing import Any

import pytest

from tests.support.reports import Dataset, Person

WHOLE = {"from": "2026-03-01", "to": "2026-03-31"}
HALVES = ({"from": "2026-03-01", "to": "2026-03-14"}, {"from": "2026-03-15", "to": "2026-03-31"})
# Each report: the columns naming a row besides its groups, and the counts it publishes.
COUNTS = {
    "completeness": (("field",), ("applicable", "complete")),
    "attendance": (
        (),
        (
            "referrals_with_contact",
            "contacts",
            "attended",
            "dna",
            "not_seen",
            "cancelled_by_patient",
            "booked",
            "referrals_with_dna",
        ),
    ),
    "outcomes": ((), ("referrals", "received", "accepted", "declined", "cancelled", "closed")),
    "reasons": (("reason",), ("referrals",)),
    "reasons?level=reason-group": (("reason_group",), ("referrals",)),
    "support-match": (("reason_group",), ("referrals", "with_support", "matched")),
    "support": (("support",), ("referrals", "offers", "onward_referrals")),
    "support?level=support-group": (("support",), ("referrals", "offers", "onward_referrals")),
}
HOUSING, HOMELESS, FINANCE, ISOLATION = "105531004", "32911000", "160932005", "422650009"
# The reasons of the referrals of each day, in turn.
REASONS = ((HOUSING, HOMELESS, ISOLATION), (FINANCE,), (HOUSING, FINANCE), ())
NAVIGATOR = "care-navigator"


def _march() -> Dataset:
    """Referrals on the first and last days of March and either side of its middle, from two
    systems, to two roles, in every status; and on the days either side of March."""
    d = Dataset()
    for index, (day, system, role, status) in enumerate(
        (
            ("01", "emis", None, "closed"),
            ("01", "rio", NAVIGATOR, "accepted"),
            ("14", "emis", None, None),
            ("14", "rio", None, "declined"),
            ("15", "emis", NAVIGATOR, "closed"),
            ("15", "emis", None, "cancelled"),
            ("31", "rio", None, "closed"),
            ("31", "emis", NAVIGATOR, "accepted"),
        )
    ):
        referral = d.referral(
            authored=f"2026-03-{day}",
            source_system=system,
            status=status,
            ended_days=3 if status in ("closed", "declined", "cancelled") else None,
            closure_reason="needs-met" if day in ("01", "31") else None,
            details=Person(lsoa=None, gender=None) if day == "14" else Person(),
            reasons=REASONS[index % len(REASONS)],
            **({"role": role} if role else {}),
        )
        if status in ("closed", "accepted"):
            d.contacts(referral, "attended", "dna", "booked", "cancelled-by-patient")
            d.support(referral, "housing-advice" if index % 3 else "diet-healthy-eating")
            if index % 3 == 1:
                d.support(referral, "benefits-welfare-advice", kind="referral")
    for day in ("2026-02-28", "2026-04-01"):
        d.referral(authored=day, source_system="rio", status="closed", ended_days=1)
    return d


def _counted(body: dict[str, Any], report: str, group_by: tuple[str, ...]) -> Counter:
    """Every count of every row and total, by (row or total, its groups and names, column)."""
    names, counts = COUNTS[report]
    counted: Counter = Counter()
    for kind in ("rows", "totals"):
        for row in body[kind]:
            key = (kind, *(row.get(c) for c in (*group_by, *names)))
            for column in counts:
                counted[(*key, column)] += row[column]
    return counted


@pytest.mark.parametrize("report_name", list(COUNTS))
@pytest.mark.parametrize(
    ("group_by", "filters"),
    [
        ((), {}),
        (("role",), {}),
        (("source-system", "role"), {}),
        (("month",), {"source-system": "rio"}),
    ],
)
async def test_whole_months_count_what_their_days_count(
    load, report, report_name, group_by, filters
):
    await load(_march())
    name, _, option = report_name.partition("?")
    params = {**filters, **({"group_by": ",".join(group_by)} if group_by else {})}
    params.update([option.split("=")] if option else [])
    whole = await report(name, True, **WHOLE, **params)
    halves = [await report(name, True, **half, **params) for half in HALVES]
    summed = _counted(halves[0], report_name, group_by) + _counted(halves[1], report_name, group_by)
    # Counter addition drops zeros: compare the counts that are not 0.
    assert +_counted(whole, report_name, group_by) == summed
    grand = whole["totals"][-1]
    if report_name == "outcomes":
        expected = {"referrals": 8, "closed": 3, "accepted": 2, "received": 1}
        if filters:
            expected = {"referrals": 3, "closed": 1, "accepted": 1, "received": 0}
        assert {k: grand[k] for k in expected} == expected
    elif report_name == "attendance":
        assert (grand["contacts"], grand["dna"]) == ((20, 5) if not filters else (8, 2))


@pytest.mark.parametrize(
    ("group_by", "filters"),
    [(("support-group",), {}), (("support-group", "role"), {"source-system": "emis"})],
)
async def test_outcomes_by_support_group_over_whole_months_count_what_their_days_count(
    load, report, group_by, filters
):
    """By support group, the referrals offered support come from the support's monthly counts
    and those offered none from the referrals' (all less those offered any)."""
    await load(_march())
    params = {**filters, "group_by": ",".join(group_by)}
    whole = await report("outcomes", True, **WHOLE, **params)
    halves = [await report("outcomes", True, **half, **params) for half in HALVES]
    summed = _counted(halves[0], "outcomes", group_by) + _counted(halves[1], "outcomes", group_by)
    assert +_counted(whole, "outcomes", group_by) == summed
    groups = {row["support_group"]: row["referrals"] for row in whole["rows"]}
    if not filters:
        # Five referrals offered support (three of them in two groups), three offered none.
        assert groups == {"general-wellbeing": 2, "housing": 3, "finance": 3, None: 3}
