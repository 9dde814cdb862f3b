"""Disclosure control: suppression of 1-7, rounding to 5, totals from true figures, and why
differencing published figures cannot recover a suppressed count."""

import itertools

from referral_api.reports.disclosure import publish
from referral_api.reports.tables import Column, Report, count, percentage, statistic
from signpost_schemas.disclosure import publish_count
from tests.reports.conftest import REPORTS, UNSUPPRESSED
from tests.support.reports import Dataset, Person


def test_counts_of_one_to_seven_are_suppressed_and_others_rounded_to_five():
    published = {n: publish_count(n) for n in (0, 1, 2, 7, 8, 9, 12, 13, 17, 18, 100, 102, 103)}
    assert published == {
        0: 0,
        1: None,
        2: None,
        7: None,
        8: 10,
        9: 10,
        12: 10,
        13: 15,
        17: 15,
        18: 20,
        100: 100,
        102: 100,
        103: 105,
    }


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
    )
    a, b, c = report.rows
    # 13 -> 15 and 22 -> 20: the rate is 15/20, not the true 13/22 (59.1%).
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


def _possible_values(published: int | None, suppressed: bool) -> set[int]:
    """What a reader can say about a cell: a suppressed cell is 1 to 7 (or, suppressed by the
    audit, 8 or more); a cell shown as 10 is 8 to 12."""
    if suppressed:
        return set(range(1, 61))
    return {n for n in range(0, 121) if publish_count(n) == published}


def test_no_suppressed_cell_can_be_worked_out_from_a_total_and_the_other_cells():
    """Every split of a total into two cells that may be shown and one small cell: whatever
    is published, a reader who subtracts is left with at least two values for the small one."""
    columns = [Column("group", "Group", "dimension"), count("n", "N")]
    for first, second in itertools.product(range(0, 41), repeat=2):
        for hidden in range(1, 8):
            cells = {"a": first, "b": second, "c": hidden}
            report = publish(
                Report(
                    "test",
                    "Test",
                    "",
                    columns,
                    [{"group": g, "n": n} for g, n in cells.items()],
                    [{"group": None, "n": sum(cells.values())}],
                    group_columns=("group",),
                ),
                controlled=True,
            )
            shown = {row["group"]: row for row in report.rows}
            total = report.totals[0]
            assert shown["c"]["n"] is None
            sums = {0}
            for group in ("a", "b"):
                values = _possible_values(shown[group]["n"], "n" in shown[group]["suppressed"])
                sums = {s + v for s in sums for v in values}
            totals = _possible_values(total["n"], "n" in total["suppressed"])
            possible = {h for h in range(1, 8) if any(s + h in totals for s in sums)}
            assert hidden in possible
            assert len(possible) >= 2, (cells, report.rows, total)


def test_the_audit_suppresses_the_smallest_cell_shown_when_a_total_gives_one_away():
    """8 + 8 + 1 = 17: shown as 10, 10 and a total of 15, the cells shown are at least 8
    each, so the suppressed one could only be 1. One of the 10s is suppressed as well."""
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
    assert rows["health-and-wellbeing-coach"]["referrals"] == 10
    assert "care-coordinator" not in rows
    assert body["totals"][0]["referrals"] == 15  # 16 rounded
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
    but care navigators gives the same published total, so the difference says nothing."""
    dataset = Dataset()
    dataset.referral(role="care-navigator", details=Person())
    for _ in range(15):
        dataset.referral(role="community-connector", details=Person())
    await load(dataset)
    everything = await report("referrals")
    without = await report("referrals", role="community-connector")
    assert everything["totals"][0]["referrals"] == 15  # 16
    assert without["totals"][0]["referrals"] == 15  # 15
    by_role = await report("referrals", group_by="role")
    shown = {r["role"]: r["referrals"] for r in by_role["rows"]}
    assert shown == {"care-navigator": None, "community-connector": 15}
    assert by_role["totals"][0]["referrals"] - shown["community-connector"] == 0


async def test_the_disclosure_header_and_note_say_which_form_was_served(load, client):
    await load(Dataset())
    controlled = await client.get("/reports/referrals", headers=REPORTS)
    assert controlled.headers["x-disclosure-control"] == "controlled"
    assert "suppressed" in controlled.json()["disclosure"]["rule"]
    uncontrolled = await client.get("/reports/referrals", headers=UNSUPPRESSED)
    assert uncontrolled.headers["x-disclosure-control"] == "none"
    assert uncontrolled.json()["disclosure"]["rule"].startswith("UNSUPPRESSED")
    assert controlled.headers["cache-control"] == "no-store"
