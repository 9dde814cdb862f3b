"""Disclosure control: the cell key method with suppression of 1-7 and rounding to 5, totals
from true figures, and why differencing published figures cannot recover a suppressed count
(tests/reports/test_disclosure_attack.py replays the attack across many answers)."""

import itertools
import random
from datetime import date

from referral_api.reports.disclosure import publish, rank
from referral_api.reports.query import ReportQuery
from referral_api.reports.repository import ReportRepository
from referral_api.reports.tables import Column, Report, count, key_of, percentage, statistic
from signpost_schemas.disclosure import (
    KEY_SPACE,
    PerturbationTable,
    cell_key,
    generate_table,
    shipped_table,
)
from tests.reports.conftest import REPORTS, UNSUPPRESSED
from tests.support.reports import Dataset, Person
from tests.support.rows import execute_sql, fetch_rows

TABLE = shipped_table()
# The rule before the cell key method: suppress 1-7, round to 5, no adjustment.
NO_ADJUSTMENT = PerturbationTable(8, ((0,) * 256,))


def test_counts_of_one_to_seven_are_never_shown_and_others_are_adjusted_then_rounded():
    assert (TABLE.maximum, TABLE.smallest) == (4, 15)
    for n in range(0, 300):
        shown = {TABLE.publish(n, key) for key in range(256)}
        if n == 0:
            assert shown == {0}
        elif n <= 7:
            assert shown == {None}
        else:
            for value in shown - {None}:
                assert value % 5 == 0 and value >= 15 and abs(value - n) <= 4 + 2
            if n > 16:
                assert None not in shown  # only a value that would round below 15 is suppressed
    # The same records (count and cell key) always publish the same value.
    assert TABLE.publish(17, 200) == TABLE.publish(17, 200)
    assert [NO_ADJUSTMENT.publish(n, 99) for n in (0, 1, 7, 8, 12, 13, 17, 18, 103)] == [
        0,
        None,
        None,
        10,
        10,
        15,
        15,
        20,
        105,
    ]


def test_a_value_shown_never_stands_for_a_count_that_could_be_one_to_seven():
    """A published value stands for a range of true counts (the rounding and the largest
    adjustment either way). Were any part of that range 7 or less, the floor of 8 would cut it
    and every true count at the floor would sit at the very bottom of its range: a 10 for a
    true 8 is "8 to 16", exactly 8 at the low end, and sums of such cells around a suppressed
    cell pin it down. So the smallest value shown is 15 (9 to 21), and what a reader can say
    about a suppressed cell covers every count the table suppresses."""
    for table in (TABLE, generate_table(3, maximum=2), generate_table(4, maximum=6)):
        spread = 2 + table.maximum
        largest_suppressed = 0
        for n in range(1, 120):
            for key in range(256):
                value = table.publish(n, key)
                if value is None:
                    largest_suppressed = max(largest_suppressed, n)
                else:
                    assert value - spread > 7, (table.maximum, n, value)
                    low, high = table.bounds(value)
                    assert (low, high) == (value - spread, value + spread)
                    assert low <= n <= high
        assert table.bounds(None) == (1, largest_suppressed)
    # Without adjustment the rule is the NHS one alone: 8 is shown as 10, 1 to 7 suppressed.
    assert (NO_ADJUSTMENT.smallest, NO_ADJUSTMENT.bounds(None)) == (10, (1, 7))
    assert NO_ADJUSTMENT.bounds(10) == (8, 12)


def test_a_cell_key_is_the_sum_of_record_keys_so_every_table_agrees():
    """Two reports that count the same records give them the same key, so the same value."""
    keys = [random.Random(5).randrange(256) for _ in range(17)]
    as_one = sum(keys) % 256
    in_parts = (sum(keys[:9]) + sum(keys[9:])) % 256
    assert TABLE.publish(17, as_one) == TABLE.publish(17, in_parts)


def _table(rows, totals):
    return Report(
        "test",
        "Test",
        "",
        [
            Column("group", "Group", "dimension"),
            count("n", "N"),
            count("d", "D"),
            percentage("rate", "Rate", "n", "d"),
            statistic("median", "Median", "days", "n"),
        ],
        rows,
        totals,
    )


