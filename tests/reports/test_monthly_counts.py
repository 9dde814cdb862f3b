"""Reports over whole months, grouped and filtered by month, role and source system alone, sum
the monthly counts the refresh keeps: the referrals' (completeness, attendance, outcomes,
re-referrals), the reasons' (reasons, support-match) and the support's (support, outcomes by
support group). Any other period counts the facts themselves. Both must give the same
figures."""

from collections import Counter
from typing import Any

import pytest

from referral_api.reports import repository
from tests.support.reports import Dataset, Person
from tests.support.rows import execute_sql

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
            "cancelled_by_provider",
            "booked",
            "referrals_with_dna",
        ),
    ),
    "outcomes": ((), ("referrals", "received", "accepted", "declined", "cancelled", "closed")),
    # Its people in parallel are not summed: one person is counted once however many halves.
    "re-referrals": ((), ("referrals", "re_referrals", "parallel")),
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
    systems, to two roles, in every status; and on the days either side of March. Three people
    have two of them each: one re-referred, two referred to both roles at once (one of them in
    each half of the month, the other across the halves)."""
    d = Dataset()
    referrals: list[str] = []
    for index, (day, system, role, status, person) in enumerate(
        (
            ("01", "emis", None, "closed", "re-referred"),
            ("01", "rio", NAVIGATOR, "accepted", "across"),
            ("14", "emis", None, None, "across"),
            ("14", "rio", None, "declined", None),
            ("15", "emis", NAVIGATOR, "closed", "re-referred"),
            ("15", "emis", None, "cancelled", "within"),
            ("31", "rio", None, "closed", None),
            ("31", "emis", NAVIGATOR, "accepted", "within"),
        )
    ):
        referral = d.referral(
            authored=f"2026-03-{day}",
            person=person,
            source_system=system,
            status=status,
            ended_days=3 if status in ("closed", "declined", "cancelled") else None,
            first_contact_days=1 + index % 3 if status in ("closed", "accepted") else None,
            closure_reason="needs-met" if day in ("01", "31") else None,
            details=Person(lsoa=None, gender=None) if day == "14" else Person(),
            reasons=REASONS[index % len(REASONS)],
            **({"role": role} if role else {}),
        )
        if status in ("closed", "accepted"):
            d.contacts(referral, "attended", "dna", "booked", "cancelled-by-patient")
            if role:
                d.contacts(referral, "not-seen", "cancelled-by-provider", first_day=10)
            d.support(referral, "housing-advice" if index % 3 else "diet-healthy-eating")
            if index % 3 == 1:
                d.support(referral, "benefits-welfare-advice", kind="referral")
        if index % 4 != 3:  # the referrals with reasons: paired counts of service use
            d.service_use(referral, "gp-appointments", before=index + 2, after=index % 3 + 1)
        referrals.append(referral)
    d.link(referrals[0], referrals[4], "re-referral")
    d.link(referrals[1], referrals[2], "parallel")
    d.link(referrals[5], referrals[7], "parallel")
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
        assert (grand["contacts"], grand["dna"]) == ((26, 5) if not filters else (10, 2))
    elif report_name == "re-referrals" and not filters:
        # A parallel pair counts once, at the later referral.
        assert (grand["re_referrals"], grand["parallel"], grand["people_in_parallel"]) == (1, 2, 2)


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


QUERIES = (
    ("completeness", {"group_by": "source-system,role"}),
    ("attendance", {"group_by": "month", "source-system": "rio"}),
    ("outcomes", {"group_by": "role"}),
    ("outcomes", {"group_by": "support-group,source-system"}),
    ("reasons", {"group_by": "role", "level": "reason-group"}),
    ("support-match", {"group_by": "role"}),
    ("support", {"level": "support-group"}),
    ("reason-pairs", {"group_by": "role"}),
    ("referrals", {"group_by": "reason-group"}),
    ("service-use", {"group_by": "role,reason-group"}),
    ("service-use", {"group_by": "reason-group"}),
    ("re-referrals", {}),
    ("re-referrals", {"group_by": "role"}),
    ("re-referrals", {"group_by": "month,source-system"}),
    ("waiting-times", {}),
    ("waiting-times", {"group_by": "role"}),
    ("waiting-times", {"group_by": "month,source-system", "role": NAVIGATOR}),
    ("waiting-times", {"group_by": "reason-group"}),
    ("waiting-times", {"group_by": "month,reason-group"}),
    ("waiting-times", {"role": "care-coordinator"}),  # no referral
    # Filtered by reason group, the facts: the referrals' other groups are kept too.
    ("waiting-times", {"group_by": "reason-group", "reason-group": "housing"}),
    ("waiting-times", {"group_by": "month,reason-group", "reason-group": "finance,housing"}),
)


@pytest.mark.parametrize(("report_name", "params"), QUERIES)
@pytest.mark.parametrize("unsuppressed", [False, True])
async def test_the_monthly_counts_answer_what_the_facts_answer(
    load, report, monkeypatch, report_name, params, unsuppressed
):
    """Over whole months the same answer, published or true, byte for byte, whether the monthly
    counts or the facts are summed."""
    await load(_march())
    period = {"from": "2026-02-01", "to": "2026-04-30"}
    monthly = await report(report_name, unsuppressed, **period, **params)
    monkeypatch.setattr(repository, "_monthly", lambda query, kept: False)
    assert await report(report_name, unsuppressed, **period, **params) == monthly


@pytest.mark.parametrize(
    ("report_name", "table", "column", "shown"),
    [
        ("completeness", "report_referral_month", "has_lsoa", ("complete", "lsoa")),
        ("outcomes", "report_referral_month", "referrals", ("referrals", None)),
        ("reasons", "report_reason_month", "reasons", ("referrals", None)),
        ("support", "report_support_month", "offers", ("offers", None)),
        ("re-referrals", "report_referral_month", "parallel", ("parallel", None)),
    ],
)
async def test_whole_months_are_read_from_the_monthly_counts(
    load, report, referral_app, report_name, table, column, shown
):
    """A whole month is summed from the monthly counts, part of one from the facts: a count
    changed in the monthly counts alone moves the first and not the second."""
    await load(_march())
    measure, field = shown

    async def grand(period):
        body = await report(report_name, True, **period)
        return sum(
            row[measure] for row in body["totals"] if field is None or row.get("field") == field
        )

    before = [await grand(WHOLE), await grand(HALVES[1])]
    await execute_sql(referral_app, f"UPDATE {table} SET {column} = {column} + 100")  # noqa: S608
    after = [await grand(WHOLE), await grand(HALVES[1])]
    assert after[0] > before[0]
    assert after[1] == before[1]


async def test_people_by_reason_group_over_whole_months_are_read_from_the_monthly_counts(
    load, report, referral_app
):
    """The referrals report by reason group over whole months sums the reason facts' monthly
    counts: a count changed there alone moves a whole month's people and referrals, not part of
    a month's; and the people are those referred in the range, each once per group."""
    await load(_march())

    def counted(body):
        total = body["totals"][-1]
        return total["referrals"], total["people"]

    params = {"group_by": "reason-group"}
    whole = await report("referrals", True, **WHOLE, **params)
    # Six referrals with reasons (two were made with none here) of four people: "re-referred",
    # "across" and "within" have two referrals each, one other person one.
    assert counted(whole) == (6, 4)
    housing = next(row for row in whole["rows"] if row["reason_group"] == "housing")
    assert (housing["referrals"], housing["people"]) == (4, 3)
    before = [counted(whole), counted(await report("referrals", True, **HALVES[1], **params))]
    await execute_sql(
        referral_app,
        "UPDATE report_reason_people_month SET group_rows = group_rows + 100, "
        "first_rows = first_rows + 100",
    )
    after = [
        counted(await report("referrals", True, **WHOLE, **params)),
        counted(await report("referrals", True, **HALVES[1], **params)),
    ]
    assert after[0] != before[0]
    assert after[1] == before[1]