def test_rates_come_from_the_published_counts_and_statistics_need_eight_values():
    report = publish(
        _table(
            [
                {"group": "a", "n": 13, "d": 22, "median": 4.25},
                {"group": "b", "n": 3, "d": 40, "median": 9.0},
                {"group": "c", "n": 0, "d": 0, "median": None},
            ],
            [{"group": None, "n": 16, "d": 62, "median": 5.0}],
        ),
        controlled=True,
        table=NO_ADJUSTMENT,
    )
    a, b, c = report.rows
    # (No adjustment, to show the rounding alone.) 13 -> 15 and 22 -> 20: the rate is
    # 15/20, not the true 13/22 (59.1%).
    assert (a["n"], a["d"], a["rate"], a["median"], a["suppressed"]) == (15, 20, 75.0, 4.2, [])
    assert (b["n"], b["d"], b["rate"], b["median"]) == (None, 40, None, None)
    assert sorted(b["suppressed"]) == ["median", "n", "rate"]
    assert (c["n"], c["d"], c["rate"], c["suppressed"]) == (0, 0, None, [])
    total = report.totals[0]
    # The total is the true 16 rounded (15), not the sum of the published cells (15 + 0 + 0).
    assert (total["n"], total["d"], total["rate"]) == (15, 60, 25.0)


def test_an_unsuppressed_caller_gets_true_counts_and_rates():
    report = publish(_table([{"group": "a", "n": 3, "d": 22, "median": 4.25}], []), False)
    assert report.rows[0] == {
        "group": "a",
        "n": 3,
        "d": 22,
        "rate": 13.6,
        "median": 4.2,
        "suppressed": [],
    }
    assert report.notes[-1].startswith("UNSUPPRESSED")


def _possible_values(published: int | None, suppressed: bool) -> tuple[int, int]:
    """What a reader can say about a cell, as the lowest and highest whole number it can be: a
    suppressed cell is 1 or more; a cell shown as 15 is 9 to 21 (the rounding and an adjustment
    of up to 4)."""
    if suppressed:
        return 1, 60
    low, high = TABLE.bounds(published)
    return low, high or 120


def test_no_suppressed_cell_can_be_worked_out_from_a_total_and_the_other_cells():
    """Every split of a total into two cells that may be shown and one small cell: whatever
    is published, a reader who subtracts is left with at least two values for the small one."""
    columns = [Column("group", "Group", "dimension"), count("n", "N")]
    draw = random.Random(7)
    for first, second in itertools.product(range(0, 41), repeat=2):
        for hidden in range(1, 8):
            cells = {"a": first, "b": second, "c": hidden}
            keys = {g: draw.randrange(256) for g in cells}
            report = publish(
                Report(
                    "test",
                    "Test",
                    "",
                    columns,
                    [{"group": g, "n": n, key_of("n"): keys[g]} for g, n in cells.items()],
                    [{"group": None, "n": sum(cells.values()), key_of("n"): sum(keys.values())}],
                    group_columns=("group",),
                ),
                controlled=True,
            )
            shown = {row["group"]: row for row in report.rows}
            total = report.totals[0]
            assert shown["c"]["n"] is None
            # Each reading is a range of whole numbers, so the sum of the two shown cells is the
            # range from the sum of their lows to the sum of their highs.
            a_low, a_high = _possible_values(shown["a"]["n"], "n" in shown["a"]["suppressed"])
            b_low, b_high = _possible_values(shown["b"]["n"], "n" in shown["b"]["suppressed"])
            t_low, t_high = _possible_values(total["n"], "n" in total["suppressed"])
            possible = {
                h
                for h in range(1, 8)
                if a_low + b_low + h <= t_high and t_low <= a_high + b_high + h
            }
            assert hidden in possible
            assert len(possible) >= 2, (cells, report.rows, total)


def test_the_audit_suppresses_the_smallest_cell_shown_when_a_total_gives_one_away():
    """Without adjustment, 8 + 8 + 1 = 17 is shown as 10, 10 and a total of 15: the cells
    shown are at least 8 each, so the suppressed one could only be 1. The audit suppresses one
    of the 10s as well (with the cell key method the ranges are wide enough that it rarely
    has to)."""
    report = publish(
        Report(
            "test",
            "Test",
            "",
            [Column("group", "Group", "dimension"), count("n", "N")],
            [{"group": "a", "n": 8}, {"group": "b", "n": 8}, {"group": "c", "n": 1}],
            [{"group": None, "n": 17}],
            group_columns=("group",),
        ),
        controlled=True,
        table=NO_ADJUSTMENT,
    )
    assert [row["n"] for row in report.rows] == [None, 10, None]
    assert report.rows[0]["suppressed"] == ["n"]
    assert report.totals[0]["n"] == 15