async def test_service_use_by_reason_group_over_whole_months_is_read_from_the_monthly_counts(
    load, report, referral_app
):
    """The service-use report by role and reason group over whole months sums the monthly
    counts: a count changed there alone moves a whole month's pairs, not part of a month's."""
    await load(_march())
    params = {"group_by": "role,reason-group"}

    async def pairs(period):
        body = await report("service-use", True, **period, **params)
        return [row["pairs"] for row in body["totals"]], sum(r["pairs"] for r in body["rows"])

    before = [await pairs(WHOLE), await pairs(HALVES[1])]
    # Six referrals with reasons, each paired once: a pair in each of its reason groups.
    assert before[0] == ([6], 10)
    await execute_sql(
        referral_app,
        "UPDATE report_service_use_month SET pairs = pairs + 100, once_pairs = once_pairs + 100",
    )
    after = [await pairs(WHOLE), await pairs(HALVES[1])]
    assert after[0] != before[0]
    assert after[1] == before[1]


@pytest.mark.parametrize(
    ("params", "table", "counts", "expected"),
    [
        ({}, "report_wait_month", ("referrals",), (8, 5, 3)),
        # Per reason group, summed: a referral counts in each of its groups (ten groups of
        # the eight referrals, seven of those with a contact, six of those closed).
        (
            {"group_by": "reason-group"},
            "report_reason_wait_month",
            ("group_rows", "first_rows"),
            (10, 7, 6),
        ),
    ],
)
async def test_waits_over_whole_months_are_read_from_the_monthly_counts(
    load, report, referral_app, params, table, counts, expected
):
    """The waiting-times report over whole months sums the monthly counts by pair of waits: a
    count changed there alone moves a whole month's referrals and waits, not part of a
    month's."""
    await load(_march())

    async def waits(period):
        body = await report("waiting-times", True, **period, **params)
        counted = body["rows"] if params else body["totals"]
        return tuple(
            sum(row[c] for row in counted) for c in ("referrals", "first_contact", "closed")
        )

    before = [await waits(WHOLE), await waits(HALVES[1])]
    # Referrals; those accepted or closed (five of the eight) had an attended contact; three
    # were closed.
    assert before[0] == expected
    raised = ", ".join(f"{count} = {count} + 100" for count in counts)
    await execute_sql(referral_app, f"UPDATE {table} SET {raised}")  # noqa: S608
    after = [await waits(WHOLE), await waits(HALVES[1])]
    assert all(a > b for a, b in zip(after[0], before[0], strict=True))
    assert after[1] == before[1]