async def test_suppression_edge_cases_through_the_api(load, report, client):
    dataset = Dataset()
    # care-navigator 1, community-connector 7, health-and-wellbeing-coach 8, care-coordinator 0.
    for role, number in (
        ("care-navigator", 1),
        ("community-connector", 7),
        ("health-and-wellbeing-coach", 8),
    ):
        for _ in range(number):
            dataset.referral(role=role, details=Person())
    await load(dataset)
    body = await report("referrals", group_by="role")
    rows = {row["role"]: row for row in body["rows"]}
    assert rows["care-navigator"]["referrals"] is None
    assert rows["care-navigator"]["suppressed"] == ["referrals", "people"]
    assert rows["community-connector"]["referrals"] is None
    # 8: adjusted by -4 to +4 it is at most 12, which would round to 10: suppressed.
    assert rows["health-and-wellbeing-coach"]["referrals"] is None
    assert "care-coordinator" not in rows
    # 16, adjusted to 12 to 20: suppressed below 13, else rounded to 15 or 20.
    assert body["totals"][0]["referrals"] in (None, 15, 20)
    assert body["disclosure"]["controlled"] is True
    none = await report("referrals", role="care-coordinator")
    assert none["totals"][0]["referrals"] == 0 and none["totals"][0]["suppressed"] == []

    true = await report("referrals", unsuppressed=True, group_by="role")
    assert {r["role"]: r["referrals"] for r in true["rows"]} == {
        "care-navigator": 1,
        "community-connector": 7,
        "health-and-wellbeing-coach": 8,
    }
    assert true["disclosure"]["controlled"] is False
    controlled = await report(
        "referrals", unsuppressed=True, group_by="role", disclosure="controlled"
    )
    assert controlled["rows"] == body["rows"]


async def test_differencing_two_reports_does_not_reveal_a_single_referral(load, report):
    """The one care-navigator referral is suppressed; asking for everything and for everything
    but care navigators gives two totals each known only within 6, so their difference
    leaves many values for the suppressed cell."""
    dataset = Dataset()
    dataset.referral(role="care-navigator", details=Person())
    for _ in range(15):
        dataset.referral(role="community-connector", details=Person())
    await load(dataset)
    everything = await report("referrals")
    without = await report("referrals", role="community-connector")
    high_all = TABLE.bounds(everything["totals"][0]["referrals"])[1] or 0
    low_without = TABLE.bounds(without["totals"][0]["referrals"])[0]
    assert high_all >= 16 and low_without <= 15
    assert high_all - low_without >= 2  # at least 1 and 2 are possible for care navigators
    by_role = await report("referrals", group_by="role")
    shown = {r["role"]: r["referrals"] for r in by_role["rows"]}
    assert shown["care-navigator"] is None
    # The same 15 records: the same published value wherever they are counted.
    assert shown["community-connector"] == without["totals"][0]["referrals"]


async def test_the_disclosure_header_and_note_say_which_form_was_served(load, client):
    await load(Dataset())
    controlled = await client.get("/reports/referrals", headers=REPORTS)
    assert controlled.headers["x-disclosure-control"] == "controlled"
    assert "suppressed" in controlled.json()["disclosure"]["rule"]
    uncontrolled = await client.get("/reports/referrals", headers=UNSUPPRESSED)
    assert uncontrolled.headers["x-disclosure-control"] == "none"
    assert uncontrolled.json()["disclosure"]["rule"].startswith("UNSUPPRESSED")
    assert controlled.headers["cache-control"] == "no-store"


def test_the_audit_protects_each_category_under_its_own_total():
    """Per-reason totals over three groups: housing 20 + 20 + 1 = 41 gives nothing away, money
    8 + 8 + 1 = 17 does (as above). Money's small cell is protected by its own total even
    though housing's total, audited first, needed no more suppression."""
    split = {"housing": (20, 20, 1), "money": (8, 8, 1)}
    rows = [
        {"group": group, "reason": reason, "n": n}
        for reason, counts in split.items()
        for group, n in zip(("a", "b", "c"), counts, strict=True)
    ]
    report = publish(
        Report(
            "test",
            "Test",
            "",
            [
                Column("group", "Group", "dimension"),
                Column("reason", "Reason", "dimension"),
                count("n", "N"),
            ],
            rows,
            [{"group": None, "reason": r, "n": sum(counts)} for r, counts in split.items()],
            group_columns=("group",),
            one_category_each=True,
        ),
        controlled=True,
        table=NO_ADJUSTMENT,
    )
    shown = {(row["reason"], row["group"]): row["n"] for row in report.rows}
    assert [shown["housing", g] for g in "abc"] == [20, 20, None]
    assert [shown["money", g] for g in "abc"] == [None, 10, None]


async def test_people_carry_each_persons_tag_once_however_they_are_counted(load, referral_app):
    """The cell key of a count of people sums each person's tag once (docs/reports.md), even
    when two people share a tag: the same from the previous-month counts (whole months,
    unfiltered), the distinct counts (a range from mid-month, or a filter) and the
    definition, so the same people are published alike in every breakdown."""
    d = Dataset()
    for person in ("ann", "bob"):
        first = d.referral(authored="2026-03-02", person=person)
        # Another role three days later: a parallel referral (the re-referrals report).
        later = d.referral(authored="2026-03-05", person=person, role="care-navigator")
        d.link(first, later, "concurrent-other-role")
    d.referral(authored="2026-03-21", person="cy")
    await load(d)
    assert await referral_app.state.report_facts.refresh() == 5
    shared_tag = 1_000  # Ann's and Bob's: 1,000 twice is 208 modulo 256, once 232
    pseudonyms = await fetch_rows(
        referral_app,
        "SELECT DISTINCT person_key FROM report_referral WHERE shared_person = 1",
    )
    # Negative pseudonyms too, the lowest of all included.
    for (old,), new in zip(
        (tuple(row.values()) for row in pseudonyms), (-(2**63), -12_345), strict=True
    ):
        await execute_sql(
            referral_app,
            "UPDATE report_referral SET person_tag = :tag, person_key = :new "
            "WHERE person_key = :old",
            tag=shared_tag,
            new=new,
            old=old,
        )
    [cy] = await fetch_rows(
        referral_app, "SELECT person_tag FROM report_referral WHERE shared_person = 0"
    )
    expected = (2 * shared_tag + cy["person_tag"]) % KEY_SPACE
    role = "care-navigator"
    queries = {
        "whole months": ReportQuery(first_day=date(2026, 3, 1)),
        "whole months, by role": ReportQuery(first_day=date(2026, 3, 1), group_by=("role",)),
        "from mid-month": ReportQuery(first_day=date(2026, 3, 2), group_by=("role",)),
        "filtered": ReportQuery(filters={"role": (role,)}),
    }
    async with referral_app.state.database.sessionmaker() as session:
        for name, query in queries.items():
            rows, total = await ReportRepository(session).referral_counts(query, people=True)
            for counted in (*rows, total):
                # Navigators: Ann and Bob; everyone else (and in all): Cy too.
                navigators = counted.get("role") == role or name == "filtered"
                people, key = (2, 2 * shared_tag % KEY_SPACE) if navigators else (3, expected)
                assert (counted["people"], cell_key(counted[key_of("people")])) == (
                    people,
                    key,
                ), name
        # People with a parallel referral (the re-referrals report): Ann and Bob.
        _, total = await ReportRepository(session).linkage(ReportQuery(group_by=("role",)))
        assert total["people_in_parallel"] == 2
        assert cell_key(total[key_of("people_in_parallel")]) == 2 * shared_tag % KEY_SPACE


def test_ranked_rows_keep_each_groups_largest_published_values_in_order_ties_by_their_values():
    """`rank` with a limit keeps, per group in the order groups first appear, the rows with the
    largest published measure, suppressed (None) last, ties by their tie values with "not
    recorded" (None) last, and no more than the limit; without one it orders every row."""
    rows = [
        {"sender": "B", "code": "x", "referrals": 15},
        {"sender": "A", "code": "p", "referrals": None},
        {"sender": "A", "code": "q", "referrals": 20},
        {"sender": "B", "code": "y", "referrals": 40},
        {"sender": "A", "code": None, "referrals": 30},
        {"sender": "A", "code": "s", "referrals": 30},
        {"sender": "B", "code": "z", "referrals": 25},
        {"sender": "A", "code": "r", "referrals": 30},
    ]
    shown = [
        (row["sender"], row["code"])
        for row in rank(rows, ["sender"], "referrals", limit=3, ties=["code"])
    ]
    assert shown == [("B", "y"), ("B", "z"), ("B", "x"), ("A", "r"), ("A", "s"), ("A", None)]
    every = [
        (row["sender"], row["code"]) for row in rank(rows, ["sender"], "referrals", ties=["code"])
    ]
    assert every == [*shown, ("A", "q"), ("A", "p")]
    assert [row["code"] for row in rank(rows, [], "referrals", limit=2, ties=["code"])] == [
        "y",
        "r",
    ]