@pytest.mark.parametrize(
    ("report_name", "group_by"),
    [
        ("referrals", "reason-group"),
        ("service-use", "reason-group"),
        ("service-use", "role,reason-group"),
    ],
)
@pytest.mark.parametrize("period", [{}, {"to": "2026-03-31"}])
async def test_a_previous_referral_in_december_1999_is_a_previous_month(
    load, report, monkeypatch, report_name, group_by, period
):
    """Months count from January 2000, so December 1999 is month -1: a person referred then and
    again in 2026 is one person, whether the monthly counts or the facts are summed."""
    d = Dataset()
    for day in ("1999-12-15", "2026-03-10"):
        referral = d.referral(authored=day, person="returning", details=Person())
        d.service_use(referral, "gp-appointments", before=3, after=1)
    await load(d)
    monthly = await report(report_name, True, group_by=group_by, **period)
    monkeypatch.setattr(repository, "_monthly", lambda query, kept: False)
    assert await report(report_name, True, group_by=group_by, **period) == monthly
    assert [row["people"] for row in monthly["totals"]] == [1]


async def test_a_referral_with_many_contacts_is_counted_and_refreshed(load, report, referral_app):
    """A count above 128 times a record key above 255 / 2 overflows a SMALLINT product: the key
    sums multiply as integers, in reports and in the refresh of the monthly counts."""
    d = Dataset()
    busy = d.referral(authored="2026-03-02", status="accepted")
    d.contacts(busy, *["attended"] * 150)
    await load(d)
    assert await referral_app.state.report_facts.refresh() == 1
    await execute_sql(referral_app, "UPDATE report_referral SET record_key = 250")
    body = await report("attendance", True, **HALVES[0])  # part of a month: the facts
    assert body["totals"][0]["contacts"] == 150
    await execute_sql(referral_app, "INSERT INTO report_change (referral_id) VALUES (:id)", id=busy)
    assert await referral_app.state.report_facts.refresh() == 1
    assert (await report("attendance", True, **WHOLE))["totals"][0]["contacts"] == 150
